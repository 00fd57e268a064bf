//! Timesheets: hours a worker spent at a client, with the rate the client is charged and the
//! rate the worker is paid. The pay rate never leaves the manage side.

use sqlx::AnyConnection;

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimesheetStatus {
    Pending,
    Approved,
    Rejected,
}

impl TimesheetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

#[derive(Debug)]
pub struct NewTimesheet<'a> {
    pub external_id: Option<&'a str>,
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub worker_id: i64,
    /// `YYYY-MM-DD`
    pub work_date: &'a str,
    /// `HH:MM`
    pub start_time: &'a str,
    pub end_time: &'a str,
    pub break_minutes: i64,
    pub charge_rate_cents: i64,
    pub pay_rate_cents: i64,
}

impl NewTimesheet<'_> {
    /// Minutes between start and end less the break; a shift past midnight wraps.
    pub fn minutes_worked(&self) -> Option<i64> {
        let start = minutes_of_day(self.start_time)?;
        let end = minutes_of_day(self.end_time)?;
        let span = if end > start {
            end - start
        } else {
            end + 24 * 60 - start
        };
        Some((span - self.break_minutes).max(0))
    }
}

fn minutes_of_day(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Charge for a number of minutes at an hourly rate, rounded to the nearest cent.
pub fn charge_cents(minutes: i64, rate_cents: i64) -> i64 {
    (minutes * rate_cents + 30) / 60
}

/// Records a timesheet as submitted (pending) with its first history entry.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create(
    conn: &mut AnyConnection,
    agency_id: i64,
    new: &NewTimesheet<'_>,
) -> sqlx::Result<i64> {
    let minutes = new
        .minutes_worked()
        .ok_or_else(|| sqlx::Error::Protocol("start and end must be HH:MM".into()))?;
    let now = Timestamp::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO timesheets (agency_id, external_id, client_id, worksite_id, worker_id, \
         work_date, start_time, end_time, break_minutes, minutes_worked, charge_rate_cents, \
         charge_amount_cents, pay_rate_cents, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $14) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.external_id)
    .bind(new.client_id)
    .bind(new.worksite_id)
    .bind(new.worker_id)
    .bind(new.work_date)
    .bind(new.start_time)
    .bind(new.end_time)
    .bind(new.break_minutes)
    .bind(minutes)
    .bind(new.charge_rate_cents)
    .bind(charge_cents(minutes, new.charge_rate_cents))
    .bind(new.pay_rate_cents)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    record_event(
        conn,
        agency_id,
        id,
        "submitted",
        ("system", None, "Agency"),
        None,
    )
    .await?;
    Ok(id)
}

/// Sets the outcome of a timesheet and writes it to its history.
pub async fn decide(
    conn: &mut AnyConnection,
    agency_id: i64,
    timesheet_id: i64,
    status: TimesheetStatus,
    portal_user: (i64, &str),
    reason: Option<&str>,
) -> sqlx::Result<()> {
    let now = Timestamp::now();
    sqlx::query(
        "UPDATE timesheets SET status = $1, rejection_reason = $2, decided_by = $3, \
         decided_at = $4, updated_at = $4 WHERE agency_id = $5 AND id = $6",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(portal_user.0)
    .bind(now)
    .bind(agency_id)
    .bind(timesheet_id)
    .execute(&mut *conn)
    .await?;
    record_event(
        conn,
        agency_id,
        timesheet_id,
        status.as_str(),
        ("portal", Some(portal_user.0), portal_user.1),
        reason,
    )
    .await
}

/// Adds an entry to a timesheet's history.
pub async fn record_event(
    conn: &mut AnyConnection,
    agency_id: i64,
    timesheet_id: i64,
    action: &str,
    (actor_kind, actor_id, actor_name): (&str, Option<i64>, &str),
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO timesheet_events (agency_id, timesheet_id, action, actor_kind, actor_id, \
         actor_name, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(agency_id)
    .bind(timesheet_id)
    .bind(action)
    .bind(actor_kind)
    .bind(actor_id)
    .bind(actor_name)
    .bind(reason)
    .bind(Timestamp::now())
    .execute(conn)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift<'a>(start: &'a str, end: &'a str, break_minutes: i64) -> NewTimesheet<'a> {
        NewTimesheet {
            external_id: None,
            client_id: 1,
            worksite_id: None,
            worker_id: 1,
            work_date: "2026-11-02",
            start_time: start,
            end_time: end,
            break_minutes,
            charge_rate_cents: 2500,
            pay_rate_cents: 1500,
        }
    }

    #[test]
    fn minutes_worked_subtracts_the_break_and_wraps_midnight() {
        assert_eq!(shift("08:00", "16:30", 30).minutes_worked(), Some(480));
        assert_eq!(shift("22:00", "06:00", 0).minutes_worked(), Some(480));
        assert_eq!(shift("8am", "16:00", 0).minutes_worked(), None);
        assert_eq!(shift("08:00", "24:00", 0).minutes_worked(), None);
    }

    #[test]
    fn charges_round_to_the_nearest_cent() {
        assert_eq!(charge_cents(480, 2500), 20_000);
        assert_eq!(charge_cents(1, 2550), 43);
    }
}
