//! Field-service quotes offered to a client.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug)]
pub struct NewQuote<'a> {
    pub client_id: i64,
    pub number: &'a str,
    pub title: &'a str,
    /// `draft`, `sent`, `accepted`, `declined` or `expired`.
    pub status: &'a str,
    pub total_cents: i64,
    pub valid_until: Option<&'a str>,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewQuote<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO quotes (agency_id, client_id, number, title, status, total_cents, \
         valid_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.number)
    .bind(new.title)
    .bind(new.status)
    .bind(new.total_cents)
    .bind(new.valid_until)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}
