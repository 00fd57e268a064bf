//! Work requests a client files for the agency (more staff, a job, a quote).

use sqlx::AnyExecutor;

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
