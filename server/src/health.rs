//! `/healthz` (the process answers) and `/readyz` (it can serve: database reachable, every
//! agency's theme and plugins loaded) for load balancers and orchestrators. `/readyz` also
//! lists the loaded plugins with their call and error counts (`portal plugin list --server`).

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
        .route("/metrics", get(crate::metrics::page))
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
