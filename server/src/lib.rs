//! Portal: a plugin-extensible client portal server for staffing agencies and service
//! businesses. `portal serve` runs [`app::serve`]; everything else is reached from [`cli`].

pub mod agency;
pub mod agency_settings;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clients;
pub mod config;
pub mod contacts;
pub mod dates;
pub mod db;
pub mod demo;
pub mod downloads;
pub mod email;
pub mod error;
pub mod feed;
pub mod forms;
pub mod health;
pub mod mail;
pub mod manage;
pub mod metrics;
pub mod notifications;
pub mod paging;
pub mod plugins;
pub mod portal;
pub mod portal_users;
pub mod redirect;
pub mod router;
pub mod staff;
pub mod state;
pub mod telemetry;
pub mod themes;
