//! The agency's email outbox: what was sent, what waits for a retry, what failed and why,
//! and sending one again.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Deserialize;
use sqlx::AnyPool;

use crate::auth::{ClientIp, SignedIn, StaffAdmin, audit_actor};
use crate::db::audit::{self, Target};
use crate::db::outbox::{self, Filter, Page, Status};
use crate::error::{AppError, AppResult};
use crate::paging::Pager;
use crate::state::AppState;

/// The outbox page's query string: `?q=&status=&page=&size=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
    /// Set by the redirect after a resend, to show that it worked.
    #[serde(default)]
    pub resent: bool,
}

/// `GET /{agency}/manage/outbox`: the agency's email, newest first, filtered and paged.
pub async fn page(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<OutboxQuery>,
) -> AppResult<Response> {
    let notice = query.resent.then_some(RESENT_NOTICE);
    Ok(render(&state.db().pool, &me, query, notice)
        .await?
        .into_response())
}

const RESENT_NOTICE: &str = "The email is queued and will be sent in a moment.";

/// Renders `manage/outbox.html` for a signed-in admin; `notice` is a message from the action
/// that led here.
async fn render(
    pool: &AnyPool,
    me: &SignedIn,
    query: OutboxQuery,
    notice: Option<&str>,
) -> AppResult<Html<String>> {
    let agency = &me.agency;
    let status = query.status.as_deref().and_then(Status::parse);
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let filter = Filter {
        status,
        search: search.clone(),
    };
    let page = Page::new(query.page, query.size);
    let listing = outbox::list(pool, agency.id, &filter, page).await?;
    let pager = Pager::new(page, listing.total, listing.entries.len());
    let base_query = outbox_query_prefix(search.as_deref(), status, page.size);
    agency.render(
        "manage/outbox.html",
        context! {
            area => "manage", title => "Email", nav => "outbox",
            csrf_token => me.csrf_token(), user => &me.account.name, is_admin => true,
            entries => Value::from(Serde(&listing.entries)),
            pager => Value::from(Serde(pager)),
            page_sizes => Page::SIZES,
            filter => context! { search => search, status => status.map(Status::as_str) },
            base_query => base_query,
            notice => notice,
            portal_disabled_notice => crate::mail::PORTAL_DISABLED_NOTICE,
            portal_enabled => me.settings.portal_enabled,
        },
    )
}

/// `q=…&status=…&size=…&`, ready for `page=N` to be appended.
fn outbox_query_prefix(search: Option<&str>, status: Option<Status>, size: u32) -> String {
    let mut query = String::new();
    if let Some(search) = search {
        query.push_str("q=");
        query.push_str(&encode_query_value(search));
        query.push('&');
    }
    if let Some(status) = status {
        query.push_str("status=");
        query.push_str(status.as_str());
        query.push('&');
    }
    query.push_str(&format!("size={size}&"));
    query
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /{agency}/manage/outbox/{id}/resend`: queues one of the agency's emails again
/// (audited), then back to the list. A disabled portal sends nothing, and the page says so.
pub async fn resend(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let agency = &me.agency;
    if !me.settings.portal_enabled {
        return Err(AppError::BadRequest(
            crate::mail::PORTAL_DISABLED_NOTICE.to_owned(),
        ));
    }
    let pool = &state.db().pool;
    let queued = outbox::resend(pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let target = Target {
        kind: Some("email"),
        id: Some(queued),
        label: None,
    };
    audit::record(pool, agency.id, actor, "email resent", target, "").await?;
    Ok(crate::redirect::to(&format!("/{}/manage/outbox?resent=true", agency.slug)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_counts_pages_and_rows() {
        let pager = Pager::new(Page::new(Some(2), Some(10)), 25, 10);
        assert_eq!((pager.pages, pager.first, pager.last), (3, 11, 20));
        let empty = Pager::new(Page::new(None, None), 0, 0);
        assert_eq!((empty.pages, empty.total), (0, 0));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            outbox_query_prefix(Some("a b&c"), Some(Status::Failed), 25),
            "q=a%20b%26c&status=failed&size=25&"
        );
    }
}
