//! Who is on site now at every client, per worksite, and the fire roll to print: what the
//! portal shows each client of its own sites, across all of them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::page_with_status;
use crate::auth::StaffSession;
use crate::db::Timestamp;
use crate::db::clock_events;
use crate::error::AppResult;
use crate::on_site::by_site;
use crate::state::AppState;

async fn render(
    state: &AppState,
    me: &crate::auth::SignedIn,
    template: &str,
) -> AppResult<Response> {
    let rows = clock_events::on_site_everywhere(&state.db().pool, me.agency.id).await?;
    let total = rows.len();
    let sites = by_site(rows);
    page_with_status(
        me,
        StatusCode::OK,
        template,
        "on-site",
        context! {
            title => "On site now", sites => Serde(sites), total,
            printed_at => Timestamp::now().to_string(),
        },
    )
}

/// `GET /{agency}/manage/on-site`.
pub async fn page(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
) -> AppResult<Response> {
    render(&state, &me, "manage/on_site.html").await
}

/// `GET /{agency}/manage/on-site/fire-roll`: every site's list, laid out to print.
pub async fn fire_roll(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
) -> AppResult<Response> {
    render(&state, &me, "manage/fire_roll.html").await
}
