//! What the agency does with its clients' timesheets, shared by the manage pages and the JSON
//! API: decide one for the client with a note of the evidence, correct a rejected one (it
//! goes back to the client as pending), and lock a week once payroll has run. Each is
//! audited; a locked timesheet refuses every change with a 409 naming the lock.

use serde::{Deserialize, Serialize};

use crate::agency::Agency;
use crate::auth::Author;
use crate::dates::{iso, monday_of, parse_date};
use crate::db::agency_timesheets::{self as sheets, AgencyTimesheet, Correction};
use crate::db::audit::{self, Target};
use crate::db::clients;
use crate::db::timesheets::{NewTimesheet, TimesheetStatus};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::notifications;
use crate::plugins::{Named, NotificationEvent, Person, PersonKind};
use crate::state::AppState;

/// What a decision event (`timesheet-approved`, `timesheet-rejected`) says of a timesheet.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub id: i64,
    pub client: (i64, &'a str),
    pub worksite: Option<(i64, &'a str)>,
    pub worker_name: &'a str,
    pub work_date: &'a str,
    pub minutes_worked: i64,
}

/// The Sunday ending the week of a `YYYY-MM-DD` date.
pub fn week_ending(date: &str) -> String {
    parse_date(date)
        .map(|d| iso(monday_of(d) + time::Duration::days(6)))
        .unwrap_or_else(|| date.to_owned())
}

/// The event a decision raises to the notification plugins: the portal's, or staff's for
/// the client (then `on-behalf` is `true`).
pub fn decision_event(
    state: &AppState,
    agency: &Agency,
    sheet: &Decided<'_>,
    actor: &Person,
    status: TimesheetStatus,
    reason: Option<&str>,
) -> NotificationEvent {
    let kind = match status {
        TimesheetStatus::Rejected => "timesheet-rejected",
        _ => "timesheet-approved",
    };
    let public = state.settings().server.public_url.trim_end_matches('/');
    let mut fields = vec![
        ("timesheet-id".to_owned(), sheet.id.to_string()),
        ("worker-name".to_owned(), sheet.worker_name.to_owned()),
        ("week-ending".to_owned(), week_ending(sheet.work_date)),
        (
            "hours".to_owned(),
            ((sheet.minutes_worked * 100 + 30) / 60).to_string(),
        ),
        (
            "manage-url".to_owned(),
            format!("{public}/{}/manage/timesheets/{}", agency.slug, sheet.id),
        ),
    ];
    if let Some(reason) = reason {
        fields.push(("reason".into(), reason.to_owned()));
    }
    if actor.kind != PersonKind::PortalUser {
        fields.push(("on-behalf".into(), "true".into()));
    }
    NotificationEvent {
        kind: kind.into(),
        client: Some(Named {
            id: sheet.client.0.to_string(),
            name: sheet.client.1.to_owned(),
        }),
        worksite: sheet.worksite.map(|(id, name)| Named {
            id: id.to_string(),
            name: name.to_owned(),
        }),
        actor: actor.clone(),
        subject: None,
        fields,
    }
}

/// The longest note or reason, in characters.
pub const MAX_NOTE: usize = 1000;

/// One of the agency's timesheets, or 404.
pub async fn find(state: &AppState, agency: &Agency, id: i64) -> AppResult<AgencyTimesheet> {
    sheets::get(&state.db().pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A 409 when a lock covers the timesheet.
async fn refuse_locked(
    state: &AppState,
    agency: &Agency,
    sheet: &AgencyTimesheet,
) -> AppResult<()> {
    if !sheet.locked {
        return Ok(());
    }
    let lock = sheets::lock_covering(
        &state.db().pool,
        agency.id,
        sheet.client_id,
        &sheet.work_date,
    )
    .await?;
    Err(AppError::Conflict(lock.map_or_else(
        || "This timesheet's week is locked for payroll.".to_owned(),
        |lock| lock.explain(),
    )))
}

/// A decision staff make for the client.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DecisionInput {
    /// `approved` or `rejected`.
    #[serde(default)]
    pub status: String,
    /// How the client gave its decision ("approved by phone with …"); for a rejection, the
    /// client's reason.
    #[serde(default)]
    pub note: String,
}

/// Decides a pending timesheet on the client's behalf; recorded as such in its history, the
/// portal and the API.
pub async fn decide_for_client(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    input: &DecisionInput,
) -> AppResult<AgencyTimesheet> {
    let sheet = find(state, agency, id).await?;
    let mut errors = FieldErrors::default();
    let status =
        TimesheetStatus::parse(input.status.trim()).filter(|s| *s != TimesheetStatus::Pending);
    if status.is_none() {
        errors.add("status", "Choose approve or reject.");
    }
    if input.note.trim().is_empty() {
        errors.add(
            "note",
            "Say how the client gave its decision, like “approved by phone with Dana Ng”.",
        );
    }
    errors.at_most("note", "note", input.note.trim(), MAX_NOTE);
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    refuse_locked(state, agency, &sheet).await?;
    if sheet.status != "pending" {
        return Err(AppError::Conflict(format!(
            "This timesheet is already {}; only a pending one can be decided.",
            sheet.status
        )));
    }
    let note = input.note.trim();
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let decided = sheets::decide_for_client(
        &mut tx,
        agency.id,
        id,
        status,
        (author.staff_id(), author.name),
        note,
    )
    .await?;
    if !decided {
        return Err(AppError::Conflict(
            "This timesheet was decided or locked a moment ago; reload it.".into(),
        ));
    }
    audit::record(
        &mut *tx,
        agency.id,
        author.actor,
        "timesheet.decided_for_client",
        target(&sheet),
        &format!("{}: {note}", status.as_str()),
    )
    .await?;
    tx.commit().await?;
    let decided = find(state, agency, id).await?;
    let actor = author.person();
    let sheet = Decided {
        id: decided.id,
        client: (decided.client_id, &decided.client_name),
        worksite: decided
            .worksite_id
            .map(|id| (id, decided.worksite_name.as_deref().unwrap_or_default())),
        worker_name: &decided.worker_name,
        work_date: &decided.work_date,
        minutes_worked: decided.minutes_worked,
    };
    let reason = (status == TimesheetStatus::Rejected).then_some(note);
    let event = decision_event(state, agency, &sheet, &actor, status, reason);
    notifications::raise(state, agency, &event).await;
    Ok(decided)
}

/// New hours for a rejected timesheet, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CorrectionInput {
    /// `HH:MM`
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_time: String,
    #[serde(default)]
    pub break_minutes: String,
    /// What changed and why; the client reads it.
    #[serde(default)]
    pub note: String,
}

/// Corrects a rejected timesheet with new hours: the charge follows, and it goes back to the
/// client as pending with the correction in its history.
pub async fn correct(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
    input: &CorrectionInput,
) -> AppResult<AgencyTimesheet> {
    let sheet = find(state, agency, id).await?;
    let mut errors = FieldErrors::default();
    let (start, end) = (input.start_time.trim(), input.end_time.trim());
    let break_minutes = match input.break_minutes.trim() {
        "" => Some(0),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|m| (0..=24 * 60).contains(m)),
    };
    if break_minutes.is_none() {
        errors.add(
            "break_minutes",
            "Enter the break in minutes, from 0 to 1440.",
        );
    }
    let shift = NewTimesheet {
        external_id: None,
        client_id: sheet.client_id,
        worksite_id: sheet.worksite_id,
        worker_id: sheet.worker_id,
        work_date: &sheet.work_date,
        start_time: start,
        end_time: end,
        break_minutes: break_minutes.unwrap_or_default(),
        charge_rate_cents: sheet.charge_rate_cents,
        pay_rate_cents: sheet.pay_rate_cents,
    };
    let minutes = match shift.minutes_worked() {
        Some(0) => {
            errors.add(
                "break_minutes",
                "The break is as long as the shift or longer.",
            );
            0
        }
        Some(minutes) => minutes,
        None => {
            errors.add(
                "start_time",
                "Enter the start and end like 08:00 and 16:30.",
            );
            0
        }
    };
    errors.required("note", "note for the client", &input.note, MAX_NOTE);
    errors.into_result()?;
    refuse_locked(state, agency, &sheet).await?;
    if sheet.status != "rejected" {
        return Err(AppError::Conflict(format!(
            "This timesheet is {}; only a rejected one can be corrected.",
            sheet.status
        )));
    }
    let correction = Correction {
        start_time: start,
        end_time: end,
        break_minutes: shift.break_minutes,
        minutes_worked: minutes,
        note: input.note.trim(),
    };
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let changed = sheets::correct(
        &mut tx,
        agency.id,
        &sheet,
        &correction,
        (author.staff_id(), author.name),
    )
    .await?;
    if !changed {
        return Err(AppError::Conflict(
            "This timesheet changed a moment ago; reload it.".into(),
        ));
    }
    audit::record(
        &mut *tx,
        agency.id,
        author.actor,
        "timesheet.corrected",
        target(&sheet),
        &format!(
            "{start}–{end}, {} min break: {}",
            correction.break_minutes, correction.note
        ),
    )
    .await?;
    tx.commit().await?;
    find(state, agency, id).await
}

/// A week to lock: any day of it, and one client or every client.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LockInput {
    /// `YYYY-MM-DD`, any day of the week.
    #[serde(default)]
    pub week: String,
    /// Empty: every client.
    #[serde(default)]
    pub client_id: String,
}

/// Locks a week for payroll; returns the lock's id.
pub async fn lock(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    input: &LockInput,
) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let monday = parse_date(input.week.trim()).map(monday_of);
    if monday.is_none() {
        errors.add("week", "Enter a day of the week to lock, like 2026-11-30.");
    }
    let pool = &state.db().pool;
    let client = match input.client_id.trim() {
        "" => None,
        text => {
            let found = match text.parse::<i64>() {
                Ok(id) => clients::get(pool, agency.id, id).await?,
                Err(_) => None,
            };
            if found.is_none() {
                errors.add(
                    "client_id",
                    "Choose one of the agency's clients, or every client.",
                );
            }
            found
        }
    };
    let Some(monday) = monday.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let (start, end) = (iso(monday), iso(monday + time::Duration::days(6)));
    let mut tx = crate::db::begin_write(pool).await?;
    let id = sheets::lock(
        &mut tx,
        agency.id,
        client.as_ref().map(|c| c.id),
        (&start, &end),
        (author.staff_id(), author.name),
    )
    .await?
    .ok_or_else(|| {
        AppError::Conflict(format!(
            "The week of {start} to {end} is already locked for {}.",
            client.as_ref().map_or("every client", |c| c.name.as_str())
        ))
    })?;
    let label = format!(
        "{start} to {end}, {}",
        client.as_ref().map_or("every client", |c| c.name.as_str())
    );
    audit::record(
        &mut *tx,
        agency.id,
        author.actor,
        "timesheet.week_locked",
        Target {
            kind: Some("timesheet_lock"),
            id: Some(id),
            label: Some(&label),
        },
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes a lock (admins only: the handlers check).
pub async fn unlock(
    state: &AppState,
    agency: &Agency,
    author: Author<'_>,
    id: i64,
) -> AppResult<()> {
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let lock = sheets::unlock(&mut tx, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let label = format!(
        "{} to {}, {}",
        lock.week_start,
        lock.week_end,
        lock.client_name.as_deref().unwrap_or("every client")
    );
    audit::record(
        &mut *tx,
        agency.id,
        author.actor,
        "timesheet.week_unlocked",
        Target {
            kind: Some("timesheet_lock"),
            id: Some(id),
            label: Some(&label),
        },
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn target(sheet: &AgencyTimesheet) -> Target<'_> {
    Target {
        kind: Some("timesheet"),
        id: Some(sheet.id),
        label: Some(&sheet.worker_name),
    }
}
