//! Files the agency shares with a client (stored in the database, so every server process
//! can serve them).

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug)]
pub struct NewDocument<'a> {
    pub client_id: i64,
    pub title: &'a str,
    pub file_name: &'a str,
    pub mime_type: &'a str,
    pub content: &'a [u8],
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewDocument<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO documents (agency_id, client_id, title, file_name, mime_type, size_bytes, \
         content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.title)
    .bind(new.file_name)
    .bind(new.mime_type)
    .bind(i64::try_from(new.content.len()).unwrap_or(i64::MAX))
    .bind(new.content)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}
