//! The agency's manage area (`/{agency}/manage/…`), for agency staff.

mod api_tokens;
mod audit;
pub mod branding;
pub mod clients;
mod home;
mod import;
pub mod outbox;
mod staff;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage", get(home::page))
        .route("/manage/audit", get(audit::page))
        .route("/manage/staff", get(staff::list).post(staff::invite))
        .route("/manage/staff/{id}/role", post(staff::change_role))
        .route("/manage/staff/{id}/deactivate", post(staff::deactivate))
        .route("/manage/staff/{id}/reactivate", post(staff::reactivate))
        .route("/manage/clients", get(clients::list))
        .route(
            "/manage/clients/new",
            get(clients::new_form).post(clients::new_submit),
        )
        .route(
            "/manage/clients/{id}",
            get(clients::show).post(clients::update),
        )
        .route("/manage/clients/{id}/archive", post(clients::archive))
        .route("/manage/clients/{id}/restore", post(clients::restore))
        .route("/manage/clients/{id}/delete", post(clients::delete))
        .route(
            "/manage/clients/{id}/worksites",
            post(clients::add_worksite),
        )
        .route(
            "/manage/clients/{id}/worksites/{worksite}/delete",
            post(clients::remove_worksite),
        )
        .route(
            "/manage/api-tokens",
            get(api_tokens::page).post(api_tokens::create),
        )
        .route("/manage/api-tokens/{id}/revoke", post(api_tokens::revoke))
        .route("/manage/import", get(import::page).post(import::submit))
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
