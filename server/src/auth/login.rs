//! Sign-in pages: agency staff at `/{agency}/manage/login`, portal users at
//! `/{agency}/portal/login`. Both are the agency's themed `login.html`.

use axum::Router;
use axum::response::{Html, Redirect};
use axum::routing::get;
use minijinja::context;

use crate::agency::CurrentAgency;
use crate::app::AppState;
use crate::error::AppResult;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/login", get(portal_login))
        .route("/manage/login", get(manage_login))
}

/// `/{agency}` and `/{agency}/` lead to the client portal's sign-in.
pub async fn start_page(agency: CurrentAgency) -> Redirect {
    Redirect::to(&format!("/{}/portal/login", agency.slug))
}

async fn portal_login(agency: CurrentAgency) -> AppResult<Html<String>> {
    agency.render(
        "login.html",
        context! { area => "portal", title => "Sign in to your client portal" },
    )
}

async fn manage_login(agency: CurrentAgency) -> AppResult<Html<String>> {
    agency.render(
        "login.html",
        context! { area => "manage", title => "Staff sign-in" },
    )
}
