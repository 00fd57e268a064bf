//! Documents the agency shared with the client: the list and each file's download.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use crate::app::AppState;
use crate::db::documents;
use crate::error::{AppError, AppResult};
use crate::plugins::Permission;

pub async fn list(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    portal.require(Permission::ViewDocuments)?;
    let rows =
        documents::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    portal
        .render(
            &state,
            "portal/documents.html",
            "documents",
            context! { title => "Documents", documents => Serde(rows) },
        )
        .await
}

pub async fn download(
    State(state): State<AppState>,
    portal: Portal,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewDocuments)?;
    let file = documents::file_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::downloads::download(
        &file.file_name,
        &file.mime_type,
        Body::from(file.content),
    ))
}
