//! Field-service jobs carried out for a client.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug)]
pub struct NewJob<'a> {
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub number: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// `scheduled`, `in-progress`, `completed` or `cancelled`.
    pub status: &'a str,
    pub scheduled_on: Option<&'a str>,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewJob<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO jobs (agency_id, client_id, worksite_id, number, title, description, status, \
         scheduled_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.worksite_id)
    .bind(new.number)
    .bind(new.title)
    .bind(new.description)
    .bind(new.status)
    .bind(new.scheduled_on)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}
