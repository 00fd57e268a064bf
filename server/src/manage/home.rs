//! The manage area's start page: what needs attention now, per client and in total, each
//! figure a link to the list it counts (see [`crate::attention`]).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::page_with_status;
use crate::attention;
use crate::auth::StaffSession;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<HomeQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("preview-ended") => Some("The preview has ended."),
        _ => None,
    };
    let attention = attention::gather(&state, &me.agency).await?;
    page_with_status(
        &me,
        StatusCode::OK,
        "manage/home.html",
        "home",
        context! { title => "Overview", notice, attention => Serde(attention) },
    )
}
