//! Work requests a client files for the agency (more staff, a job, a quote), and the
//! lifecycle staff move them through.

use sqlx::{AnyConnection, AnyExecutor, AssertSqlSafe};

use super::outbox::Page;
use super::scope::{Arg, Conditions};
use super::{Flag, Timestamp};

/// Where a request stands: filed (`new`), seen by the agency (`acknowledged`), booked for a
/// date (`scheduled`), and closed as `done` or `declined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Acknowledged,
    Scheduled,
    Done,
    Declined,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::New,
        Self::Acknowledged,
        Self::Scheduled,
        Self::Done,
        Self::Declined,
    ];

    /// The statuses that still ask something of the agency.
    pub const OPEN: [Self; 3] = [Self::New, Self::Acknowledged, Self::Scheduled];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::Scheduled => "scheduled",
            Self::Done => "done",
            Self::Declined => "declined",
        }
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// `IN (…)` contents naming the open statuses.
fn open_list() -> String {
    Status::OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug)]
pub struct NewWorkRequest<'a> {
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub portal_user_id: Option<i64>,
    pub title: &'a str,
    pub description: &'a str,
    pub needed_by: Option<&'a str>,
    pub workers_needed: Option<i64>,
    /// `low`, `normal`, `high` or `urgent`.
    pub urgency: &'a str,
    pub status: Status,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewWorkRequest<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO work_requests (agency_id, client_id, worksite_id, portal_user_id, title, \
         description, needed_by, workers_needed, urgency, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.worksite_id)
    .bind(new.portal_user_id)
    .bind(new.title.trim())
    .bind(new.description.trim())
    .bind(new.needed_by)
    .bind(new.workers_needed)
    .bind(new.urgency)
    .bind(new.status.as_str())
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct WorkRequestInfo {
    pub id: i64,
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub client_name: String,
    pub worksite_name: Option<String>,
    pub requested_by: Option<String>,
    pub title: String,
    pub description: String,
    pub needed_by: Option<String>,
    pub workers_needed: Option<i64>,
    pub urgency: String,
    pub status: String,
    pub portal_user_id: Option<i64>,
    /// The requester's sign-in email and account status, for replies by email.
    pub requested_by_email: Option<String>,
    pub requester_status: Option<String>,
    pub scheduled_for: Option<String>,
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
    pub assigned_email: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "r.id, r.client_id, r.worksite_id, c.name AS client_name, \
     s.name AS worksite_name, u.first_name || ' ' || u.last_name AS requested_by, r.title, \
     r.description, r.needed_by, r.workers_needed, r.urgency, r.status, \
     r.portal_user_id, u.email AS requested_by_email, u.status AS requester_status, \
     r.scheduled_for, r.assigned_to, a.name AS assigned_name, a.email AS assigned_email, \
     r.created_at, r.updated_at";

const JOINS: &str = "FROM work_requests r JOIN clients c ON c.id = r.client_id \
     LEFT JOIN worksites s ON s.id = r.worksite_id \
     LEFT JOIN portal_users u ON u.id = r.portal_user_id \
     LEFT JOIN staff_users a ON a.id = r.assigned_to";

fn select(client_ids: &[i64], condition: &str) -> String {
    format!(
        "SELECT {COLUMNS} {JOINS} WHERE r.agency_id = $1 AND r.client_id IN ({}) {condition}",
        super::scope::client_list(client_ids)
    )
}

/// The clients' work requests, newest first.
pub async fn list_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<WorkRequestInfo>> {
    let sql = select(client_ids, "ORDER BY r.created_at DESC, r.id DESC");
    super::scope::all(db, sql, agency_id).await
}

pub async fn get_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<WorkRequestInfo>> {
    super::scope::one(db, select(client_ids, "AND r.id = $2"), agency_id, id).await
}

/// How many of the clients' work requests are still open or in progress.
pub async fn open_count<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM work_requests WHERE agency_id = $1 AND client_id IN ({}) \
         AND status IN ({})",
        super::scope::client_list(client_ids),
        open_list()
    );
    sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(agency_id)
        .fetch_one(db)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Update {
    /// `staff`, `portal` or `system`.
    pub author_kind: String,
    pub author_name: String,
    pub body: String,
    pub status: Option<String>,
    /// A note among the agency's staff.
    #[sqlx(try_from = "Flag")]
    pub internal: bool,
    pub at: Timestamp,
}

/// Who sees a request's history: the client never sees internal notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Client,
    Staff,
}

pub async fn updates<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    work_request_id: i64,
    audience: Audience,
) -> sqlx::Result<Vec<Update>> {
    let internal = match audience {
        Audience::Client => "AND internal = 0",
        Audience::Staff => "",
    };
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT author_kind, author_name, body, status, internal, at FROM work_request_updates \
         WHERE agency_id = $1 AND work_request_id = $2 {internal} ORDER BY at, id"
    )))
    .bind(agency_id)
    .bind(work_request_id)
    .fetch_all(db)
    .await
}

/// A line added to a request's history.
#[derive(Debug, Clone, Copy)]
pub struct NewUpdate<'a> {
    /// (`staff`, `portal` or `system`, their id, the name shown)
    pub author: (&'a str, Option<i64>, &'a str),
    pub body: &'a str,
    /// The status the request moves to, with the date when it is `scheduled`.
    pub status: Option<(Status, Option<&'a str>)>,
    pub internal: bool,
}

/// Adds a line to a request's history and moves its status when the update names one.
pub async fn add_update(
    conn: &mut AnyConnection,
    agency_id: i64,
    work_request_id: i64,
    update: &NewUpdate<'_>,
) -> sqlx::Result<()> {
    let now = Timestamp::now();
    let (author_kind, author_id, author_name) = update.author;
    sqlx::query(
        "INSERT INTO work_request_updates (agency_id, work_request_id, author_kind, author_id, \
         author_name, body, status, internal, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(agency_id)
    .bind(work_request_id)
    .bind(author_kind)
    .bind(author_id)
    .bind(author_name)
    .bind(update.body)
    .bind(update.status.map(|(status, _)| status.as_str()))
    .bind(Flag(update.internal))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let moved = update.status.map(|(status, on)| (status.as_str(), on));
    sqlx::query(
        "UPDATE work_requests SET status = COALESCE($1, status), \
         scheduled_for = CASE WHEN $1 IS NULL THEN scheduled_for ELSE $2 END, updated_at = $3 \
         WHERE agency_id = $4 AND id = $5",
    )
    .bind(moved.map(|(status, _)| status))
    .bind(moved.and_then(|(_, on)| on))
    .bind(now)
    .bind(agency_id)
    .bind(work_request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Assigns a request to a team member (or to nobody).
pub async fn assign(
    conn: &mut AnyConnection,
    agency_id: i64,
    work_request_id: i64,
    staff_user_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE work_requests SET assigned_to = $1, updated_at = $2 WHERE agency_id = $3 AND id = $4",
    )
    .bind(staff_user_id)
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(work_request_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Which of the agency's requests the staff list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffFilter {
    pub client_id: Option<i64>,
    /// `None`: the open ones.
    pub status: Option<Status>,
    pub every_status: bool,
    pub urgency: Option<String>,
    pub assigned_to: Option<i64>,
}

/// One page of the agency's requests, most urgent then oldest first while open (newest first
/// when closed ones are shown), and how many match.
pub async fn list_for_agency(
    conn: &mut AnyConnection,
    agency_id: i64,
    filter: &StaffFilter,
    page: Page,
) -> sqlx::Result<(Vec<WorkRequestInfo>, i64)> {
    let mut conditions = Conditions::default();
    conditions.push("r.agency_id = {}", Arg::Int(agency_id));
    match (filter.status, filter.every_status) {
        (Some(status), _) => conditions.push("r.status = {}", Arg::Text(status.as_str().into())),
        (None, false) => conditions.push_fixed(format!("r.status IN ({})", open_list())),
        (None, true) => {}
    }
    if let Some(client) = filter.client_id {
        conditions.push("r.client_id = {}", Arg::Int(client));
    }
    if let Some(urgency) = &filter.urgency {
        conditions.push("r.urgency = {}", Arg::Text(urgency.clone()));
    }
    if let Some(member) = filter.assigned_to {
        conditions.push("r.assigned_to = {}", Arg::Int(member));
    }
    let clause = conditions.clause();
    let total: i64 = conditions
        .bind(sqlx::query_as::<_, (i64,)>(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM work_requests r WHERE {clause}"
        ))))
        .fetch_one(&mut *conn)
        .await?
        .0;
    let order = if filter.every_status || filter.status.is_some_and(|s| !s.is_open()) {
        "r.created_at DESC, r.id DESC"
    } else {
        "CASE r.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
         r.created_at, r.id"
    };
    let rows = conditions
        .bind(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} {JOINS} WHERE {clause} ORDER BY {order} LIMIT {} OFFSET {}",
            page.limit(),
            page.offset()
        ))))
        .fetch_all(&mut *conn)
        .await?;
    Ok((rows, total))
}

/// One of the agency's requests, whichever client filed it.
pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<WorkRequestInfo>> {
    let sql = format!("SELECT {COLUMNS} {JOINS} WHERE r.agency_id = $1 AND r.id = $2");
    super::scope::one(db, sql, agency_id, id).await
}

/// Open requests per client and urgency, with the oldest's filing time: the staff home.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenByClient {
    pub client_id: i64,
    pub urgency: String,
    pub requests: i64,
    pub oldest: Timestamp,
}

/// [`OpenByClient`] for every client (or for one).
pub async fn open_by_client<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: Option<i64>,
) -> sqlx::Result<Vec<OpenByClient>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT client_id, urgency, COUNT(*) AS requests, MIN(created_at) AS oldest \
         FROM work_requests WHERE agency_id = $1 AND status IN ({}) \
         AND ($2 IS NULL OR client_id = $2) GROUP BY client_id, urgency",
        open_list()
    )))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db)
    .await
}
