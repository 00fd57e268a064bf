//! The portal's start page after sign-in.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use minijinja::context;

use crate::app::AppState;
use crate::auth::PortalSession;
use crate::db::clients;
use crate::error::AppResult;
use crate::plugins::Permission;

pub async fn page(State(state): State<AppState>, session: PortalSession) -> AppResult<Response> {
    let me = &session.user;
    let all = clients::list(&state.db().pool, me.agency.id).await?;
    let names: Vec<String> = all
        .into_iter()
        .filter(|c| session.client_ids.contains(&c.id))
        .map(|c| c.name)
        .collect();
    let abilities: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|p| session.may(*p))
        .map(Permission::label)
        .collect();
    let role = session.role.as_ref().map(|r| r.name.clone());
    Ok(me
        .agency
        .render(
            "portal/home.html",
            context! {
                area => "portal", title => "Home", csrf_token => me.csrf_token(),
                user => &me.account.name, clients => names, role, abilities,
            },
        )?
        .into_response())
}
