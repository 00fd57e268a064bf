//! In-process tests of the whole router against a fresh database (SQLite, or PostgreSQL with
//! `PORTAL_TEST_DATABASE=postgres`).

mod agencies;
mod api_tokens;
mod auth;
mod demo;
mod mail;
mod mfa;
mod pages;
mod support;
mod themes;
