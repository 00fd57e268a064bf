//! The numbers a paged list shows around its rows (page n of m, rows a–b of total), for every
//! list page of the manage area and the portal.

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
