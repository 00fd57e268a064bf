//! Hot reload in a running server. Two triggers, checked on one timer:
//!
//! - a plugin's files changed on disk (`plugin.wasm` or `plugin.toml`: modification time or
//!   size), e.g. a new build copied over the old one: that plugin is reloaded;
//! - the reload generation in the database changed (`portal plugin reload` bumps it): every
//!   plugin is reloaded. The database is what every instance of a scaled-out installation
//!   shares, so one command reaches them all.
//!
//! A new version that does not load is refused and logged; the loaded one keeps serving.

use std::time::Duration;

use super::Plugins;
use crate::db::{self, Db};

impl Plugins {
    /// Starts polling every `every` on the tokio runtime; stops with the runtime.
    pub fn watch(&self, db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
        let plugins = self.clone();
        tokio::spawn(async move {
            let mut seen = db::plugin_reloads::generation(&db.pool).await.ok();
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let generation = match db::plugin_reloads::generation(&db.pool).await {
                    Ok(generation) => Some(generation),
                    Err(err) => {
                        tracing::warn!(%err, "cannot read the plugin reload generation");
                        seen
                    }
                };
                let all = generation != seen;
                seen = generation;
                let plugins = plugins.clone();
                // Loading compiles (or maps compiled code): keep it off the tokio workers.
                let result = tokio::task::spawn_blocking(move || plugins.reload(all)).await;
                if let Err(err) = result {
                    tracing::error!(%err, "plugin reload panicked; the loaded plugins keep serving");
                }
            }
        })
    }
}
