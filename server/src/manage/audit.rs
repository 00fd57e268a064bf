//! The audit log, for agency admins: who did what, when, from where.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use crate::auth::StaffAdmin;
use crate::db::audit::{self, AuditFilter};
use crate::error::AppResult;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;
/// Pages past this are refused by clamping: far beyond any log, and far from overflowing.
const LAST_PAGE: i64 = 1_000_000;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(flatten)]
    filter: AuditFilter,
    #[serde(default)]
    page: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let page = query.page.unwrap_or(1).clamp(1, LAST_PAGE);
    let offset = (page - 1) * PAGE_SIZE;
    // One more than a page tells whether a next page exists.
    let mut entries = audit::list(
        &state.db().pool,
        me.agency.id,
        &query.filter,
        PAGE_SIZE + 1,
        offset,
    )
    .await?;
    let has_next = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    Ok(me
        .agency
        .render(
            "manage/audit.html",
            context! {
                area => "manage", title => "Audit log", csrf_token => me.csrf_token(),
                user => &me.account.name, is_admin => true, page,
                entries => minijinja::value::Serde(&entries),
                has_next, action => &query.filter.action, actor => &query.filter.actor,
            },
        )?
        .into_response())
}
