//! The settings an agency's admins change at run time (portal on or off, password length,
//! required two-step sign-in, session lengths), shared by the manage page and the JSON API:
//! checked against their ranges, applied over the configuration, audited with what changed.

use crate::agency::Agency;
use crate::db::agency_settings::{self, AgencySettings};
use crate::db::audit::{self, Actor, Target};
use crate::db::staff_users;
use crate::error::AppResult;
use crate::forms::FieldErrors;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Shortest and longest minimum password length an agency may choose.
pub const PASSWORD_MIN_RANGE: (i64, i64) = (8, 64);

/// Idle time-out, in minutes: from five minutes to a day.
pub const IDLE_MINUTES_RANGE: (i64, i64) = (5, 1440);

/// Absolute time-out, in hours: from one hour to thirty days.
pub const ABSOLUTE_HOURS_RANGE: (i64, i64) = (1, 720);

/// Days a client has to decide a timesheet before it counts as overdue.
pub const APPROVAL_DEADLINE_RANGE: (i64, i64) = (1, 60);

/// Everything an admin (or a back-office system) sets at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    #[serde(flatten)]
    pub values: AgencySettings,
    /// Staff ids of the team members emailed about new work requests.
    pub work_request_recipients: Vec<i64>,
}

/// Checks the values; an unknown staff id (including another agency's) is a field error.
pub async fn validate(
    state: &AppState,
    agency: &Agency,
    input: &SettingsInput,
) -> AppResult<FieldErrors> {
    let mut errors = FieldErrors::default();
    let v = &input.values;
    let within =
        |errors: &mut FieldErrors, field: &str, value: i64, (lo, hi): (i64, i64), what: &str| {
            if value < lo || value > hi {
                errors.add(field, format!("Choose {what} from {lo} to {hi}."));
            }
        };
    within(
        &mut errors,
        "password_min_length",
        v.password_min_length,
        PASSWORD_MIN_RANGE,
        "a length",
    );
    within(
        &mut errors,
        "session_idle_minutes",
        v.session_idle_minutes,
        IDLE_MINUTES_RANGE,
        "a number of minutes",
    );
    within(
        &mut errors,
        "session_absolute_hours",
        v.session_absolute_hours,
        ABSOLUTE_HOURS_RANGE,
        "a number of hours",
    );
    within(
        &mut errors,
        "approval_deadline_days",
        v.approval_deadline_days,
        APPROVAL_DEADLINE_RANGE,
        "a number of days",
    );
    if errors.is_empty() && v.session_idle_minutes > v.session_absolute_hours * 60 {
        errors.add(
            "session_idle_minutes",
            "The idle time-out cannot be longer than the absolute time-out.",
        );
    }
    let team = staff_users::list(&state.db().pool, agency.id).await?;
    if let Some(unknown) = input
        .work_request_recipients
        .iter()
        .find(|id| !team.iter().any(|member| member.id == **id))
    {
        errors.add(
            "work_request_recipients",
            format!("Team member {unknown} is not on this agency's team."),
        );
    }
    Ok(errors)
}

/// Saves checked settings and the recipients in one transaction and audits what changed.
/// Used by the page and the API alike.
pub async fn apply(
    state: &AppState,
    agency: &Agency,
    input: &SettingsInput,
    actor: Actor<'_>,
    staff_id: Option<i64>,
) -> AppResult<()> {
    validate(state, agency, input).await?.into_result()?;
    let pool = &state.db().pool;
    let before = current(state, agency).await?;
    let mut tx = crate::db::begin_write(pool).await?;
    agency_settings::save(&mut *tx, agency.id, &input.values, staff_id).await?;
    agency_settings::set_recipients(&mut tx, agency.id, &input.work_request_recipients).await?;
    let detail = changes(&before, input);
    let target = Target {
        kind: Some("agency"),
        id: Some(agency.id),
        label: Some(&agency.slug),
    };
    audit::record(
        &mut *tx,
        agency.id,
        actor,
        "settings changed",
        target,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The settings in force and the chosen recipients.
pub async fn current(state: &AppState, agency: &Agency) -> AppResult<SettingsInput> {
    let pool = &state.db().pool;
    Ok(SettingsInput {
        values: agency_settings::effective(pool, agency, &state.settings().security).await?,
        work_request_recipients: agency_settings::recipient_ids(pool, agency.id).await?,
    })
}

/// `name: old → new` for every value that changes, for the audit log.
fn changes(before: &SettingsInput, after: &SettingsInput) -> String {
    let mut after = after.clone();
    after.work_request_recipients.sort_unstable();
    after.work_request_recipients.dedup();
    let mut before = before.clone();
    before.work_request_recipients.sort_unstable();
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(&before), serde_json::to_value(&after))
    else {
        return String::new();
    };
    new.iter()
        .filter(|(name, value)| old.get(*name) != Some(value))
        .map(|(name, value)| {
            let was = old.get(name).map(Value::to_string).unwrap_or_default();
            format!("{name}: {was} → {value}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}
