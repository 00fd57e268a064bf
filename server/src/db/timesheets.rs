//! Timesheets: hours a worker spent at a client, with the rate the client is charged and the
//! rate the worker is paid. The pay rate never leaves the manage side.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use sqlx::{AnyConnection, AnyExecutor, AnyPool, AssertSqlSafe};
use time::{Date, Duration};

use super::scope::{Arg, Conditions, Page, client_list};
use super::{Flag, Timestamp};
use crate::dates::{first_of_month, iso, monday_of};

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
    ((0..24).contains(&h) && (0..60).contains(&m)).then(|| h * 60 + m)
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
    let decided = decide_many(
        conn,
        agency_id,
        &[timesheet_id],
        status,
        portal_user,
        reason,
    )
    .await?;
    Ok(!decided.is_empty())
}

/// Sets the outcome of those of the timesheets still pending and not locked for payroll, in
/// one statement, and writes
/// it to their histories; returns the ids decided, in ascending order. One statement keeps concurrent
/// decisions from deadlocking on PostgreSQL: each locks all its timesheets before the totals
/// trigger locks the totals rows they count in, in key order.
pub async fn decide_many(
    conn: &mut AnyConnection,
    agency_id: i64,
    timesheet_ids: &[i64],
    status: TimesheetStatus,
    portal_user: (i64, &str),
    reason: Option<&str>,
) -> sqlx::Result<Vec<i64>> {
    if timesheet_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = (0..timesheet_ids.len())
        .map(|n| format!("${}", n + 6))
        .collect();
    let sql = format!(
        "UPDATE timesheets AS t SET status = $1, rejection_reason = $2, decided_by = $3, \
         decided_at = $4, updated_at = $4 WHERE t.agency_id = $5 AND t.id IN ({}) \
         AND t.status = 'pending' AND {} RETURNING id",
        ids.join(", "),
        not_locked!()
    );
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(status.as_str())
        .bind(reason)
        .bind(portal_user.0)
        .bind(Timestamp::now())
        .bind(agency_id);
    for id in timesheet_ids {
        query = query.bind(*id);
    }
    let mut decided: Vec<i64> = query.fetch_all(&mut *conn).await?;
    decided.sort_unstable();
    for id in &decided {
        record_event(
            conn,
            agency_id,
            *id,
            status.as_str(),
            ("portal", Some(portal_user.0), portal_user.1),
            reason,
        )
        .await?;
    }
    Ok(decided)
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
    /// The evidence staff gave when they decided for the client.
    pub decision_note: Option<String>,
    /// Decided by the agency on the client's behalf.
    #[sqlx(try_from = "Flag")]
    pub decided_by_agency: bool,
    /// In a week locked for payroll: nobody can decide or change it.
    #[sqlx(try_from = "Flag")]
    pub locked: bool,
}

/// The condition, on a timesheet aliased `t`, that no pay-period lock covers it (see
/// [`super::agency_timesheets`]).
macro_rules! not_locked {
    () => {
        "NOT EXISTS (SELECT 1 FROM timesheet_locks l WHERE l.agency_id = t.agency_id \
         AND (l.client_id IS NULL OR l.client_id = t.client_id) \
         AND l.week_start <= t.work_date AND l.week_end >= t.work_date)"
    };
}
pub(crate) use not_locked;

const CLIENT_COLUMNS: &str = concat!(
    "t.id, t.client_id, c.name AS client_name, t.worksite_id, \
     s.name AS worksite_name, t.worker_id, w.first_name || ' ' || w.last_name AS worker_name, \
     t.work_date, t.start_time, t.end_time, t.break_minutes, t.minutes_worked, \
     t.charge_rate_cents, t.charge_amount_cents, t.status, t.rejection_reason, t.decided_at, \
     t.decision_note, CASE WHEN t.decided_by_staff IS NULL THEN 0 ELSE 1 END AS decided_by_agency, \
     CASE WHEN ",
    not_locked!(),
    " THEN 0 ELSE 1 END AS locked"
);

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
    conn: &mut AnyConnection,
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
        .fetch_one(&mut *conn)
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
        .fetch_all(&mut *conn)
        .await?;
    Ok((rows, total))
}

/// The ids of every timesheet a filter matches that still waits for a decision (for
/// "approve all shown") and is not locked for payroll, at most `limit`.
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
        "SELECT t.id FROM timesheets t WHERE {} AND {} \
         ORDER BY t.work_date DESC, t.id DESC LIMIT {limit}",
        conditions.clause(),
        not_locked!()
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

/// The timesheets with these ids that belong to one of the clients, in one query; ids that
/// are not such a timesheet are left out. The ids are numbers the caller parsed (the list is
/// written into the statement, as the client list is), at most a few hundred.
pub async fn many_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    ids: &[i64],
) -> sqlx::Result<Vec<ClientTimesheet>> {
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} {CLIENT_JOINS} WHERE t.agency_id = $1 AND t.id IN ({}) \
         AND t.client_id IN ({}) ORDER BY t.id",
        client_list(ids),
        client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
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

/// What the dashboard shows of the clients' timesheets, read from the day totals at once.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Glance {
    /// Timesheets waiting for a decision.
    pub pending: i64,
    /// Minutes worked in the week from the Monday asked about, and in the week before.
    pub this_week: i64,
    pub last_week: i64,
}

/// How many timesheets of the clients wait for a decision and the minutes worked in the
/// week from `monday` and the week before, in one read of the clients' day totals.
pub async fn glance<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    monday: Date,
) -> sqlx::Result<Glance> {
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(pending), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN work_date >= $2 AND work_date <= $3 THEN minutes END), 0) \
           AS BIGINT) AS this_week, \
         CAST(COALESCE(SUM(CASE WHEN work_date >= $4 AND work_date < $2 THEN minutes END), 0) \
           AS BIGINT) AS last_week \
         FROM timesheet_day_totals WHERE agency_id = $1 AND client_id IN ({})",
        client_list(client_ids)
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(iso(monday))
        .bind(iso(monday + Duration::days(6)))
        .bind(iso(monday - Duration::weeks(1)))
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
/// timesheets left out), grouped, from the totals the database keeps beside the timesheets
/// (migrations 0050 and 0060). Weeks are folded from days by the caller, which keeps the SQL
/// the same on both databases.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn totals<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    (from, to): (Date, Date),
    grouping: Grouping,
) -> sqlx::Result<Vec<Totals>> {
    let mut params = Conditions::default();
    let agency = params.param(Arg::Int(agency_id));
    let clients = client_list(client_ids);
    let sql = match grouping {
        Grouping::Day => format!(
            "SELECT work_date AS key, work_date AS label, CAST(SUM(entries) AS BIGINT) AS entries, \
             CAST(SUM(minutes) AS BIGINT) AS minutes, \
             CAST(SUM(charge_cents) AS BIGINT) AS charge_cents \
             FROM timesheet_day_totals WHERE agency_id = {agency} AND client_id IN ({clients}) \
             AND work_date >= {} AND work_date <= {} \
             GROUP BY work_date HAVING SUM(entries) > 0 ORDER BY work_date",
            params.param(Arg::Text(iso(from))),
            params.param(Arg::Text(iso(to))),
        ),
        Grouping::Worker | Grouping::Worksite => {
            let (totals_key, sheet_key, label, join) = if grouping == Grouping::Worker {
                (
                    "worker_id",
                    "worker_id",
                    "w.first_name || ' ' || w.last_name",
                    "JOIN workers w ON w.id = g.k",
                )
            } else {
                (
                    "worksite_id",
                    "COALESCE(worksite_id, 0)",
                    "COALESCE(s.name, 'No worksite')",
                    "LEFT JOIN worksites s ON s.id = g.k",
                )
            };
            // One part per run, each a range of one key, so that both databases read it from
            // the key's index.
            let mut parts = Vec::new();
            for run in Cover::of(from, to).runs {
                let sign = if run.add { "" } else { "-" };
                let (table, column) = match run.bucket {
                    Bucket::Month => ("timesheet_month_totals", "month"),
                    Bucket::Week => ("timesheet_week_totals", "week"),
                    Bucket::Day => ("timesheets", "work_date"),
                };
                let (key, [entries, minutes, charges], counted) = if run.bucket == Bucket::Day {
                    let values = ["1", "minutes_worked", "charge_amount_cents"];
                    (sheet_key, values, " AND status <> 'rejected'")
                } else {
                    (totals_key, ["entries", "minutes", "charge_cents"], "")
                };
                parts.push(format!(
                    "SELECT {key} AS k, {sign}{entries} AS entries, {sign}{minutes} AS minutes, \
                     {sign}{charges} AS charge_cents FROM {table} WHERE agency_id = {agency} \
                     AND client_id IN ({clients}){counted} \
                     AND {column} >= {} AND {column} <= {}",
                    params.param(Arg::Text(iso(run.first))),
                    params.param(Arg::Text(iso(run.last))),
                ));
            }
            format!(
                "SELECT CAST(g.k AS TEXT) AS key, {label} AS label, g.entries, g.minutes, \
                 g.charge_cents FROM (SELECT k, CAST(SUM(entries) AS BIGINT) AS entries, \
                 CAST(SUM(minutes) AS BIGINT) AS minutes, \
                 CAST(SUM(charge_cents) AS BIGINT) AS charge_cents \
                 FROM ({}) parts GROUP BY k HAVING SUM(entries) > 0) g {join} \
                 ORDER BY label, g.k",
                parts.join(" UNION ALL ")
            )
        }
    };
    params
        .bind(sqlx::query_as(AssertSqlSafe(sql)))
        .fetch_all(db)
        .await
}

/// What a report by worker or by worksite adds up: the month totals, the week totals, or the
/// timesheets of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Month,
    Week,
    Day,
}

impl Bucket {
    const ALL: [Self; 3] = [Self::Month, Self::Week, Self::Day];

    /// About how much reading one bucket costs, a week's totals rows counting 4: a month's
    /// hold a few more workers and worksites than a week's, and a day's timesheets, about as
    /// many as a week's totals, are read from the table rather than from a covering key.
    fn cost(self) -> u32 {
        match self {
            Self::Month => 5,
            Self::Week => 4,
            Self::Day => 6,
        }
    }

    /// The day after the bucket that starts on `day`, when one does.
    fn after(self, day: Date) -> Option<Date> {
        match self {
            Self::Month => (day.day() == 1).then(|| first_of_month(day + Duration::days(31))),
            Self::Week => (monday_of(day) == day).then_some(day + Duration::weeks(1)),
            Self::Day => Some(day + Duration::days(1)),
        }
    }

    /// The first day of the bucket that ends the day before `day`, when one does.
    fn before(self, day: Date) -> Option<Date> {
        let last = day - Duration::days(1);
        match self {
            Self::Month => (day.day() == 1).then(|| first_of_month(last)),
            Self::Week => (monday_of(day) == day).then_some(day - Duration::weeks(1)),
            Self::Day => Some(last),
        }
    }
}

/// Consecutive buckets of one kind, from the one starting on `first` to the one starting on
/// `last`, counted in (`add`) or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    bucket: Bucket,
    first: Date,
    last: Date,
    add: bool,
}

/// A step of a [`Cover`]'s walk: the day it leaves and the one bucket it counts.
type Step = (Date, Run);

/// How a date range (inclusive) is added up for the reports by worker and by worksite: runs
/// of buckets that, counted in and out, count each day of the range once and no other day,
/// read at the least [`Bucket::cost`]. A year is about its twelve months and a few weeks and
/// days at its ends; a week with more than three days in the range is its total less the days
/// outside.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cover {
    runs: Vec<Run>,
}

impl Cover {
    /// The cheapest walk from the range's first day to the day after its last, each step a
    /// bucket: forward counts it in, backward counts it out, so the days between are counted
    /// once and those outside cancel. The walk stays within the months and weeks the range
    /// touches.
    fn of(from: Date, to: Date) -> Self {
        let end = to + Duration::days(1);
        let low = first_of_month(from).min(monday_of(from));
        let high = first_of_month(first_of_month(to) + Duration::days(31))
            .max(monday_of(to) + Duration::weeks(1));
        // The cheapest known cost of reaching each day, and the day and the bucket it was
        // reached from.
        let mut reached: HashMap<Date, (u32, Option<Step>)> = HashMap::new();
        let mut next = BinaryHeap::from([Reverse((0, from))]);
        reached.insert(from, (0, None));
        while let Some(Reverse((cost, day))) = next.pop() {
            if day == end {
                break;
            }
            if reached.get(&day).is_some_and(|(best, _)| *best < cost) {
                continue;
            }
            for bucket in Bucket::ALL {
                let steps = [(bucket.after(day), true), (bucket.before(day), false)];
                for (reach, add) in steps {
                    let Some(reach) = reach.filter(|d| (low..=high).contains(d)) else {
                        continue;
                    };
                    let cost = cost + bucket.cost();
                    if reached.get(&reach).is_none_or(|(best, _)| cost < *best) {
                        let first = if add { day } else { reach };
                        let run = Run {
                            bucket,
                            first,
                            last: first,
                            add,
                        };
                        reached.insert(reach, (cost, Some((day, run))));
                        next.push(Reverse((cost, reach)));
                    }
                }
            }
        }
        let mut steps = Vec::new();
        let mut day = end;
        while let Some((_, Some((previous, run)))) = reached.get(&day) {
            steps.push(*run);
            day = *previous;
        }
        let mut runs: Vec<Run> = Vec::new();
        for step in steps.into_iter().rev() {
            match runs.last_mut() {
                Some(run) if (run.bucket, run.add) == (step.bucket, step.add) => {
                    run.first = run.first.min(step.first);
                    run.last = run.last.max(step.last);
                }
                _ => runs.push(step),
            }
        }
        Self { runs }
    }
}

/// The workers who have timesheets at the clients, for a filter's choices.
pub async fn workers_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT w.id, w.first_name || ' ' || w.last_name FROM workers w WHERE w.agency_id = $1 \
         AND w.id IN (SELECT worker_id FROM timesheet_client_workers WHERE agency_id = $1 \
         AND client_id IN ({})) ORDER BY w.last_name, w.first_name, w.id",
        client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
}

/// The id and status of the agency's timesheet with this external id.
pub async fn status_by_external_id<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    external_id: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT id, status FROM timesheets WHERE agency_id = $1 AND external_id = $2")
        .bind(agency_id)
        .bind(external_id)
        .fetch_optional(db)
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::macros::date;

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

    /// How many times each day counts: once per day of a run counted in, minus once per day
    /// of a run counted out.
    fn counted(cover: &Cover) -> BTreeMap<Date, i64> {
        let mut counts = BTreeMap::new();
        for run in &cover.runs {
            let mut day = run.first;
            while day <= run.last {
                let after = run.bucket.after(day).expect("a run starts its buckets");
                while day < after {
                    *counts.entry(day).or_insert(0) += if run.add { 1 } else { -1 };
                    day += Duration::days(1);
                }
            }
        }
        counts
    }

    /// How many buckets of one kind a cover reads.
    fn read(cover: &Cover, bucket: Bucket) -> usize {
        let runs = cover.runs.iter().filter(|run| run.bucket == bucket);
        runs.map(|run| {
            let mut first = run.first;
            let mut count = 1;
            while first < run.last {
                first = bucket.after(first).expect("a run starts its buckets");
                count += 1;
            }
            count
        })
        .sum()
    }

    #[test]
    fn a_cover_counts_each_day_of_the_range_once_and_reads_few_days() {
        // From the Monday before a month that starts on a Thursday, across months that
        // start on every day of the week.
        let monday = date!(2026 - 09 - 28);
        for start in 0..40 {
            for length in (0..70).chain([180, 363, 364, 365, 400, 731]) {
                let from = monday + Duration::days(start);
                let to = from + Duration::days(length);
                let cover = Cover::of(from, to);
                let counts = counted(&cover);
                let mut day = from - Duration::days(62);
                while day <= to + Duration::days(62) {
                    let expected = i64::from(from <= day && day <= to);
                    assert_eq!(
                        counts.get(&day).copied().unwrap_or(0),
                        expected,
                        "{day} in {from}..{to}: {cover:?}"
                    );
                    day += Duration::days(1);
                }
                // A few days at each end (at most three from the range's end to a Monday and
                // three from there to a month's first), about a bucket a month over a long
                // range.
                let days = read(&cover, Bucket::Day);
                assert!(days <= 12, "{from}..{to} reads {days} days: {cover:?}");
                let buckets: usize = Bucket::ALL.into_iter().map(|b| read(&cover, b)).sum();
                let most = length as usize / 30 + 16;
                assert!(buckets <= most, "{from}..{to} reads {buckets}: {cover:?}");
            }
        }
    }

    fn run(bucket: Bucket, (first, last): (Date, Date), add: bool) -> Run {
        Run {
            bucket,
            first,
            last,
            add,
        }
    }

    #[test]
    fn whole_months_and_weeks_come_from_their_totals_alone() {
        let cover = Cover::of(date!(2026 - 10 - 26), date!(2026 - 11 - 22));
        let weeks = (date!(2026 - 10 - 26), date!(2026 - 11 - 16));
        assert_eq!(cover.runs, vec![run(Bucket::Week, weeks, true)]);
        let cover = Cover::of(date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        let months = (date!(2026 - 01 - 01), date!(2026 - 12 - 01));
        assert_eq!(cover.runs, vec![run(Bucket::Month, months, true)]);
        // The year of `cargo xtask bench-timesheets`: a week of November 2025, December to
        // October, then November 2026 less the week and the day after the range.
        let cover = Cover::of(date!(2025 - 11 - 24), date!(2026 - 11 - 22));
        let (first_week, last_week) = (date!(2025 - 11 - 24), date!(2026 - 11 - 23));
        let (december, november) = (date!(2025 - 12 - 01), date!(2026 - 11 - 01));
        let day = date!(2026 - 11 - 30);
        assert_eq!(
            cover.runs,
            vec![
                run(Bucket::Week, (first_week, first_week), true),
                run(Bucket::Month, (december, november), true),
                run(Bucket::Day, (day, day), false),
                run(Bucket::Week, (last_week, last_week), false),
            ]
        );
    }

    #[test]
    fn a_partial_week_is_its_days_or_its_week_less_the_others() {
        // Thursday to the next Tuesday: Thursday–Sunday is a week less Monday–Wednesday,
        // Monday–Tuesday comes from its days.
        let cover = Cover::of(date!(2026 - 11 - 05), date!(2026 - 11 - 10));
        let (monday, wednesday) = (date!(2026 - 11 - 02), date!(2026 - 11 - 04));
        let (next_monday, tuesday) = (date!(2026 - 11 - 09), date!(2026 - 11 - 10));
        assert_eq!(
            cover.runs,
            vec![
                run(Bucket::Day, (monday, wednesday), false),
                run(Bucket::Week, (monday, monday), true),
                run(Bucket::Day, (next_monday, tuesday), true),
            ]
        );
    }

    #[test]
    fn charges_round_to_the_nearest_cent() {
        assert_eq!(charge_cents(480, 2500), 20_000);
        assert_eq!(charge_cents(1, 2550), 43);
    }
}
