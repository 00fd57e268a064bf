//! The agency's own team, for admins: invite, change role, deactivate and reactivate. An
//! agency always keeps at least one active admin, and nobody deactivates themselves. The
//! rules live in the functions the page and the API share.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::auth::{ClientIp, SignedIn, StaffAdmin, audit_actor};
use crate::db::accounts::AccountKind;
use crate::db::audit::{Actor, Target};
use crate::db::sessions;
use crate::db::staff_users::{self};
use crate::error::{AppError, AppResult};
use crate::mail::Queued;
use crate::staff::{InviteInput, RoleInput};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn render(state: &AppState, me: &SignedIn, extra: minijinja::Value) -> AppResult<Response> {
    let pool = &state.db().pool;
    let team = staff_users::list(pool, me.agency.id).await?;
    let sessions = sessions::counts(pool, me.agency.id, AccountKind::Staff).await?;
    let base = context! {
        area => "manage", title => "Team", nav => "staff", csrf_token => me.csrf_token(),
        user => &me.account.name, is_admin => true, me_id => me.account.id, team => Serde(&team),
        sessions => Serde(&sessions),
    };
    Ok(me
        .agency
        .render("manage/staff.html", context! { ..extra, ..base })?
        .into_response())
}

pub async fn list(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("invited") => Some("Invitation sent."),
        Some("signed-out") => Some("Signed out everywhere: they must sign in again."),
        Some("not-sent") => {
            Some("The account was created, but no email was sent because the portal is disabled.")
        }
        Some("role") => Some("Role changed."),
        Some("deactivated") => Some("Deactivated: their sessions have ended."),
        Some("reactivated") => Some("Reactivated."),
        _ => None,
    };
    let input = InviteInput {
        role: "staff".into(),
        ..InviteInput::default()
    };
    render(&state, &me, context! { notice, input => Serde(&input) }).await
}

fn actor_of<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor("staff", Some(me.account.id), &me.account.email, ip)
}

pub async fn invite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(input): Form<InviteInput>,
) -> AppResult<Response> {
    let actor = actor_of(&me, &ip);
    match crate::staff::invite(&state, &me.agency, &input, actor, &me.account.name).await {
        Ok((_, queued)) => {
            let done = if queued == Queued::PortalDisabled {
                "not-sent"
            } else {
                "invited"
            };
            Ok(
                crate::redirect::to(&format!("/{}/manage/staff?done={done}", me.agency.slug))
                    .into_response(),
            )
        }
        Err(AppError::Invalid(errors)) => {
            let extra = context! { input => Serde(&input), errors => Serde(&errors) };
            render(&state, &me, extra).await
        }
        Err(other) => Err(other),
    }
}

/// Changes a team member's role; the last active admin stays an admin.
pub async fn change_role(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<RoleInput>,
) -> AppResult<Response> {
    match crate::staff::change_role(&state, &me.agency, id, &input.role, actor_of(&me, &ip)).await {
        Ok(()) => Ok(
            crate::redirect::to(&format!("/{}/manage/staff?done=role", me.agency.slug))
                .into_response(),
        ),
        Err(AppError::Conflict(error)) => render(&state, &me, context! { error }).await,
        Err(AppError::Invalid(_)) => Err(AppError::BadRequest("Choose admin or staff.".into())),
        Err(other) => Err(other),
    }
}

pub async fn deactivate(
    state: State<AppState>,
    admin: StaffAdmin,
    ip: ClientIp,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_active(state, admin, ip, path, false).await
}

pub async fn reactivate(
    state: State<AppState>,
    admin: StaffAdmin,
    ip: ClientIp,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_active(state, admin, ip, path, true).await
}

/// `POST /{agency}/manage/staff/{id}/sign-out`: ends every session of a team member.
pub async fn sign_out(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let member = staff_users::get(&state.db().pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let target = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&member.email),
    };
    let actor = actor_of(&me, &ip);
    crate::auth::account::end_all_sessions(&state, &me.agency, AccountKind::Staff, target, actor)
        .await?;
    let done = if id == me.account.id {
        // Their own sessions, this one included: back to the sign-in page.
        format!("/{}/manage/login", me.agency.slug)
    } else {
        format!("/{}/manage/staff?done=signed-out", me.agency.slug)
    };
    Ok(crate::redirect::to(&done).into_response())
}

async fn set_active(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    active: bool,
) -> AppResult<Response> {
    let actor = actor_of(&me, &ip);
    match crate::staff::set_active(&state, &me.agency, id, active, actor, Some(me.account.id)).await
    {
        Ok(()) => {
            let done = if active { "reactivated" } else { "deactivated" };
            Ok(
                crate::redirect::to(&format!("/{}/manage/staff?done={done}", me.agency.slug))
                    .into_response(),
            )
        }
        Err(AppError::Conflict(error)) => render(&state, &me, context! { error }).await,
        Err(other) => Err(other),
    }
}
