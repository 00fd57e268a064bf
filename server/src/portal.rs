//! The client portal (`/{agency}/portal/…`): what a client's contacts sign in for.

mod home;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/portal", get(home::page))
}
