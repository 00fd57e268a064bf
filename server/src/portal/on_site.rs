//! Who is on site now (from the clock events): per worksite, who clocked in and since when,
//! with a count per site; and the fire roll, the same list laid out to print and tick off.

use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::Portal;
use crate::db::Timestamp;
use crate::db::clock_events;
use crate::error::AppResult;
use crate::on_site::{Site, by_site};
use crate::plugins::{Permission, PluginRequest};
use crate::state::AppState;

/// Who is on site at the clients the role's rules let the user see it for.
async fn sites(
    state: &AppState,
    mut portal: Portal,
    plugins: &mut PluginRequest,
) -> AppResult<(Portal, Vec<Site>, usize)> {
    portal
        .narrow(state, plugins, Permission::ViewOnSite, "on-site")
        .await?;
    let rows = clock_events::on_site(&state.db().pool, portal.agency_id(), &portal.scope).await?;
    let total = rows.len();
    let sites = by_site(rows);
    Ok((portal, sites, total))
}

pub async fn page(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    let (portal, sites, total) = sites(&state, portal, &mut plugins).await?;
    portal
        .render(
            &state,
            "portal/on_site.html",
            "on-site",
            context! { title => "On site now", sites => Serde(sites), total },
        )
        .await
}

pub async fn fire_roll(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    let (portal, sites, total) = sites(&state, portal, &mut plugins).await?;
    portal
        .render(
            &state,
            "portal/fire_roll.html",
            "on-site",
            context! {
                title => "Fire roll", sites => Serde(sites), total,
                printed_at => Timestamp::now().to_string(),
            },
        )
        .await
}
