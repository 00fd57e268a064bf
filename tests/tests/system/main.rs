//! The real `portal` binary: configuration errors, serving over HTTP, several processes on one
//! database, and the pages in headless Chromium.

mod browser;
mod config_errors;
mod import_cli;
mod mail;
mod plugin_cli;
mod serving;
