//! "Your account": change password, and the list of your sessions with a way to end the
//! others (a phone left signed in somewhere).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use super::password::{self, ChangeForm};
use super::session::AreaSession;
use super::{ClientIp, audit_actor};
use crate::app::AppState;
use crate::db::audit::{self, Target};
use crate::db::sessions;
use crate::error::{AppError, AppResult};

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    Query(query): Query<AccountQuery>,
) -> AppResult<Response> {
    let agency = &me.agency;
    let rows = sessions::for_account(&state.db().pool, agency.id, me.kind, me.account.id).await?;
    let list: Vec<_> = rows
        .iter()
        .map(|s| {
            context! {
                id => s.id, current => s.id == me.session.id, ip => &s.ip,
                user_agent => &s.user_agent, started => s.created_at.to_string(),
                last_seen => s.last_seen_at.to_string(),
            }
        })
        .collect();
    let notice = match query.done.as_deref() {
        Some("password-changed") => {
            Some("Your password is changed. Your other sessions were signed out.")
        }
        Some("session-ended") => Some("That session is signed out."),
        _ => None,
    };
    Ok(agency
        .render(
            "account.html",
            context! {
                area => me.kind.area(), title => "Your account", csrf_token => me.csrf_token(),
                user => &me.account.name, email => &me.account.email, sessions => list, notice,
            },
        )?
        .into_response())
}

pub async fn password_page(AreaSession(me): AreaSession) -> AppResult<Response> {
    password::change_page(&me, None)
}

pub async fn password_submit(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    password::change_submit(&state, &me, &ip, form).await
}

/// Ends one of the account's own sessions; another account's session id is a 404.
pub async fn end_session(
    State(state): State<AppState>,
    AreaSession(me): AreaSession,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let agency = &me.agency;
    let pool = &state.db().pool;
    if !sessions::delete_for_account(pool, agency.id, me.kind, me.account.id, id).await? {
        return Err(AppError::NotFound);
    }
    let actor = audit_actor(
        me.kind.as_str(),
        Some(me.account.id),
        &me.account.email,
        &ip,
    );
    let target = Target {
        kind: Some("session"),
        id: Some(id),
        label: None,
    };
    audit::record(pool, agency.id, actor, "session ended", target, "").await?;
    Ok(crate::redirect::to(&format!(
        "/{}/{}/account?done=session-ended",
        agency.slug,
        me.kind.area()
    ))
    .into_response())
}
