//! The agency's manage area (`/{agency}/manage/…`), for agency staff.

mod audit;
mod home;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage", get(home::page))
        .route("/manage/audit", get(audit::page))
}
