//! Timesheets as the agency sees them: every client's, with the pay rate and the margin, the
//! decisions staff make for a client, corrections of rejected timesheets, and the pay-period
//! locks that freeze a week once payroll has run. Nothing here is reachable from the portal.

use sqlx::{AnyConnection, AnyExecutor, AssertSqlSafe};

use super::outbox::Page;
use super::scope::{Arg, Conditions};
use super::timesheets::{TimesheetStatus, charge_cents, not_locked, record_event};
use super::{Flag, Timestamp};

/// A timesheet with what only the agency sees: the pay rate, the pay and the margin, and who
/// decided it (a client contact, or staff on the client's behalf with their note).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AgencyTimesheet {
    pub id: i64,
    pub external_id: Option<String>,
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
    pub pay_rate_cents: i64,
    pub pay_amount_cents: i64,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_by_staff_name: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    #[sqlx(try_from = "Flag")]
    pub locked: bool,
}

impl AgencyTimesheet {
    /// What the agency keeps of the charge after paying the worker.
    pub fn margin_cents(&self) -> i64 {
        self.charge_amount_cents - self.pay_amount_cents
    }
}

const COLUMNS: &str = concat!(
    "t.id, t.external_id, t.client_id, c.name AS client_name, t.worksite_id, \
     s.name AS worksite_name, t.worker_id, w.first_name || ' ' || w.last_name AS worker_name, \
     t.work_date, t.start_time, t.end_time, t.break_minutes, t.minutes_worked, \
     t.charge_rate_cents, t.charge_amount_cents, t.pay_rate_cents, \
     (t.minutes_worked * t.pay_rate_cents + 30) / 60 AS pay_amount_cents, t.status, \
     t.rejection_reason, p.first_name || ' ' || p.last_name AS decided_by_name, \
     f.name AS decided_by_staff_name, t.decision_note, t.decided_at, t.updated_at, \
     CASE WHEN ",
    not_locked!(),
    " THEN 0 ELSE 1 END AS locked"
);

const JOINS: &str = "FROM timesheets t JOIN clients c ON c.id = t.client_id \
     JOIN workers w ON w.id = t.worker_id LEFT JOIN worksites s ON s.id = t.worksite_id \
     LEFT JOIN portal_users p ON p.id = t.decided_by \
     LEFT JOIN staff_users f ON f.id = t.decided_by_staff";

/// How the agency's list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    WorkDate,
    Client,
    Worker,
    Hours,
    Status,
}

impl Sort {
    pub const ALL: [Self; 5] = [
        Self::WorkDate,
        Self::Client,
        Self::Worker,
        Self::Hours,
        Self::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkDate => "date",
            Self::Client => "client",
            Self::Worker => "worker",
            Self::Hours => "hours",
            Self::Status => "status",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn column(self) -> &'static str {
        match self {
            Self::WorkDate => "t.work_date",
            Self::Client => "c.name",
            Self::Worker => "w.last_name",
            Self::Hours => "t.minutes_worked",
            Self::Status => "t.status",
        }
    }
}

/// Which of the agency's timesheets the list shows. Dates are `YYYY-MM-DD`; `to` is
/// inclusive; `before` keeps those worked before a day (the overdue ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub client_id: Option<i64>,
    pub worksite_id: Option<i64>,
    pub worker_id: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
    pub status: Option<TimesheetStatus>,
    /// The portal user who decided.
    pub decided_by: Option<i64>,
    pub sort: Sort,
    pub descending: bool,
}

impl Filter {
    fn conditions(&self, agency_id: i64) -> Conditions {
        let mut conditions = Conditions::default();
        conditions.push("t.agency_id = {}", Arg::Int(agency_id));
        if let Some(status) = self.status {
            conditions.push("t.status = {}", Arg::Text(status.as_str().into()));
        }
        for (column, value) in [
            ("t.client_id = {}", self.client_id),
            ("t.worksite_id = {}", self.worksite_id),
            ("t.worker_id = {}", self.worker_id),
            ("t.decided_by = {}", self.decided_by),
        ] {
            if let Some(value) = value {
                conditions.push(column, Arg::Int(value));
            }
        }
        for (column, value) in [
            ("t.work_date >= {}", &self.from),
            ("t.work_date <= {}", &self.to),
            ("t.work_date < {}", &self.before),
        ] {
            if let Some(value) = value {
                conditions.push(column, Arg::Text(value.clone()));
            }
        }
        conditions
    }
}

/// One page of the agency's timesheets.
#[derive(Debug)]
pub struct Listing {
    pub rows: Vec<AgencyTimesheet>,
    /// How many match, counted up to [`super::timesheets::COUNT_CAP`] + 1.
    pub total: i64,
    /// The order asked for was by something other than the date over more than
    /// [`super::timesheets::COUNT_CAP`] matches: the page is in date order instead (sorting
    /// a million rows by client name has no answer in page time).
    pub sorted_by_date: bool,
}

/// One page of the agency's timesheets and how many match, counted as the portal's list
/// counts. Orders other than by date apply to at most [`super::timesheets::COUNT_CAP`]
/// matches (see [`Listing::sorted_by_date`]).
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn list(
    conn: &mut AnyConnection,
    agency_id: i64,
    filter: &Filter,
    page: Page,
) -> sqlx::Result<Listing> {
    let total = count(conn, agency_id, filter).await?;
    let conditions = filter.conditions(agency_id);
    let clause = conditions.clause();
    let direction = if filter.descending { "DESC" } else { "ASC" };
    let sorted_by_date = filter.sort != Sort::WorkDate && total > super::timesheets::COUNT_CAP;
    // By date, the order of the `timesheets_by_date` index (migration 0040); by anything
    // else, then by date.
    let by_date = format!("t.work_date {direction}, t.id {direction}");
    let order = if filter.sort == Sort::WorkDate || sorted_by_date {
        by_date
    } else {
        format!("{} {direction}, {by_date}", filter.sort.column())
    };
    let rows = conditions
        .bind(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} {JOINS} WHERE {clause} ORDER BY {order} LIMIT {} OFFSET {}",
            page.limit(),
            page.offset()
        ))))
        .fetch_all(&mut *conn)
        .await?;
    Ok(Listing {
        rows,
        total,
        sorted_by_date,
    })
}

/// How many of the agency's timesheets a filter matches, counted up to
/// [`super::timesheets::COUNT_CAP`] + 1.
pub async fn count(conn: &mut AnyConnection, agency_id: i64, filter: &Filter) -> sqlx::Result<i64> {
    let conditions = filter.conditions(agency_id);
    let total: (i64,) = conditions
        .bind(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM timesheets t WHERE {} LIMIT {}) capped",
            conditions.clause(),
            super::timesheets::COUNT_CAP + 1
        ))))
        .fetch_one(conn)
        .await?;
    Ok(total.0)
}

/// Every timesheet a filter matches, newest work first, at most `limit` (an export).
pub async fn all_matching(
    conn: &mut AnyConnection,
    agency_id: i64,
    filter: &Filter,
    limit: i64,
) -> sqlx::Result<Vec<AgencyTimesheet>> {
    let conditions = filter.conditions(agency_id);
    conditions
        .bind(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} {JOINS} WHERE {} ORDER BY t.work_date DESC, t.id DESC LIMIT {limit}",
            conditions.clause()
        ))))
        .fetch_all(conn)
        .await
}

/// One of the agency's timesheets.
pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<AgencyTimesheet>> {
    let sql = format!("SELECT {COLUMNS} {JOINS} WHERE t.agency_id = $1 AND t.id = $2");
    super::scope::one(db, sql, agency_id, id).await
}

/// Staff decide a pending timesheet for the client, with the note of their evidence; the
/// history records it as such. `false` when it was no longer pending.
pub async fn decide_for_client(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
    status: TimesheetStatus,
    (staff_id, staff_name): (Option<i64>, &str),
    note: &str,
) -> sqlx::Result<bool> {
    let reason = (status == TimesheetStatus::Rejected).then_some(note);
    let changed = sqlx::query(
        "UPDATE timesheets SET status = $1, rejection_reason = $2, decided_by = NULL, \
         decided_by_staff = $3, decision_note = $4, decided_at = $5, updated_at = $5 \
         WHERE agency_id = $6 AND id = $7 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(staff_id)
    .bind(note)
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if changed {
        let action = format!("{} on the client's behalf", status.as_str());
        record_event(
            conn,
            agency_id,
            id,
            &action,
            author(staff_id, staff_name),
            Some(note),
        )
        .await?;
    }
    Ok(changed)
}

/// A history line's author: a staff member, or the system for an API token.
fn author(staff_id: Option<i64>, name: &str) -> (&'static str, Option<i64>, &str) {
    match staff_id {
        Some(id) => ("staff", Some(id), name),
        None => ("system", None, name),
    }
}

/// New hours for a rejected timesheet.
#[derive(Debug, Clone, Copy)]
pub struct Correction<'a> {
    pub start_time: &'a str,
    pub end_time: &'a str,
    pub break_minutes: i64,
    pub minutes_worked: i64,
    /// What was changed and why, shown to the client.
    pub note: &'a str,
}

/// Corrects a rejected timesheet: the new hours and charge, back to the client as pending,
/// with the correction in its history. `false` when it was not rejected.
pub async fn correct(
    conn: &mut AnyConnection,
    agency_id: i64,
    sheet: &AgencyTimesheet,
    correction: &Correction<'_>,
    (staff_id, staff_name): (Option<i64>, &str),
) -> sqlx::Result<bool> {
    let changed = sqlx::query(
        "UPDATE timesheets SET start_time = $1, end_time = $2, break_minutes = $3, \
         minutes_worked = $4, charge_amount_cents = $5, status = 'pending', \
         rejection_reason = NULL, decided_by = NULL, decided_by_staff = NULL, \
         decision_note = NULL, decided_at = NULL, updated_at = $6 \
         WHERE agency_id = $7 AND id = $8 AND status = 'rejected'",
    )
    .bind(correction.start_time)
    .bind(correction.end_time)
    .bind(correction.break_minutes)
    .bind(correction.minutes_worked)
    .bind(charge_cents(
        correction.minutes_worked,
        sheet.charge_rate_cents,
    ))
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(sheet.id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if changed {
        let what = format!(
            "{}–{} with a {}-minute break (was {}–{} with {}): {}",
            correction.start_time,
            correction.end_time,
            correction.break_minutes,
            sheet.start_time,
            sheet.end_time,
            sheet.break_minutes,
            correction.note
        );
        record_event(
            conn,
            agency_id,
            sheet.id,
            "corrected",
            author(staff_id, staff_name),
            Some(&what),
        )
        .await?;
    }
    Ok(changed)
}

/// A week frozen after payroll: of one client, or of every client.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Lock {
    pub id: i64,
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
    /// The Monday and Sunday of the week.
    pub week_start: String,
    pub week_end: String,
    pub locked_by_name: String,
    pub locked_at: Timestamp,
}

impl Lock {
    /// Why a change is refused, for a 409 and the pages.
    pub fn explain(&self) -> String {
        let whose = self
            .client_name
            .as_deref()
            .map_or_else(|| "every client".to_owned(), |name| name.to_owned());
        format!(
            "The week of {} to {} is locked for payroll ({whose}) by {}; ask an admin to \
             unlock it first.",
            self.week_start, self.week_end, self.locked_by_name
        )
    }
}

const LOCK_COLUMNS: &str = "l.id, l.client_id, c.name AS client_name, l.week_start, l.week_end, \
     l.locked_by_name, l.locked_at FROM timesheet_locks l \
     LEFT JOIN clients c ON c.id = l.client_id";

/// The agency's locks, newest week first.
pub async fn locks<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<Lock>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LOCK_COLUMNS} WHERE l.agency_id = $1 ORDER BY l.week_start DESC, l.id DESC"
    )))
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// The lock covering a client's work on a day, if any.
pub async fn lock_covering<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    work_date: &str,
) -> sqlx::Result<Option<Lock>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LOCK_COLUMNS} WHERE l.agency_id = $1 \
         AND (l.client_id IS NULL OR l.client_id = $2) \
         AND l.week_start <= $3 AND l.week_end >= $3 ORDER BY l.id LIMIT 1"
    )))
    .bind(agency_id)
    .bind(client_id)
    .bind(work_date)
    .fetch_optional(db)
    .await
}

/// The condition, on a timesheet aliased `t`, that no lock covers it.
const NOT_LOCKED: &str = not_locked!();

/// Locks a week (Monday `week_start` to Sunday `week_end`) for one client or every client.
/// `None` when that week is already locked so.
pub async fn lock(
    conn: &mut AnyConnection,
    agency_id: i64,
    client_id: Option<i64>,
    (week_start, week_end): (&str, &str),
    (staff_id, staff_name): (Option<i64>, &str),
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO timesheet_locks (agency_id, client_id, week_start, week_end, locked_by, \
         locked_by_name, locked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(week_start)
    .bind(week_end)
    .bind(staff_id)
    .bind(staff_name)
    .bind(Timestamp::now())
    .fetch_optional(conn)
    .await
}

/// Removes a lock; the removed lock, or `None` when there was none.
pub async fn unlock(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<Lock>> {
    let found: Option<Lock> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LOCK_COLUMNS} WHERE l.agency_id = $1 AND l.id = $2"
    )))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if found.is_some() {
        sqlx::query("DELETE FROM timesheet_locks WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(found)
}

/// What waits per client: pending timesheets (with their hours, charge, oldest work day and
/// how many are past the approval deadline) and rejected ones waiting for the agency. Reads
/// the open-timesheet index only.
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize)]
pub struct Waiting {
    pub client_id: i64,
    pub pending: i64,
    pub pending_minutes: i64,
    pub pending_charge_cents: i64,
    pub oldest_pending: Option<String>,
    pub overdue: i64,
    pub rejected: i64,
}

/// [`Waiting`] for every client with something waiting (or for one client); `deadline` is
/// the first work day that is not yet overdue.
pub async fn waiting<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    deadline: &str,
    client_id: Option<i64>,
) -> sqlx::Result<Vec<Waiting>> {
    sqlx::query_as(
        "SELECT client_id, \
         CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
         CAST(SUM(CASE WHEN status = 'pending' THEN minutes_worked ELSE 0 END) AS BIGINT) \
           AS pending_minutes, \
         CAST(SUM(CASE WHEN status = 'pending' THEN charge_amount_cents ELSE 0 END) AS BIGINT) \
           AS pending_charge_cents, \
         MIN(CASE WHEN status = 'pending' THEN work_date END) AS oldest_pending, \
         CAST(SUM(CASE WHEN status = 'pending' AND work_date < $2 THEN 1 ELSE 0 END) AS BIGINT) \
           AS overdue, \
         CAST(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS BIGINT) AS rejected \
         FROM timesheets WHERE agency_id = $1 AND status <> 'approved' \
         AND ($3 IS NULL OR client_id = $3) GROUP BY client_id",
    )
    .bind(agency_id)
    .bind(deadline)
    .bind(client_id)
    .fetch_all(db)
    .await
}

/// Those of the timesheets `ids` that a lock covers.
pub async fn locked_among<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT t.id FROM timesheets t WHERE t.agency_id = $1 AND t.id IN ({}) \
         AND NOT {NOT_LOCKED} ORDER BY t.id",
        super::scope::client_list(ids)
    )))
    .bind(agency_id)
    .fetch_all(db)
    .await
}
