//! The JSON API for agencies' back-office systems: `/api/v1/{agency}/…` with an API token.

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::api_tokens::ApiClient;

mod clients;
pub mod portal_users;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{agency}/token", get(token))
        .route(
            "/api/v1/{agency}/clients",
            get(clients::list).post(clients::add),
        )
        .route(
            "/api/v1/{agency}/clients/{id}",
            get(clients::show).put(clients::replace),
        )
        .route(
            "/api/v1/{agency}/portal-users",
            get(portal_users::list).post(portal_users::create),
        )
        .route(
            "/api/v1/{agency}/portal-users/bulk",
            post(portal_users::bulk),
        )
        .route(
            "/api/v1/{agency}/portal-users/import",
            post(portal_users::import),
        )
        .route(
            "/api/v1/{agency}/portal-users/export",
            get(portal_users::export),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}",
            get(portal_users::show)
                .put(portal_users::update)
                .delete(portal_users::delete),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}/deactivate",
            post(portal_users::deactivate),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}/reactivate",
            post(portal_users::reactivate),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}/password",
            post(portal_users::set_password),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}/reset-link",
            post(portal_users::reset_link),
        )
        .route(
            "/api/v1/{agency}/portal-users/{id}/resend",
            post(portal_users::resend),
        )
}

/// Which agency and token a request authenticates as: a first call to check a set-up.
async fn token(client: ApiClient) -> Json<Value> {
    Json(json!({
        "agency": { "slug": client.agency.slug, "name": client.agency.config.display_name },
        "token": { "name": client.token.name, "prefix": client.token.prefix },
    }))
}
