//! In-process tests of the whole router against a fresh database (SQLite, or PostgreSQL with
//! `PORTAL_TEST_DATABASE=postgres`).

mod agencies;
mod api_clients;
mod api_portal_users;
mod api_tokens;
mod auth;
mod clients;
mod demo;
mod mail;
mod mfa;
mod pages;
mod plugin_reload;
mod plugin_sandbox;
mod plugins;
mod portal_users;
mod portal_users_import;
mod staff;
mod support;
mod themes;
