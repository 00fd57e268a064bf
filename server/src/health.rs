//! `/healthz` (the process answers) and `/readyz` (it can serve: database reachable, every
//! agency's theme and plugins loaded) for load balancers and orchestrators. `/readyz` also
//! lists the loaded plugins with their call and error counts (`portal plugin list --server`).
//! `/.well-known/security.txt` (RFC 9116) says where to report a vulnerability.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::page))
        .route("/.well-known/security.txt", get(security_txt))
}

/// The installation's security contacts (`security.contact`), valid for 90 days from now so
/// the file never states a stale expiry; 404 when none is configured.
async fn security_txt(State(state): State<AppState>) -> Result<Response, crate::error::AppError> {
    let settings = state.settings();
    let contacts = &settings.security.contact;
    if contacts.is_empty() {
        return Err(crate::error::AppError::NotFound);
    }
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|err| crate::error::AppError::Internal(err.into()))?;
    let mut text = String::new();
    for contact in contacts {
        text.push_str(&format!("Contact: {contact}\n"));
    }
    text.push_str(&format!(
        "Expires: {expires}\nPreferred-Languages: en\nCanonical: {}/.well-known/security.txt\n",
        settings.server.public_url.trim_end_matches('/')
    ));
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.db().ping().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => {
            tracing::warn!(%err, "readiness: database unreachable");
            "unreachable".to_owned()
        }
    };
    let agencies = state.agencies().count();
    let plugins: Vec<_> = state
        .plugins()
        .loaded()
        .iter()
        .map(|plugin| {
            let (calls, errors) = plugin.counters.read();
            json!({
                "id": plugin.id(),
                "version": plugin.version(),
                "calls": calls,
                "errors": errors,
            })
        })
        .collect();
    let ready = database == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "database": database,
        "backend": state.db().backend.name(),
        "agencies": agencies,
        "themes": "loaded",
        "plugins": plugins,
    });
    (status, Json(body)).into_response()
}
