//! The JSON API for agencies' back-office systems: `/api/v1/{agency}/…` with an API token.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::api_tokens::ApiClient;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/{agency}/token", get(token))
}

/// Which agency and token a request authenticates as: a first call to check a set-up.
async fn token(client: ApiClient) -> Json<Value> {
    Json(json!({
        "agency": { "slug": client.agency.slug, "name": client.agency.config.display_name },
        "token": { "name": client.token.name, "prefix": client.token.prefix },
    }))
}
