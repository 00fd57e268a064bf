//! In-process tests of the whole router against a fresh database (SQLite, or PostgreSQL with
//! `PORTAL_TEST_DATABASE=postgres`).

mod agencies;
mod demo;
mod pages;
mod plugin_reload;
mod plugin_sandbox;
mod plugins;
mod support;
