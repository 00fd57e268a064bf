//! The dashboard: what needs the user's attention (timesheets awaiting approval, open work
//! requests), hours this week against last week, who is on site now and recent invoices —
//! each part only when the role may see it.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use time::Duration;

use super::{Portal, monday_of, today};
use crate::app::AppState;
use crate::db::timesheets::{self, Grouping};
use crate::db::{clients, clock_events, invoices, work_requests};
use crate::error::AppResult;
use crate::plugins::Permission;

pub async fn page(State(state): State<AppState>, portal: Portal) -> AppResult<Response> {
    let pool = &state.db().pool;
    let agency_id = portal.agency_id();
    let scope = &portal.scope;
    let session = &portal.session;
    let names: Vec<String> = clients::named(pool, agency_id, scope)
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    let pending = if session.may(Permission::ViewTimesheets) {
        Some(timesheets::pending_count(pool, agency_id, scope).await?)
    } else {
        None
    };
    let open_requests = if session.may(Permission::ViewWorkRequests) {
        Some(work_requests::open_count(pool, agency_id, scope).await?)
    } else {
        None
    };
    let hours = if session.may(Permission::ViewTimesheets) {
        let monday = monday_of(today());
        // Hours by day: the smallest totals that add up to the week's.
        let minutes = |rows: Vec<timesheets::Totals>| rows.iter().map(|r| r.minutes).sum::<i64>();
        let this_week = timesheets::totals(
            pool,
            agency_id,
            scope,
            (monday, monday + Duration::days(6)),
            Grouping::Day,
        )
        .await?;
        let last_week = timesheets::totals(
            pool,
            agency_id,
            scope,
            (monday - Duration::weeks(1), monday - Duration::days(1)),
            Grouping::Day,
        )
        .await?;
        Some(context! { this_week => minutes(this_week), last_week => minutes(last_week) })
    } else {
        None
    };
    let on_site = if session.may(Permission::ViewOnSite) {
        Some(Serde(clock_events::on_site(pool, agency_id, scope).await?))
    } else {
        None
    };
    let recent_invoices = if session.may(Permission::ViewInvoices) {
        Some(Serde(super::invoices::with_status(
            invoices::list_for_clients(pool, agency_id, scope, 5).await?,
        )))
    } else {
        None
    };
    let abilities: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|p| session.may(*p))
        .map(Permission::label)
        .collect();
    let role = session.role.as_ref().map(|r| r.name.clone());
    portal
        .render(
            &state,
            "portal/home.html",
            "home",
            context! {
                title => "Home", clients => names, role, abilities, pending, open_requests,
                hours, on_site, recent_invoices,
            },
        )
        .await
}
