//! The manage area's start page.

use axum::response::{IntoResponse, Response};
use minijinja::context;

use crate::auth::StaffSession;
use crate::error::AppResult;

pub async fn page(StaffSession(me): StaffSession) -> AppResult<Response> {
    Ok(me
        .agency
        .render(
            "manage/home.html",
            context! {
                area => "manage", title => "Overview", csrf_token => me.csrf_token(),
                user => &me.account.name, is_admin => me.account.role_id == "admin",
            },
        )?
        .into_response())
}
