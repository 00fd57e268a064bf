//! The agency's plugins, for admins: which are in use, their calls and failures since this
//! server started, and their recent failures (kept in the database with their input), each
//! with the `portal plugin replay` command that runs the same call again.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;

use crate::auth::StaffAdmin;
use crate::db::plugin_failures;
use crate::error::AppResult;
use crate::state::AppState;

/// Failures the page lists, newest first.
const SHOWN: i64 = 50;

pub async fn page(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
) -> AppResult<Response> {
    let plugins: Vec<minijinja::Value> = state
        .plugins()
        .agency(&me.agency.slug)
        .map(|set| {
            std::iter::once((&set.role_set, "Roles"))
                .chain(set.notifications.iter().map(|b| (b, "Notifications")))
                .chain(set.exports.iter().map(|b| (b, "Export formats")))
                .map(|(bound, part)| {
                    let plugin = &bound.plugin;
                    let (calls, errors) = plugin.counters.read();
                    context! {
                        id => plugin.id(), version => plugin.version(), part, calls, errors,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let failures = plugin_failures::recent(&state.db().pool, me.agency.id, SHOWN).await?;
    Ok(me
        .agency
        .render(
            "manage/plugins.html",
            context! {
                area => "manage", title => "Plugins", nav => "plugins",
                csrf_token => me.csrf_token(), user => &me.account.name, is_admin => true,
                plugins, failures => Serde(failures), kept => plugin_failures::KEPT,
            },
        )?
        .into_response())
}
