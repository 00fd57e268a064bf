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

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct QuoteInfo {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub number: String,
    pub title: String,
    pub status: String,
    pub total_cents: i64,
    pub valid_until: Option<String>,
    pub created_at: Timestamp,
}

fn select(client_ids: &[i64], condition: &str) -> String {
    format!(
        "SELECT q.id, q.client_id, c.name AS client_name, q.number, q.title, q.status, q.total_cents, \
         q.valid_until, q.created_at FROM quotes q JOIN clients c ON c.id = q.client_id \
         WHERE q.agency_id = $1 AND q.client_id IN ({}) AND q.status <> 'draft' {condition}",
        super::scope::client_list(client_ids)
    )
}

/// The quotes sent to the clients (drafts stay with the agency), newest first.
pub async fn list_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<QuoteInfo>> {
    let sql = select(client_ids, "ORDER BY q.created_at DESC, q.id DESC");
    super::scope::all(db, sql, agency_id).await
}

pub async fn get_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<QuoteInfo>> {
    super::scope::one(db, select(client_ids, "AND q.id = $2"), agency_id, id).await
}
