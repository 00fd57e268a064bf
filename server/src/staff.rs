//! The agency's team: inviting a member, changing their role, deactivating and reactivating
//! them — shared by the manage pages and the JSON API, each audited, with the rule that an
//! agency always keeps an active admin.

use crate::agency::Agency;
use crate::auth::password::issue_link;
use crate::auth::throttle;
use crate::db::accounts::{self, AccountKind};
use crate::db::audit::{self, Actor, Target};
use crate::db::is_unique_violation;
use crate::db::staff_users::{self, StaffRole};
use crate::db::tokens::Purpose;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::mail::{self, Email, Queued};
use crate::state::AppState;
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct InviteInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

/// Creates an invited team member and queues the invitation (audited); returns the new id
/// and whether the email was queued. Problems with the input are field errors.
pub async fn invite(
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

#[derive(Debug, Deserialize)]
pub struct RoleInput {
    #[serde(default)]
    pub role: String,
}

/// Changes a team member's role (audited); the last active admin stays an admin.
pub async fn change_role(
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

/// Deactivates (ending every session of the account at once) or reactivates a team member,
/// audited. `acting` is the staff member doing it, who cannot deactivate themselves.
pub async fn set_active(
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
