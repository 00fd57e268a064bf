//! Tokens the agency's back-office systems use for the JSON API: stored hashed, shown once,
//! scoped to one agency, revocable.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub agency_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    name: &str,
    token_hash: &str,
    prefix: &str,
    created_by: Option<i64>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (agency_id, name, token_hash, prefix, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(agency_id)
    .bind(name.trim())
    .bind(token_hash)
    .bind(prefix)
    .bind(created_by)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

pub async fn list<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(
        "SELECT id, agency_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
         WHERE agency_id = $1 ORDER BY id DESC",
    )
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// The live (unrevoked) token with this hash, whatever its agency: the caller compares the
/// agency with the one addressed.
pub async fn active_by_hash<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
) -> sqlx::Result<Option<ApiToken>> {
    sqlx::query_as(
        "SELECT id, agency_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn touch<'e>(db: impl AnyExecutor<'e>, id: i64, at: Timestamp) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Revokes a token of this agency; false when there is none (or it belongs elsewhere).
pub async fn revoke<'e>(db: impl AnyExecutor<'e>, agency_id: i64, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE agency_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
