//! The agency's own team, for admins: invite, change role, deactivate and reactivate. An
//! agency always keeps at least one active admin, and nobody deactivates themselves. The
//! rules live in the functions the page and the API share.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::agency::Agency;
use crate::app::AppState;
use crate::auth::password::issue_link;
use crate::auth::{ClientIp, SignedIn, StaffAdmin, audit_actor, throttle};
use crate::db::accounts::{self, AccountKind};
use crate::db::audit::{self, Actor, Target};
use crate::db::staff_users::{self, StaffRole};
use crate::db::tokens::Purpose;
use crate::db::{is_unique_violation, sessions};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::mail::{self, Email, Queued};

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct InviteInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

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

/// Creates an invited team member and queues the invitation (audited); returns the new id
/// and whether the email was queued. Problems with the input are field errors.
pub async fn invite_member(
    state: &AppState,
    agency: &Agency,
    input: &InviteInput,
    actor: Actor<'_>,
    inviter_name: &str,
) -> AppResult<(i64, Queued)> {
    let mut errors = FieldErrors::default();
    errors.required("name", "name", &input.name, 200);
    if input.email.trim().is_empty() {
        errors.add("email", "Enter the email address they will sign in with.");
    }
    errors.optional_email("email", &input.email);
    let role = StaffRole::parse(&input.role);
    if role.is_none() {
        errors.add("role", "Choose admin or staff.");
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let pool = &state.db().pool;
    if !throttle::allow_email(pool, agency.id, &input.email, &state.settings().security).await? {
        errors.add(
            "email",
            "Too many emails went to this address in the last hour. Try again later.",
        );
        return Err(AppError::Invalid(errors));
    }
    let mut tx = crate::db::begin_write(pool).await?;
    let id = match staff_users::create_invited(&mut *tx, agency.id, &input.email, &input.name, role)
        .await
    {
        Ok(id) => id,
        Err(err) if is_unique_violation(&err) => {
            errors.add("email", "Someone on the team already uses this email.");
            return Err(AppError::Invalid(errors));
        }
        Err(err) => return Err(err.into()),
    };
    let account = accounts::by_id(&mut *tx, AccountKind::Staff, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let hours = state.settings().security.invite_hours;
    let url = issue_link(
        state,
        &mut tx,
        agency,
        AccountKind::Staff,
        &account,
        Purpose::Invite,
        hours * 3600,
    )
    .await?;
    let expires_at = crate::db::Timestamp::now()
        .plus_seconds(hours * 3600)
        .to_string();
    let vars = context! {
        name => &account.name, invite_url => url, expires_at,
        actor => context! { name => inviter_name },
    };
    let queued = mail::enqueue(
        &mut tx,
        agency,
        Email {
            template: "staff-invite",
            to: &account.email,
            vars,
        },
    )
    .await?;
    let target = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&account.email),
    };
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "staff invited",
        target,
        role.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok((id, queued))
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
    match invite_member(&state, &me.agency, &input, actor, &me.account.name).await {
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

#[derive(Debug, Deserialize)]
pub struct RoleInput {
    #[serde(default)]
    pub role: String,
}

/// Changes a team member's role (audited); the last active admin stays an admin.
pub async fn change_role_of(
    state: &AppState,
    agency: &Agency,
    id: i64,
    role: &str,
    actor: Actor<'_>,
) -> AppResult<()> {
    let pool = &state.db().pool;
    let target = staff_users::get(pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(role) = StaffRole::parse(role) else {
        let mut errors = FieldErrors::default();
        errors.add("role", "Choose admin or staff.");
        return Err(AppError::Invalid(errors));
    };
    if role == StaffRole::Staff
        && target.role == "admin"
        && staff_users::other_active_admins(pool, agency.id, id).await? == 0
    {
        return Err(AppError::Conflict(
            "The agency needs at least one active admin: make someone else admin first.".into(),
        ));
    }
    let mut tx = crate::db::begin_write(pool).await?;
    staff_users::set_role(&mut *tx, agency.id, id, role).await?;
    // A link sent for the old role does not carry over to the new one.
    crate::db::tokens::revoke_all(&mut *tx, agency.id, AccountKind::Staff, id).await?;
    let label = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&target.email),
    };
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "staff role changed",
        label,
        role.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a team member's role; the last active admin stays an admin.
pub async fn change_role(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<RoleInput>,
) -> AppResult<Response> {
    match change_role_of(&state, &me.agency, id, &input.role, actor_of(&me, &ip)).await {
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

/// Deactivates (ending every session of the account at once) or reactivates a team member,
/// audited. `acting` is the staff member doing it, who cannot deactivate themselves.
pub async fn set_active_of(
    state: &AppState,
    agency: &Agency,
    id: i64,
    active: bool,
    actor: Actor<'_>,
    acting: Option<i64>,
) -> AppResult<()> {
    let pool = &state.db().pool;
    let target = staff_users::get(pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !active && acting == Some(id) {
        return Err(AppError::Conflict("You cannot deactivate yourself.".into()));
    }
    if !active
        && target.role == "admin"
        && staff_users::other_active_admins(pool, agency.id, id).await? == 0
    {
        return Err(AppError::Conflict(
            "The agency needs at least one active admin.".into(),
        ));
    }
    // Someone who never accepted their invitation is invited again, not active.
    let status = if !active {
        "deactivated"
    } else if staff_users::has_password(pool, agency.id, id).await? {
        "active"
    } else {
        "invited"
    };
    let mut tx = crate::db::begin_write(pool).await?;
    accounts::set_status(&mut *tx, AccountKind::Staff, agency.id, id, status).await?;
    if !active {
        accounts::revoke_access(&mut tx, agency.id, AccountKind::Staff, id, None).await?;
    }
    let label = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&target.email),
    };
    let action = if active {
        "staff reactivated"
    } else {
        "staff deactivated"
    };
    audit::record(&mut *tx, agency.id, actor, action, label, "").await?;
    tx.commit().await?;
    Ok(())
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
    match set_active_of(&state, &me.agency, id, active, actor, Some(me.account.id)).await {
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
