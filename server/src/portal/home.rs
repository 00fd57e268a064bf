//! The dashboard: what needs the user's attention (timesheets awaiting approval, open work
//! requests), hours this week against last week, who is on site now and recent invoices —
//! each part only when the role may see it. A figure summed over records a dynamic rule
//! decides one by one cannot be checked, so it is left out (its list applies the rule);
//! recent invoices go through the rule.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::{Portal, monday_of, today};
use crate::db::{clients, clock_events, invoices, timesheets, work_requests};
use crate::error::AppResult;
use crate::plugins::{Permission, PluginRequest};
use crate::state::AppState;

pub async fn page(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    // One connection for the page's queries: each taken from the pool and handed back
    // would cost a round trip more.
    let mut conn = state.db().pool.acquire().await?;
    let agency_id = portal.agency_id();
    let scope = &portal.scope;
    let session = &portal.session;
    let summed = |permission| session.may(permission) && !portal.is_dynamic(permission);
    let names: Vec<String> = clients::named(&mut *conn, agency_id, scope)
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    // Waiting timesheets and hours this week against last week.
    let glance = if summed(Permission::ViewTimesheets) {
        Some(timesheets::glance(&mut *conn, agency_id, scope, monday_of(today())).await?)
    } else {
        None
    };
    let open_requests = if summed(Permission::ViewWorkRequests) {
        Some(work_requests::open_count(&mut *conn, agency_id, scope).await?)
    } else {
        None
    };
    let on_site = if summed(Permission::ViewOnSite) {
        Some(Serde(
            clock_events::on_site(&mut *conn, agency_id, scope).await?,
        ))
    } else {
        None
    };
    let recent_invoices = if session.may(Permission::ViewInvoices) {
        Some(invoices::list_for_clients(&mut *conn, agency_id, scope, 5).await?)
    } else {
        None
    };
    drop(conn);
    let recent_invoices = match recent_invoices {
        Some(rows) => Some(Serde(super::invoices::with_status(
            portal
                .visible(&state, &mut plugins, Permission::ViewInvoices, rows)
                .await?,
        ))),
        None => None,
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
                title => "Home", clients => names, role, abilities,
                pending => glance.map(|t| t.pending),
                hours => glance.map(|t| context! { this_week => t.this_week, last_week => t.last_week }),
                open_requests, on_site, recent_invoices,
            },
        )
        .await
}
