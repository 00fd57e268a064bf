//! The agency's manage area (`/{agency}/manage/…`), for agency staff.

mod api_tokens;
mod audit;
pub mod branding;
mod home;
pub mod outbox;

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
        .route("/manage/outbox", get(outbox::page))
        .route("/manage/outbox/{id}/resend", post(outbox::resend))
        .route("/manage/branding", get(branding::page))
        .route("/manage/branding/sign-in", get(branding::sign_in))
        .route(
            "/manage/branding/emails/{template}",
            get(branding::email_page),
        )
        .route(
            "/manage/branding/emails/{template}/html",
            get(branding::email_html),
        )
}
