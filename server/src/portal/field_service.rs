//! Jobs and quotes, for field-service agencies: lists and details.

use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use super::gate::{self, Gated};
use crate::db::jobs::{self, JobInfo};
use crate::db::quotes::{self, QuoteInfo};
use crate::error::AppResult;
use crate::plugins::{Permission, PluginRequest, Target};
use crate::state::AppState;

impl Gated for JobInfo {
    fn client_id(&self) -> i64 {
        self.client_id
    }

    fn target(&self) -> Target {
        let attributes = vec![("status".into(), self.status.clone())];
        gate::target("job", self.id, self.worksite_id, attributes)
    }
}

impl Gated for QuoteInfo {
    fn client_id(&self) -> i64 {
        self.client_id
    }

    fn target(&self) -> Target {
        let attributes = vec![
            ("status".into(), self.status.clone()),
            ("total".into(), self.total_cents.to_string()),
        ];
        gate::target("quote", self.id, None, attributes)
    }
}

pub async fn jobs(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    portal.require(Permission::ViewJobs)?;
    let rows = jobs::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    let rows = portal
        .visible(&state, &mut plugins, Permission::ViewJobs, rows)
        .await?;
    portal
        .render(
            &state,
            "portal/jobs.html",
            "jobs",
            context! { title => "Jobs", jobs => Serde(rows) },
        )
        .await
}

pub async fn job(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewJobs)?;
    let found =
        jobs::get_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id).await?;
    let job = portal
        .visible_one(&state, &mut plugins, Permission::ViewJobs, found)
        .await?;
    portal
        .render(
            &state,
            "portal/job.html",
            "jobs",
            context! { title => format!("Job {}", job.number), job => Serde(job) },
        )
        .await
}

pub async fn quotes(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    portal.require(Permission::ViewQuotes)?;
    let rows =
        quotes::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    let rows = portal
        .visible(&state, &mut plugins, Permission::ViewQuotes, rows)
        .await?;
    portal
        .render(
            &state,
            "portal/quotes.html",
            "quotes",
            context! { title => "Quotes", quotes => Serde(rows) },
        )
        .await
}

pub async fn quote(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewQuotes)?;
    let found =
        quotes::get_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id).await?;
    let quote = portal
        .visible_one(&state, &mut plugins, Permission::ViewQuotes, found)
        .await?;
    portal
        .render(
            &state,
            "portal/quote.html",
            "quotes",
            context! { title => format!("Quote {}", quote.number), quote => Serde(quote) },
        )
        .await
}
