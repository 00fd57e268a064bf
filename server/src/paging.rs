//! The numbers a paged list shows around its rows (page n of m, rows a–b of total), for every
//! list page of the manage area and the portal.

use minijinja::context;
use serde::Serialize;

use crate::db::outbox::Page;

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

/// The links of a list's sortable column headers: each sorts by its column ascending, or
/// reverses the current one; `aria` is the header's `aria-sort`. `keep` is the query string
/// the links carry (ending in `&`).
pub fn sort_links<'a>(
    columns: impl IntoIterator<Item = &'a str>,
    current: &str,
    descending: bool,
    keep: &str,
    size: u32,
) -> Vec<minijinja::Value> {
    columns
        .into_iter()
        .map(|name| {
            let is_current = name == current;
            let dir = if is_current && !descending {
                "desc"
            } else {
                "asc"
            };
            let aria = match (is_current, descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            };
            let href = format!("?{keep}sort={name}&dir={dir}&size={size}");
            context! { name, link => context! { href, aria } }
        })
        .collect()
}
