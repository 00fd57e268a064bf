//! `/healthz` (the process answers) and `/readyz` (it can serve: database reachable, every
//! agency's theme loaded) for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
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
    });
    (status, Json(body)).into_response()
}
