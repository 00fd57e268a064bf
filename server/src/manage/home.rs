//! The manage area's start page.

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use crate::auth::StaffSession;
use crate::error::AppResult;

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(
    StaffSession(me): StaffSession,
    Query(query): Query<HomeQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("preview-ended") => Some("The preview has ended."),
        _ => None,
    };
    Ok(me
        .agency
        .render(
            "manage/home.html",
            context! {
                area => "manage", title => "Overview", csrf_token => me.csrf_token(),
                user => &me.account.name, is_admin => me.account.role_id == "admin", notice,
            },
        )?
        .into_response())
}
