//! The state every request shares: configuration, the database, the agencies with their
//! themes, and the plugins, with the extractors that read a request's agency and plugins
//! from it. Every area depends on it; it depends on none of them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use crate::agency::{Agency, CurrentAgency};
use crate::config::Settings;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::plugins::{PluginRequest, Plugins};
use crate::themes::Themes;

/// State shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Configuration as loaded at start.
    settings: Settings,
    /// The database pool (SQLite or PostgreSQL).
    db: Db,
    /// Agencies by slug, each with its theme.
    agencies: BTreeMap<String, Arc<Agency>>,
    /// Every agency's plugins, compiled and checked at start; swapped on reload.
    plugins: Plugins,
}

impl AppState {
    /// Connects, migrates, records the configured agencies and loads their themes.
    pub async fn build(settings: Settings, config_dir: &Path) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database).await?;
        db.migrate().await?;
        Self::with_db(settings, config_dir, db).await
    }

    /// Like [`AppState::build`] with a database that is already connected and migrated.
    pub async fn with_db(settings: Settings, config_dir: &Path, db: Db) -> anyhow::Result<Self> {
        let themes = Themes::load(&settings, config_dir)?;
        // Loading asks each plugin for its catalogue: a guest call, off the runtime's threads.
        let plugins = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || Plugins::load(&settings)).await??
        };
        plugins.keep_failures_in(db.clone());
        let ids = db::agencies::sync_all(&db.pool, config_dir, &settings.agencies).await?;
        let mut agencies = BTreeMap::new();
        for (slug, id) in ids {
            let config = settings
                .agencies
                .values()
                .find(|a| a.slug == slug)
                .cloned()
                .with_context(|| format!("agency \"{slug}\" is not configured"))?;
            let theme = themes
                .for_agency(&slug)
                .cloned()
                .with_context(|| format!("agency \"{slug}\" has no theme"))?;
            let agency = Agency {
                id,
                slug: slug.clone(),
                config,
                theme,
            };
            agencies.insert(slug, Arc::new(agency));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                db,
                agencies,
                plugins,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn agency(&self, slug: &str) -> Option<Arc<Agency>> {
        self.inner.agencies.get(slug).cloned()
    }

    pub fn agencies(&self) -> impl Iterator<Item = &Arc<Agency>> {
        self.inner.agencies.values()
    }

    pub fn plugins(&self) -> &Plugins {
        &self.inner.plugins
    }
}

impl FromRequestParts<AppState> for CurrentAgency {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let slug = params
            .iter()
            .find_map(|(name, value)| (name == "agency").then_some(value))
            .ok_or(AppError::NotFound)?;
        state
            .agency(slug)
            .map(CurrentAgency)
            .ok_or(AppError::NotFound)
    }
}

/// Extractor for the plugins of the agency in the path.
impl FromRequestParts<AppState> for PluginRequest {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let agency = CurrentAgency::from_request_parts(parts, state).await?;
        state.plugins().for_request(&agency.slug).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "agency \"{}\" has no plugins loaded",
                agency.slug
            ))
        })
    }
}
