//! Timesheets: hours a worker spent at a client, with the rate the client is charged and the
//! rate the worker is paid. The pay rate never leaves the manage side.

use sqlx::{AnyConnection, AnyExecutor, AnyPool, AssertSqlSafe};
use time::{Date, Duration};

use super::Timestamp;
use super::scope::{Arg, Conditions, Page, client_list};
use crate::dates::{iso, monday_of};

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

/// Sets the outcome of those of the timesheets still pending, in one statement, and writes
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
        "UPDATE timesheets SET status = $1, rejection_reason = $2, decided_by = $3, \
         decided_at = $4, updated_at = $4 WHERE agency_id = $5 AND id IN ({}) \
         AND status = 'pending' RETURNING id",
        ids.join(", ")
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

/// How many timesheets of the clients wait for a decision, from the day totals.
pub async fn pending_count<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(pending), 0) AS BIGINT) FROM timesheet_day_totals \
         WHERE agency_id = $1 AND client_id IN ({})",
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
/// timesheets left out), grouped, from the totals the database keeps beside the timesheets
/// (migration 0050). Weeks are folded from days by the caller, which keeps the SQL the same
/// on both databases.
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
            let (week_key, sheet_key, label, join) = if grouping == Grouping::Worker {
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
            let cover = WeekCover::of(from, to);
            let mut parts = Vec::new();
            if let Some((first, last)) = cover.weeks {
                parts.push(format!(
                    "SELECT {week_key} AS k, entries, minutes, charge_cents \
                     FROM timesheet_week_totals WHERE agency_id = {agency} \
                     AND client_id IN ({clients}) AND week >= {} AND week <= {}",
                    params.param(Arg::Text(iso(first))),
                    params.param(Arg::Text(iso(last))),
                ));
            }
            for (sign, days) in [("", &cover.add), ("-", &cover.subtract)] {
                if days.is_empty() {
                    continue;
                }
                let dates: Vec<String> = days
                    .iter()
                    .map(|(start, end)| {
                        format!(
                            "(work_date >= {} AND work_date <= {})",
                            params.param(Arg::Text(iso(*start))),
                            params.param(Arg::Text(iso(*end))),
                        )
                    })
                    .collect();
                parts.push(format!(
                    "SELECT {sheet_key} AS k, {sign}1 AS entries, {sign}minutes_worked AS minutes, \
                     {sign}charge_amount_cents AS charge_cents FROM timesheets \
                     WHERE agency_id = {agency} AND client_id IN ({clients}) \
                     AND status <> 'rejected' AND ({})",
                    dates.join(" OR ")
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

/// How a date range (inclusive) is added up for the reports by worker and by worksite: the
/// week totals of the weeks from `weeks.0` to `weeks.1` (Mondays), plus the timesheets of the
/// days in `add`, less those of the days in `subtract`. A week the range covers in part
/// comes from its own timesheets when it has at most three days in the range, else from its
/// week's totals less the days outside the range: at most three days of timesheets are read
/// at each end, whatever the range.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WeekCover {
    weeks: Option<(Date, Date)>,
    add: Vec<(Date, Date)>,
    subtract: Vec<(Date, Date)>,
}

/// How a partly covered week is counted.
enum PartialWeek {
    /// From the timesheets of these days.
    Days((Date, Date)),
    /// From the week's totals, less the timesheets of these days.
    WeekLess(Vec<(Date, Date)>),
}

impl WeekCover {
    const WEEK: Duration = Duration::weeks(1);

    fn of(from: Date, to: Date) -> Self {
        let (head, tail) = (monday_of(from), monday_of(to));
        let mut cover = Self {
            weeks: None,
            add: Vec::new(),
            subtract: Vec::new(),
        };
        let (mut first, mut last) = (head, tail);
        if let Some(part) = Self::partial(head, from, to)
            && cover.count(part)
        {
            first = head + Self::WEEK;
        }
        if tail != head
            && let Some(part) = Self::partial(tail, from, to)
            && cover.count(part)
        {
            last = tail - Self::WEEK;
        }
        cover.weeks = (first <= last).then_some((first, last));
        cover
    }

    /// How the week from `monday` is counted, when the range covers only part of it.
    fn partial(monday: Date, from: Date, to: Date) -> Option<PartialWeek> {
        let sunday = monday + Duration::days(6);
        let (start, end) = (from.max(monday), to.min(sunday));
        if (start, end) == (monday, sunday) {
            return None;
        }
        if (end - start).whole_days() < 3 {
            return Some(PartialWeek::Days((start, end)));
        }
        let mut outside = Vec::new();
        if start > monday {
            outside.push((monday, start - Duration::days(1)));
        }
        if end < sunday {
            outside.push((end + Duration::days(1), sunday));
        }
        Some(PartialWeek::WeekLess(outside))
    }

    /// Records a partial week; true when it is counted from its days alone (so its week's
    /// totals are not read).
    fn count(&mut self, part: PartialWeek) -> bool {
        match part {
            PartialWeek::Days(days) => {
                self.add.push(days);
                true
            }
            PartialWeek::WeekLess(days) => {
                self.subtract.extend(days);
                false
            }
        }
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

#[cfg(test)]
mod tests {
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

    /// How many times each day counts: once per week of `weeks`, once per day of `add`,
    /// minus once per day of `subtract`.
    fn counted(cover: &WeekCover) -> std::collections::BTreeMap<Date, i64> {
        let mut counts = std::collections::BTreeMap::new();
        let mut count = |(start, end): (Date, Date), by: i64| {
            let mut d = start;
            while d <= end {
                *counts.entry(d).or_insert(0) += by;
                d += Duration::days(1);
            }
        };
        if let Some((first, last)) = cover.weeks {
            count((first, last + Duration::days(6)), 1);
        }
        for days in &cover.add {
            count(*days, 1);
        }
        for days in &cover.subtract {
            count(*days, -1);
        }
        counts
    }

    #[test]
    fn a_week_cover_counts_each_day_of_the_range_once_and_reads_few_days() {
        let monday = date!(2026 - 11 - 02);
        for start in 0..14 {
            for length in 0..40 {
                let from = monday + Duration::days(start);
                let to = from + Duration::days(length);
                let cover = WeekCover::of(from, to);
                if let Some((first, last)) = cover.weeks {
                    assert_eq!(monday_of(first), first);
                    assert_eq!(monday_of(last), last);
                }
                let counts = counted(&cover);
                let mut d = from - Duration::weeks(2);
                while d <= to + Duration::weeks(2) {
                    let expected = i64::from(from <= d && d <= to);
                    assert_eq!(
                        counts.get(&d).copied().unwrap_or(0),
                        expected,
                        "{d} in {from}..{to}"
                    );
                    d += Duration::days(1);
                }
                let read: i64 = cover
                    .add
                    .iter()
                    .chain(&cover.subtract)
                    .map(|(start, end)| (*end - *start).whole_days() + 1)
                    .sum();
                assert!(read <= 6, "{from}..{to} reads {read} days: {cover:?}");
            }
        }
    }

    #[test]
    fn whole_weeks_come_from_the_week_totals_alone() {
        let cover = WeekCover::of(date!(2026 - 10 - 26), date!(2026 - 11 - 22));
        assert_eq!(
            cover.weeks,
            Some((date!(2026 - 10 - 26), date!(2026 - 11 - 16)))
        );
        assert!(cover.add.is_empty() && cover.subtract.is_empty());
        // Thursday to the next Tuesday: Thursday–Sunday is a week less Monday–Wednesday,
        // Monday–Tuesday comes from its days.
        let cover = WeekCover::of(date!(2026 - 11 - 05), date!(2026 - 11 - 10));
        assert_eq!(
            cover.weeks,
            Some((date!(2026 - 11 - 02), date!(2026 - 11 - 02)))
        );
        assert_eq!(
            cover.subtract,
            vec![(date!(2026 - 11 - 02), date!(2026 - 11 - 04))]
        );
        assert_eq!(
            cover.add,
            vec![(date!(2026 - 11 - 09), date!(2026 - 11 - 10))]
        );
    }

    #[test]
    fn charges_round_to_the_nearest_cent() {
        assert_eq!(charge_cents(480, 2500), 20_000);
        assert_eq!(charge_cents(1, 2550), 43);
    }
}
