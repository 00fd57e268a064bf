//! Agency settings admins change at run time, and the team members told of new work
//! requests. A column left NULL is "not set here": [`effective`] falls back to the agency's
//! configuration file, then `portal.toml`, then the built-in default.

use sqlx::AnyExecutor;

use super::{Flag, Timestamp};
use crate::agency::Agency;
use crate::config::{AgencyConfig, SecurityConfig};

/// What is stored for an agency; `None` means "from configuration".
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Stored {
    pub portal_enabled: Option<i64>,
    pub password_min_length: Option<i64>,
    pub require_mfa_staff: Option<i64>,
    pub require_mfa_portal: Option<i64>,
    pub session_idle_minutes: Option<i64>,
    pub session_absolute_hours: Option<i64>,
    pub approval_deadline_days: Option<i64>,
    pub updated_at: Option<Timestamp>,
}

/// The values in force for an agency, whichever layer they come from. Identity, mail and
/// the portal read these, never the configuration fields directly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgencySettings {
    pub portal_enabled: bool,
    pub password_min_length: i64,
    pub require_mfa_staff: bool,
    pub require_mfa_portal: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Left out of an API request: 3.
    #[serde(default = "default_deadline")]
    pub approval_deadline_days: i64,
}

fn default_deadline() -> i64 {
    3
}

impl AgencySettings {
    /// The configured values, before anything an admin saved.
    pub fn from_config(agency: &AgencyConfig, security: &SecurityConfig) -> Self {
        Self {
            portal_enabled: agency.portal_enabled,
            password_min_length: i64::try_from(agency.security.password_min_length).unwrap_or(8),
            require_mfa_staff: agency.security.require_mfa_staff,
            require_mfa_portal: agency.security.require_mfa_portal,
            session_idle_minutes: security.session_idle_minutes,
            session_absolute_hours: security.session_absolute_hours,
            approval_deadline_days: agency.approval_deadline_days,
        }
    }

    /// `stored` over `defaults`, value by value.
    pub fn layered(defaults: Self, stored: &Stored) -> Self {
        let flag = |value: Option<i64>, default: bool| value.map_or(default, |v| v != 0);
        Self {
            portal_enabled: flag(stored.portal_enabled, defaults.portal_enabled),
            password_min_length: stored
                .password_min_length
                .unwrap_or(defaults.password_min_length),
            require_mfa_staff: flag(stored.require_mfa_staff, defaults.require_mfa_staff),
            require_mfa_portal: flag(stored.require_mfa_portal, defaults.require_mfa_portal),
            session_idle_minutes: stored
                .session_idle_minutes
                .unwrap_or(defaults.session_idle_minutes),
            session_absolute_hours: stored
                .session_absolute_hours
                .unwrap_or(defaults.session_absolute_hours),
            approval_deadline_days: stored
                .approval_deadline_days
                .unwrap_or(defaults.approval_deadline_days),
        }
    }

    pub fn password_min_length(&self) -> usize {
        usize::try_from(self.password_min_length).unwrap_or(8)
    }
}

/// The settings in force for `agency`: what its admins saved over its configuration. One
/// indexed read; callers that need several values load it once.
pub async fn effective<'e>(
    db: impl AnyExecutor<'e>,
    agency: &Agency,
    security: &SecurityConfig,
) -> sqlx::Result<AgencySettings> {
    Ok(in_force(agency, security, &stored(db, agency.id).await?))
}

/// The settings in force for `agency` when it stored `stored`.
pub fn in_force(agency: &Agency, security: &SecurityConfig, stored: &Stored) -> AgencySettings {
    AgencySettings::layered(
        AgencySettings::from_config(&agency.config, security),
        stored,
    )
}

/// The columns of [`Stored`], none of them named like a column of `sessions`.
pub const STORED_COLUMNS: &str = "portal_enabled, password_min_length, require_mfa_staff, \
     require_mfa_portal, session_idle_minutes, session_absolute_hours, approval_deadline_days, \
     updated_at";

/// Whether the agency's portal is open: a saved choice, else `configured` (the agency file's
/// `portal_enabled`). A closed portal lets no portal user in and sends no email.
pub async fn portal_enabled<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    configured: bool,
) -> sqlx::Result<bool> {
    let stored: Option<Option<i64>> =
        sqlx::query_scalar("SELECT portal_enabled FROM agency_settings WHERE agency_id = $1")
            .bind(agency_id)
            .fetch_optional(db)
            .await?;
    Ok(stored.flatten().map_or(configured, |v| v != 0))
}

/// What an agency stored (all `None` when nothing was saved).
pub async fn stored<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Stored> {
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STORED_COLUMNS} FROM agency_settings WHERE agency_id = $1"
    )))
    .bind(agency_id)
    .fetch_optional(db)
    .await?;
    Ok(row.unwrap_or_default())
}

/// Stores every value (the settings page saves them all at once).
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn save<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    values: &AgencySettings,
    staff_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agency_settings (agency_id, portal_enabled, password_min_length, \
         require_mfa_staff, require_mfa_portal, session_idle_minutes, session_absolute_hours, \
         approval_deadline_days, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (agency_id) DO UPDATE SET portal_enabled = excluded.portal_enabled, \
         password_min_length = excluded.password_min_length, \
         require_mfa_staff = excluded.require_mfa_staff, \
         require_mfa_portal = excluded.require_mfa_portal, \
         session_idle_minutes = excluded.session_idle_minutes, \
         session_absolute_hours = excluded.session_absolute_hours, \
         approval_deadline_days = excluded.approval_deadline_days, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(agency_id)
    .bind(Flag(values.portal_enabled))
    .bind(values.password_min_length)
    .bind(Flag(values.require_mfa_staff))
    .bind(Flag(values.require_mfa_portal))
    .bind(values.session_idle_minutes)
    .bind(values.session_absolute_hours)
    .bind(values.approval_deadline_days)
    .bind(Timestamp::now())
    .bind(staff_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets what was saved: configuration applies again.
pub async fn reset<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM agency_settings WHERE agency_id = $1")
        .bind(agency_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A team member chosen to hear about new work requests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Recipient {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// The team members to email about a new work request: those an admin chose on the settings
/// page whose accounts are active, by name. The work-request notification path calls this
/// (pass the transaction that creates the request).
pub async fn work_request_recipients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as(
        "SELECT s.id, s.name, s.email FROM work_request_recipients r \
         JOIN staff_users s ON s.id = r.staff_user_id AND s.agency_id = r.agency_id \
         WHERE r.agency_id = $1 AND s.status = 'active' ORDER BY lower(s.name), s.id",
    )
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// The ids of the chosen team members, whatever their status (for the settings form).
pub async fn recipient_ids<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT staff_user_id FROM work_request_recipients WHERE agency_id = $1 \
         ORDER BY staff_user_id",
    )
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// Replaces the chosen team members. Only ids of the agency's own staff are kept: an id of
/// another agency's staff member is dropped by the join, never stored. Run in a transaction.
pub async fn set_recipients(
    conn: &mut sqlx::AnyConnection,
    agency_id: i64,
    staff_ids: &[i64],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM work_request_recipients WHERE agency_id = $1")
        .bind(agency_id)
        .execute(&mut *conn)
        .await?;
    for id in staff_ids {
        sqlx::query(
            "INSERT INTO work_request_recipients (agency_id, staff_user_id) \
             SELECT agency_id, id FROM staff_users WHERE agency_id = $1 AND id = $2 \
             ON CONFLICT DO NOTHING",
        )
        .bind(agency_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
