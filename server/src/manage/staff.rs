//! The agency's own team, for admins: invite, change role, deactivate and reactivate. An
//! agency always keeps at least one active admin, and nobody deactivates themselves.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::password::issue_link;
use crate::auth::{ClientIp, SignedIn, StaffAdmin, audit_actor, throttle};
use crate::db::accounts::{self, AccountKind};
use crate::db::audit::{self, Target};
use crate::db::staff_users::{self, StaffRole};
use crate::db::tokens::Purpose;
use crate::db::{is_unique_violation, sessions};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::mail::{self, Email, Queued};

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct InviteInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn render(state: &AppState, me: &SignedIn, extra: minijinja::Value) -> AppResult<Response> {
    let team = staff_users::list(&state.db().pool, me.agency.id).await?;
    let base = context! {
        area => "manage", title => "Team", csrf_token => me.csrf_token(), user => &me.account.name,
        is_admin => true, me_id => me.account.id, team => Serde(&team),
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

pub async fn invite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(input): Form<InviteInput>,
) -> AppResult<Response> {
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
        return refused(&state, &me, &input, &errors).await;
    };
    let pool = &state.db().pool;
    if !throttle::allow_email(pool, me.agency.id, &input.email, &state.settings().security).await? {
        errors.add(
            "email",
            "Too many emails went to this address in the last hour. Try again later.",
        );
        return refused(&state, &me, &input, &errors).await;
    }
    let mut tx = pool.begin().await?;
    let id =
        match staff_users::create_invited(&mut *tx, me.agency.id, &input.email, &input.name, role)
            .await
        {
            Ok(id) => id,
            Err(err) if is_unique_violation(&err) => {
                drop(tx);
                errors.add("email", "Someone on the team already uses this email.");
                return refused(&state, &me, &input, &errors).await;
            }
            Err(err) => return Err(err.into()),
        };
    let account = accounts::by_id(&mut *tx, AccountKind::Staff, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let hours = state.settings().security.invite_hours;
    let url = issue_link(
        &state,
        &mut tx,
        &me.agency,
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
        actor => context! { name => &me.account.name },
    };
    let queued = mail::enqueue(
        &mut tx,
        &me.agency,
        Email {
            template: "staff-invite",
            to: &account.email,
            vars,
        },
    )
    .await?;
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let target = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&account.email),
    };
    audit::record(
        &mut *tx,
        me.agency.id,
        actor,
        "staff invited",
        target,
        role.as_str(),
    )
    .await?;
    tx.commit().await?;
    let done = if queued == Queued::PortalDisabled {
        "not-sent"
    } else {
        "invited"
    };
    Ok(Redirect::to(&format!("/{}/manage/staff?done={done}", me.agency.slug)).into_response())
}

/// The team page again, with the invitation form as typed and what is wrong with it.
async fn refused(
    state: &AppState,
    me: &SignedIn,
    input: &InviteInput,
    errors: &FieldErrors,
) -> AppResult<Response> {
    render(
        state,
        me,
        context! { input => Serde(input), errors => Serde(errors) },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct RoleInput {
    #[serde(default)]
    role: String,
}

/// Changes a team member's role; the last active admin stays an admin.
pub async fn change_role(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<RoleInput>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let target = staff_users::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = StaffRole::parse(&input.role)
        .ok_or_else(|| AppError::BadRequest("Choose admin or staff.".into()))?;
    if role == StaffRole::Staff
        && target.role == "admin"
        && staff_users::other_active_admins(pool, me.agency.id, id).await? == 0
    {
        return render(&state, &me, context! { error => "The agency needs at least one active admin: make someone else admin first." }).await;
    }
    staff_users::set_role(pool, me.agency.id, id, role).await?;
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let label = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&target.email),
    };
    audit::record(
        pool,
        me.agency.id,
        actor,
        "staff role changed",
        label,
        role.as_str(),
    )
    .await?;
    Ok(Redirect::to(&format!("/{}/manage/staff?done=role", me.agency.slug)).into_response())
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

/// Deactivation ends every session of the account at once.
async fn set_active(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    active: bool,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let target = staff_users::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !active && id == me.account.id {
        return render(
            &state,
            &me,
            context! { error => "You cannot deactivate yourself." },
        )
        .await;
    }
    if !active
        && target.role == "admin"
        && staff_users::other_active_admins(pool, me.agency.id, id).await? == 0
    {
        return render(
            &state,
            &me,
            context! { error => "The agency needs at least one active admin." },
        )
        .await;
    }
    let status = if active { "active" } else { "deactivated" };
    let mut tx = pool.begin().await?;
    accounts::set_status(&mut *tx, AccountKind::Staff, me.agency.id, id, status).await?;
    if !active {
        sessions::delete_all_for_account(&mut *tx, me.agency.id, AccountKind::Staff, id, None)
            .await?;
    }
    let actor = audit_actor("staff", Some(me.account.id), &me.account.email, &ip);
    let label = Target {
        kind: Some("staff"),
        id: Some(id),
        label: Some(&target.email),
    };
    let (action, done) = if active {
        ("staff reactivated", "reactivated")
    } else {
        ("staff deactivated", "deactivated")
    };
    audit::record(&mut *tx, me.agency.id, actor, action, label, "").await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/{}/manage/staff?done={done}", me.agency.slug)).into_response())
}
