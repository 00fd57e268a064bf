//! The agency's email outbox: what was sent, what waits for a retry, what failed and why,
//! and sending one again.

use axum::response::Html;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::agency::Agency;
use crate::db::outbox::{self, Filter, Page, Status};
use crate::error::{AppError, AppResult};

/// The outbox page's query string: `?q=&status=&page=&size=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Page numbers and counts for the pagination component.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pager {
    pub number: u32,
    pub size: u32,
    pub pages: i64,
    pub total: i64,
    /// Positions (from 1) of the first and last row shown.
    pub first: i64,
    pub last: i64,
}

impl Pager {
    pub fn new(page: Page, total: i64, shown: usize) -> Self {
        let size = i64::from(page.size);
        let first = (i64::from(page.number) - 1) * size + 1;
        Self {
            number: page.number,
            size: page.size,
            pages: (total + size - 1) / size,
            total,
            first,
            last: first + i64::try_from(shown).unwrap_or(0) - 1,
        }
    }
}

/// Renders `manage/outbox.html` for an agency admin. `notice` is a message from the action
/// that led here (such as a resend); `csrf_token` goes into the resend forms.
pub async fn outbox_page(
    agency: &Agency,
    pool: &AnyPool,
    query: OutboxQuery,
    notice: Option<&str>,
    csrf_token: Option<&str>,
) -> AppResult<Html<String>> {
    let status = query.status.as_deref().and_then(Status::parse);
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let filter = Filter {
        status,
        search: search.clone(),
    };
    let page = Page::new(query.page, query.size);
    let listing = outbox::list(pool, agency.id, &filter, page).await?;
    let pager = Pager::new(page, listing.total, listing.entries.len());
    // Filters carried into the page links; values are URL-encoded by the template filter.
    let base_query = outbox_query_prefix(search.as_deref(), status, page.size);
    agency.render(
        "manage/outbox.html",
        context! {
            nav => "outbox",
            entries => Value::from(Serde(&listing.entries)),
            pager => Value::from(Serde(pager)),
            page_sizes => Page::SIZES,
            filter => context! { search => search, status => status.map(Status::as_str) },
            base_query => base_query,
            notice => notice,
            csrf_token => csrf_token,
            portal_disabled_notice => crate::mail::PORTAL_DISABLED_NOTICE,
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

/// Queues one of the agency's emails again and says what happened, for the page's banner.
/// A disabled portal sends nothing, and the message says so.
pub async fn resend_email(agency: &Agency, pool: &AnyPool, id: i64) -> AppResult<&'static str> {
    if !agency.config.portal_enabled {
        return Err(AppError::BadRequest(
            crate::mail::PORTAL_DISABLED_NOTICE.to_owned(),
        ));
    }
    match outbox::resend(pool, agency.id, id).await? {
        Some(_) => Ok("The email is queued and will be sent in a moment."),
        None => Err(AppError::NotFound),
    }
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
