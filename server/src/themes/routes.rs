//! `/{agency}/assets/{hash}/{*path}`: theme and branding files.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::agency::CurrentAgency;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/{hash}/{*path}", get(asset))
}

async fn asset(
    agency: CurrentAgency,
    Path((_agency, hash, path)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (asset, current) = agency
        .theme
        .assets
        .lookup(&hash, &path)
        .ok_or(AppError::NotFound)?;
    let bytes = asset
        .bytes()
        .await
        .map_err(|err| anyhow::anyhow!("cannot read asset {path}: {err}"))?;
    // A hashed URL names one version of the file for ever; anything else must be revalidated.
    let cache = if current && !agency.theme.dev_mode {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}
