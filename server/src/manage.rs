//! The agency's manage area (`/{agency}/manage/…`), for agency staff.

mod api_tokens;
mod audit;
mod home;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage", get(home::page))
        .route("/manage/audit", get(audit::page))
        .route(
            "/manage/api-tokens",
            get(api_tokens::page).post(api_tokens::create),
        )
        .route("/manage/api-tokens/{id}/revoke", post(api_tokens::revoke))
}
