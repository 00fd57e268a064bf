//! The agency side (`/{agency}/manage/…`): pages for agency staff.
//!
//! The pages here render and act for an agency admin the caller has already identified; the
//! routes that call them take the staff-admin extractor, so none is reachable without it.

pub mod branding;
pub mod outbox;
