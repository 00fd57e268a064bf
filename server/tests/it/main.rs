//! In-process tests of the whole router against a fresh database (SQLite, or PostgreSQL with
//! `PORTAL_TEST_DATABASE=postgres`).

mod agencies;
mod api_clients;
mod api_directory;
mod api_tokens;
mod auth;
mod client_directory;
mod clients;
mod demo;
mod mail;
mod metrics;
mod mfa;
mod pages;
mod plugin_reload;
mod plugin_sandbox;
mod plugins;
mod portal_isolation;
mod portal_pages;
mod portal_pay_rates;
mod portal_support;
mod portal_timesheets;
mod preview;
mod settings;
mod staff;
mod support;
mod themes;
