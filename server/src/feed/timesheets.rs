//! Timesheets by external id: `worker`, `client`, `worksite` (external ids), `work_date`,
//! `start_time`, `end_time`, `break_minutes`, `charge_rate_cents`, `pay_rate_cents`, and
//! optionally `minutes_worked` and `charge_amount_cents`, which are checked against what the
//! portal computes. A new timesheet is pending; a changed rejected one goes back to pending; an
//! approved one is locked.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Checked, Entity, Outcome, Upserted, invalid};
use crate::db::agency_timesheets;
use crate::db::records::{self as record, Kind, Param, Record};
use crate::db::timesheets::{NewTimesheet, charge_cents, record_event};
use crate::error::{AppError, AppResult};

#[derive(Debug)]
pub struct Timesheets;

/// The highest hourly rate accepted, in cents: a guard against a misplaced decimal point.
const MAX_RATE_CENTS: i64 = 10_000_000;

impl Entity for Timesheets {
    const KIND: &'static str = "timesheet";
    const PLURAL: &'static str = "timesheets";
    const TABLE: &'static str = "timesheets";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("client_id", Kind::Int),
        ("worksite_id", Kind::Int),
        ("worker_id", Kind::Int),
        ("work_date", Kind::Text),
        ("start_time", Kind::Text),
        ("end_time", Kind::Text),
        ("break_minutes", Kind::Int),
        ("minutes_worked", Kind::Int),
        ("charge_rate_cents", Kind::Int),
        ("charge_amount_cents", Kind::Int),
        ("pay_rate_cents", Kind::Int),
        ("status", Kind::Text),
        ("rejection_reason", Kind::Text),
        ("decided_at", Kind::Time),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let worker = fields
            .reference(conn, agency_id, "worker", Reference::Worker, true)
            .await?;
        let (client, worksite) = fields.client_and_worksite(conn, agency_id).await?;
        let work_date = fields.required_date("work_date", "work date");
        let start_time = fields.time_of_day("start_time", "start time");
        let end_time = fields.time_of_day("end_time", "end time");
        let break_minutes = fields
            .int("break_minutes", "break in minutes", 0, 24 * 60)
            .unwrap_or_default();
        let charge_rate_cents =
            fields.required_int("charge_rate_cents", "charge rate", 0, MAX_RATE_CENTS);
        let pay_rate_cents = fields.required_int("pay_rate_cents", "pay rate", 0, MAX_RATE_CENTS);
        let sent_minutes = fields.int("minutes_worked", "minutes worked", 0, 24 * 60);
        let sent_amount = fields.int("charge_amount_cents", "charge amount", 0, i64::MAX / 2);
        let shift = NewTimesheet {
            external_id: Some(external_id),
            client_id: client,
            worksite_id: worksite,
            worker_id: worker.unwrap_or_default(),
            work_date: &work_date,
            start_time: &start_time,
            end_time: &end_time,
            break_minutes,
            charge_rate_cents,
            pay_rate_cents,
        };
        let minutes = shift.minutes_worked().unwrap_or_default();
        let amount = charge_cents(minutes, charge_rate_cents);
        if fields.errors.get("start_time").is_none() && fields.errors.get("end_time").is_none() {
            if minutes == 0 {
                fields.errors.add(
                    "break_minutes",
                    "The break is as long as the shift or longer.",
                );
            }
            if sent_minutes.is_some_and(|sent| sent != minutes) {
                fields.errors.add(
                    "minutes_worked",
                    format!(
                        "From {start_time} to {end_time} less a {break_minutes}-minute break is {minutes} minutes."
                    ),
                );
            }
            if sent_amount.is_some_and(|sent| sent != amount) {
                fields.errors.add(
                    "charge_amount_cents",
                    format!(
                        "{minutes} minutes at {charge_rate_cents} cents an hour is {amount} cents."
                    ),
                );
            }
        }
        fields.finish()?;
        let record = Record {
            table: Self::TABLE,
            created_at: true,
            updated_at: true,
            columns: vec![
                ("client_id", client.into()),
                ("worksite_id", worksite.into()),
                ("worker_id", shift.worker_id.into()),
                ("work_date", work_date.clone().into()),
                ("start_time", start_time.into()),
                ("end_time", end_time.into()),
                ("break_minutes", break_minutes.into()),
                ("minutes_worked", minutes.into()),
                ("charge_rate_cents", charge_rate_cents.into()),
                ("charge_amount_cents", amount.into()),
                ("pay_rate_cents", pay_rate_cents.into()),
            ],
        };
        Ok(Checked {
            record,
            label: format!("{external_id} on {work_date}"),
        })
    }

    /// Like every row, plus the approval state: new rows are pending, a changed rejected row
    /// goes back to pending, an approved row is locked; the history records each change.
    async fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Upserted> {
        let Checked { mut record, label } = Self::check(conn, agency_id, external_id, row).await?;
        let stored =
            crate::db::timesheets::status_by_external_id(&mut *conn, agency_id, external_id)
                .await?;
        let status = stored
            .as_ref()
            .map_or_else(|| "pending".to_owned(), |(_, status)| status.clone());
        record.columns.push(("status", status.clone().into()));
        let changed = record::existing(conn, agency_id, external_id, &record)
            .await?
            .is_some_and(|(_, same)| !same);
        if changed || stored.is_none() {
            refuse_if_locked(conn, agency_id, stored.as_ref().map(|(id, _)| *id), &record).await?;
        }
        let resubmitted = changed && status == "rejected";
        if changed && status == "approved" {
            return Err(invalid(
                "status",
                "This timesheet is approved by the client, so it can no longer be changed.",
            ));
        }
        if resubmitted {
            record.columns.pop();
            record.columns.extend([
                ("status", "pending".to_owned().into()),
                ("rejection_reason", Param::Text(None)),
                ("decided_by", Param::Int(None)),
                ("decided_at", Param::Int(None)),
            ]);
        }
        let (id, outcome) = record::upsert(conn, agency_id, external_id, &record)
            .await
            .map_err(super::unique_as_invalid)?;
        let action = match outcome {
            Outcome::Created => Some("submitted"),
            Outcome::Updated if resubmitted => Some("resubmitted"),
            Outcome::Updated => Some("changed"),
            Outcome::Unchanged => None,
        };
        if let Some(action) = action {
            record_event(
                conn,
                agency_id,
                id,
                action,
                ("system", None, "Agency"),
                None,
            )
            .await?;
        }
        Ok(Upserted { id, outcome, label })
    }

    async fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> AppResult<Option<Value>> {
        let Some(mut row) =
            record::show(conn, agency_id, external_id, Self::TABLE, Self::SHOWN).await?
        else {
            return Ok(None);
        };
        let id = row.get("id").and_then(Value::as_i64).unwrap_or_default();
        let events = super::sync::timesheet_events(conn, agency_id, &[id]).await?;
        row.insert(
            "events".into(),
            Value::Array(events.into_iter().map(|(_, event)| event).collect()),
        );
        Ok(Some(Value::Object(row)))
    }
}

/// A timesheet in a week locked for payroll cannot be added or changed by the feed, neither
/// where it was nor where the change would put it: a 409 naming the lock.
async fn refuse_if_locked(
    conn: &mut AnyConnection,
    agency_id: i64,
    stored: Option<i64>,
    record: &Record,
) -> AppResult<()> {
    let value = |name: &str| record.columns.iter().find(|(column, _)| *column == name);
    let lock = match (value("client_id"), value("work_date")) {
        (Some((_, Param::Int(Some(client)))), Some((_, Param::Text(Some(date))))) => {
            agency_timesheets::lock_covering(&mut *conn, agency_id, *client, date).await?
        }
        _ => None,
    };
    let lock = match (lock, stored) {
        (Some(lock), _) => Some(lock),
        (None, Some(id)) => match agency_timesheets::get(&mut *conn, agency_id, id).await? {
            Some(sheet) => {
                agency_timesheets::lock_covering(
                    &mut *conn,
                    agency_id,
                    sheet.client_id,
                    &sheet.work_date,
                )
                .await?
            }
            None => None,
        },
        (None, None) => None,
    };
    match lock {
        Some(lock) => Err(AppError::Conflict(lock.explain())),
        None => Ok(()),
    }
}
