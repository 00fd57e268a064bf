//! Jobs and quotes, for field-service agencies: lists and details.

use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use crate::app::AppState;
use crate::db::{jobs, quotes};
use crate::error::{AppError, AppResult};
use crate::plugins::Permission;

pub async fn jobs(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    portal.require(Permission::ViewJobs)?;
    let rows = jobs::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
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
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewJobs)?;
    let job = jobs::get_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    portal
        .render(
            &state,
            "portal/job.html",
            "jobs",
            context! { title => format!("Job {}", job.number), job => Serde(job) },
        )
        .await
}

pub async fn quotes(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    portal.require(Permission::ViewQuotes)?;
    let rows =
        quotes::list_for_clients(&state.db().pool, portal.agency_id(), &portal.scope).await?;
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
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    portal.require(Permission::ViewQuotes)?;
    let quote = quotes::get_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    portal
        .render(
            &state,
            "portal/quote.html",
            "quotes",
            context! { title => format!("Quote {}", quote.number), quote => Serde(quote) },
        )
        .await
}
