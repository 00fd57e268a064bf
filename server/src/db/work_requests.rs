//! Work requests a client files for the agency (more staff, a job, a quote).

use sqlx::{AnyExecutor, AssertSqlSafe};

use super::Timestamp;

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
    /// `open`, `in-progress`, `done` or `declined`.
    pub status: &'a str,
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
    .bind(new.status)
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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn select(client_ids: &[i64], condition: &str) -> String {
    format!(
        "SELECT r.id, r.client_id, r.worksite_id, c.name AS client_name, s.name AS worksite_name, \
         u.first_name || ' ' || u.last_name AS requested_by, r.title, r.description, \
         r.needed_by, r.workers_needed, r.urgency, r.status, r.created_at, r.updated_at \
         FROM work_requests r JOIN clients c ON c.id = r.client_id \
         LEFT JOIN worksites s ON s.id = r.worksite_id \
         LEFT JOIN portal_users u ON u.id = r.portal_user_id \
         WHERE r.agency_id = $1 AND r.client_id IN ({}) {condition}",
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
         AND status IN ('open', 'in-progress')",
        super::scope::client_list(client_ids)
    );
    sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(agency_id)
        .fetch_one(db)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Update {
    pub author_name: String,
    pub body: String,
    pub status: Option<String>,
    pub at: Timestamp,
}

pub async fn updates<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    work_request_id: i64,
) -> sqlx::Result<Vec<Update>> {
    sqlx::query_as(
        "SELECT author_name, body, status, at FROM work_request_updates \
         WHERE agency_id = $1 AND work_request_id = $2 ORDER BY at, id",
    )
    .bind(agency_id)
    .bind(work_request_id)
    .fetch_all(db)
    .await
}

/// Adds a line to a request's history (and moves its status when `status` is given).
pub async fn add_update(
    conn: &mut sqlx::AnyConnection,
    agency_id: i64,
    work_request_id: i64,
    (author_kind, author_id, author_name): (&str, Option<i64>, &str),
    body: &str,
    status: Option<&str>,
) -> sqlx::Result<()> {
    let now = Timestamp::now();
    sqlx::query(
        "INSERT INTO work_request_updates (agency_id, work_request_id, author_kind, author_id, \
         author_name, body, status, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(agency_id)
    .bind(work_request_id)
    .bind(author_kind)
    .bind(author_id)
    .bind(author_name)
    .bind(body)
    .bind(status)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if let Some(status) = status {
        sqlx::query(
            "UPDATE work_requests SET status = $1, updated_at = $2 WHERE agency_id = $3 AND id = $4",
        )
        .bind(status)
        .bind(now)
        .bind(agency_id)
        .bind(work_request_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
