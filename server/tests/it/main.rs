//! In-process tests of the whole router against a fresh database (SQLite, or PostgreSQL with
//! `PORTAL_TEST_DATABASE=postgres`).

mod agencies;
mod api_clients;
mod api_tokens;
mod auth;
mod clients;
mod demo;
mod feed_batch;
mod feed_files;
mod feed_import;
mod feed_isolation;
mod feed_support;
mod feed_sync;
mod feed_upserts;
mod mail;
mod mfa;
mod pages;
mod plugin_reload;
mod plugin_sandbox;
mod plugins;
mod staff;
mod support;
mod themes;
