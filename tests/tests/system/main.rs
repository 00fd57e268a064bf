//! The real `portal` binary: configuration errors, serving over HTTP, several processes on one
//! database, and the pages in headless Chromium.

mod browser;
mod browser_clients;
mod browser_portal_users;
mod config_env;
mod config_errors;
mod crash;
mod database_restart;
mod hostile_input;
mod import_cli;
mod mail;
mod plugin_cli;
mod portal_browser;
mod scale_out;
mod serving;
mod users_cli;
mod workspace_browser;
