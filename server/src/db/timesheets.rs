//! Timesheets: hours a worker spent at a client, with the rate the client is charged and the
//! rate the worker is paid. The pay rate never leaves the manage side.

use sqlx::{AnyConnection, AnyExecutor, AnyPool, AssertSqlSafe};

use super::Timestamp;
use super::scope::{Arg, Conditions, Page, client_list};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimesheetStatus {
    Pending,
    Approved,
    Rejected,
}

impl TimesheetStatus {
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

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

/// Sets the outcome of a pending timesheet and writes it to its history. A decided
/// timesheet is locked: the answer is `false` and nothing changes.
pub async fn decide(
    conn: &mut AnyConnection,
    agency_id: i64,
    timesheet_id: i64,
    status: TimesheetStatus,
    portal_user: (i64, &str),
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let now = Timestamp::now();
    let done = sqlx::query(
        "UPDATE timesheets SET status = $1, rejection_reason = $2, decided_by = $3, \
         decided_at = $4, updated_at = $4 WHERE agency_id = $5 AND id = $6 \
         AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(portal_user.0)
    .bind(now)
    .bind(agency_id)
    .bind(timesheet_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    record_event(
        conn,
        agency_id,
        timesheet_id,
        status.as_str(),
        ("portal", Some(portal_user.0), portal_user.1),
        reason,
    )
    .await?;
    Ok(true)
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

/// A timesheet as a client sees it: hours, charge rate and amount — the pay rate is not
/// even selected.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ClientTimesheet {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub worksite_id: Option<i64>,
    pub worksite_name: Option<String>,
    pub worker_id: i64,
    pub worker_name: String,
    pub work_date: String,
    pub start_time: String,
    pub end_time: String,
    pub break_minutes: i64,
    pub minutes_worked: i64,
    pub charge_rate_cents: i64,
    pub charge_amount_cents: i64,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub decided_at: Option<Timestamp>,
}

const CLIENT_COLUMNS: &str = "t.id, t.client_id, c.name AS client_name, t.worksite_id, \
     s.name AS worksite_name, t.worker_id, w.first_name || ' ' || w.last_name AS worker_name, \
     t.work_date, t.start_time, t.end_time, t.break_minutes, t.minutes_worked, \
     t.charge_rate_cents, t.charge_amount_cents, t.status, t.rejection_reason, t.decided_at";

const CLIENT_JOINS: &str = "FROM timesheets t JOIN clients c ON c.id = t.client_id \
     JOIN workers w ON w.id = t.worker_id LEFT JOIN worksites s ON s.id = t.worksite_id";

/// Which of a client's timesheets a list shows. Dates are `YYYY-MM-DD`; `to` is inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub worker_id: Option<i64>,
    pub worksite_id: Option<i64>,
    pub status: Option<TimesheetStatus>,
}

impl Filter {
    fn conditions(&self, agency_id: i64, client_ids: &[i64]) -> Conditions {
        let mut conditions = Conditions::default();
        conditions.push("t.agency_id = {}", Arg::Int(agency_id));
        conditions.push_fixed(format!("t.client_id IN ({})", client_list(client_ids)));
        if let Some(status) = self.status {
            conditions.push("t.status = {}", Arg::Text(status.as_str().into()));
        }
        if let Some(from) = &self.from {
            conditions.push("t.work_date >= {}", Arg::Text(from.clone()));
        }
        if let Some(to) = &self.to {
            conditions.push("t.work_date <= {}", Arg::Text(to.clone()));
        }
        if let Some(worker) = self.worker_id {
            conditions.push("t.worker_id = {}", Arg::Int(worker));
        }
        if let Some(site) = self.worksite_id {
            conditions.push("t.worksite_id = {}", Arg::Int(site));
        }
        conditions
    }
}

/// Lists count their matches up to this many; beyond it they say "more than".
pub const COUNT_CAP: i64 = 10_000;

/// One page of timesheets, newest work first, and how many match in all — counted up to
/// [`COUNT_CAP`] + 1, so that a list over a million rows costs no more than one over ten
/// thousand.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn list_for_clients(
    pool: &AnyPool,
    agency_id: i64,
    client_ids: &[i64],
    filter: &Filter,
    page: Page,
) -> sqlx::Result<(Vec<ClientTimesheet>, i64)> {
    let conditions = filter.conditions(agency_id, client_ids);
    let clause = conditions.clause();
    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM timesheets t WHERE {clause} LIMIT {}) capped",
        COUNT_CAP + 1
    );
    let total: i64 = conditions
        .bind(sqlx::query_as::<_, (i64,)>(AssertSqlSafe(count_sql)))
        .fetch_one(pool)
        .await?
        .0;
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} {CLIENT_JOINS} WHERE {clause} \
         ORDER BY t.work_date DESC, t.id DESC LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = conditions
        .bind(sqlx::query_as(AssertSqlSafe(sql)))
        .fetch_all(pool)
        .await?;
    Ok((rows, total))
}

/// The ids of every timesheet a filter matches that still waits for a decision (for
/// "approve all shown"), at most `limit`.
pub async fn pending_ids(
    pool: &AnyPool,
    agency_id: i64,
    client_ids: &[i64],
    filter: &Filter,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    let filter = Filter {
        status: Some(TimesheetStatus::Pending),
        ..filter.clone()
    };
    let conditions = filter.conditions(agency_id, client_ids);
    let sql = format!(
        "SELECT t.id FROM timesheets t WHERE {} ORDER BY t.work_date DESC, t.id DESC LIMIT {limit}",
        conditions.clause()
    );
    let rows: Vec<(i64,)> = conditions
        .bind(sqlx::query_as(AssertSqlSafe(sql)))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// One timesheet, when it belongs to one of the clients.
pub async fn get_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<ClientTimesheet>> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} {CLIENT_JOINS} WHERE t.agency_id = $1 AND t.id = $2 \
         AND t.client_id IN ({})",
        client_list(client_ids)
    );
    super::scope::one(db, sql, agency_id, id).await
}

/// A line of a timesheet's approval history.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TimesheetEvent {
    pub action: String,
    pub actor_name: String,
    pub reason: Option<String>,
    pub at: Timestamp,
}

pub async fn history<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    timesheet_id: i64,
) -> sqlx::Result<Vec<TimesheetEvent>> {
    sqlx::query_as(
        "SELECT action, actor_name, reason, at FROM timesheet_events \
         WHERE agency_id = $1 AND timesheet_id = $2 ORDER BY at, id",
    )
    .bind(agency_id)
    .bind(timesheet_id)
    .fetch_all(db)
    .await
}

/// How many timesheets of the clients wait for a decision.
pub async fn pending_count<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM timesheets WHERE agency_id = $1 AND client_id IN ({}) \
         AND status = 'pending'",
        client_list(client_ids)
    );
    sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(agency_id)
        .fetch_one(db)
        .await
}

/// How a report groups its hours and charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Day,
    Worker,
    Worksite,
}

/// Totals of one group of a report.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct Totals {
    /// The day (`YYYY-MM-DD`), worker id or worksite id.
    pub key: String,
    pub label: String,
    pub entries: i64,
    pub minutes: i64,
    pub charge_cents: i64,
}

/// Hours and charges of the clients' timesheets between two dates (inclusive, rejected
/// timesheets left out), grouped. Weeks are folded from days by the caller, which keeps the
/// SQL the same on both databases.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn totals<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    (from, to): (&str, &str),
    grouping: Grouping,
) -> sqlx::Result<Vec<Totals>> {
    let (key, label, joins, group) = match grouping {
        Grouping::Day => ("t.work_date", "t.work_date", "", "t.work_date"),
        Grouping::Worker => (
            "CAST(t.worker_id AS TEXT)",
            "w.first_name || ' ' || w.last_name",
            "JOIN workers w ON w.id = t.worker_id",
            "t.worker_id, w.first_name, w.last_name",
        ),
        Grouping::Worksite => (
            "CAST(COALESCE(t.worksite_id, 0) AS TEXT)",
            "COALESCE(s.name, 'No worksite')",
            "LEFT JOIN worksites s ON s.id = t.worksite_id",
            "t.worksite_id, s.name",
        ),
    };
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, COUNT(*) AS entries, \
         CAST(SUM(t.minutes_worked) AS BIGINT) AS minutes, \
         CAST(SUM(t.charge_amount_cents) AS BIGINT) AS charge_cents \
         FROM timesheets t {joins} WHERE t.agency_id = $1 AND t.client_id IN ({}) \
         AND t.work_date >= $2 AND t.work_date <= $3 AND t.status <> 'rejected' \
         GROUP BY {group} ORDER BY 2",
        client_list(client_ids)
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await
}

/// The workers who have timesheets at the clients, for a filter's choices.
pub async fn workers_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT w.id, w.first_name || ' ' || w.last_name FROM workers w WHERE w.agency_id = $1 \
         AND EXISTS (SELECT 1 FROM timesheets t WHERE t.agency_id = $1 AND t.worker_id = w.id \
         AND t.client_id IN ({})) ORDER BY w.last_name, w.first_name, w.id",
        client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
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
