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

/// A shared file as a list shows it (without its content).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub title: String,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub created_at: Timestamp,
}

/// The documents shared with the clients, newest first.
pub async fn list_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<DocumentInfo>> {
    let sql = format!(
        "SELECT d.id, d.client_id, c.name AS client_name, d.title, d.file_name, d.mime_type, \
         d.size_bytes, d.created_at FROM documents d JOIN clients c ON c.id = d.client_id \
         WHERE d.agency_id = $1 AND d.client_id IN ({}) ORDER BY d.created_at DESC, d.id DESC",
        super::scope::client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
}

/// A file to download: name, type and bytes, when it is shared with one of the clients.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentFile {
    pub id: i64,
    pub client_id: i64,
    pub title: String,
    pub file_name: String,
    pub mime_type: String,
    pub content: Vec<u8>,
}

pub async fn file_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<DocumentFile>> {
    let sql = format!(
        "SELECT id, client_id, title, file_name, mime_type, content FROM documents \
         WHERE agency_id = $1 AND id = $2 AND client_id IN ({})",
        super::scope::client_list(client_ids)
    );
    super::scope::one(db, sql, agency_id, id).await
}

/// A document's content.
pub async fn content<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT content FROM documents WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn delete<'e>(db: impl AnyExecutor<'e>, agency_id: i64, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM documents WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}
