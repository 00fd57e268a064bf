//! Server-side sessions. The cookie holds a random token; the table holds its SHA-256, so a
//! copy of the database hands out no live session.

use sqlx::AnyExecutor;

use super::Timestamp;
use super::accounts::AccountKind;
use super::agency_settings::{self, Stored};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub agency_id: i64,
    pub user_kind: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
    /// The password was right; the second factor is still due.
    #[sqlx(try_from = "super::Flag")]
    pub mfa_pending: bool,
    /// A staff session previewing the portal as this portal user, read only.
    pub preview_portal_user_id: Option<i64>,
}

#[derive(Debug)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub agency_id: i64,
    pub kind: AccountKind,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub expires_at: Timestamp,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub mfa_pending: bool,
}

pub async fn create<'e>(db: impl AnyExecutor<'e>, new: &NewSession<'_>) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    sqlx::query_scalar(
        "INSERT INTO sessions (token_hash, agency_id, user_kind, user_id, csrf_token, created_at, \
         last_seen_at, expires_at, ip, user_agent, mfa_pending) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(new.token_hash)
    .bind(new.agency_id)
    .bind(new.kind.as_str())
    .bind(new.user_id)
    .bind(new.csrf_token)
    .bind(now)
    .bind(new.expires_at)
    .bind(new.ip)
    .bind(new.user_agent)
    .bind(super::Flag(new.mfa_pending))
    .fetch_one(db)
    .await
}

const COLUMNS: &str = "id, agency_id, user_kind, user_id, csrf_token, created_at, last_seen_at, \
                       expires_at, ip, user_agent, mfa_pending, \
                       preview_portal_user_id";

/// A session and what its agency stored of its settings: every signed-in request needs
/// both, so they are read together.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Found {
    #[sqlx(flatten)]
    pub session: SessionRow,
    #[sqlx(flatten)]
    pub settings: Stored,
}

pub async fn by_token_hash<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
) -> sqlx::Result<Option<Found>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.*, {} FROM (SELECT {COLUMNS} FROM sessions WHERE token_hash = $1) AS s \
         LEFT JOIN agency_settings a ON a.agency_id = s.agency_id",
        agency_settings::STORED_COLUMNS
    )))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The sessions of one account, newest first.
pub async fn for_account<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    kind: AccountKind,
    user_id: i64,
) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions WHERE agency_id = $1 AND user_kind = $2 AND user_id = $3 \
         ORDER BY last_seen_at DESC, id DESC"
    )))
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// How many sessions each account of one kind has open, by account id (accounts without
/// sessions are absent).
pub async fn counts<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    kind: AccountKind,
) -> sqlx::Result<std::collections::BTreeMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT user_id, COUNT(*) FROM sessions WHERE agency_id = $1 AND user_kind = $2 \
         GROUP BY user_id",
    )
    .bind(agency_id)
    .bind(kind.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

pub async fn touch<'e>(db: impl AnyExecutor<'e>, id: i64, at: Timestamp) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Starts (`Some`) or ends (`None`) a staff session's portal preview. Only staff sessions of
/// the agency qualify; false when there is no such session.
pub async fn set_preview<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    session_id: i64,
    portal_user_id: Option<i64>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET preview_portal_user_id = $1 \
         WHERE id = $2 AND agency_id = $3 AND user_kind = 'staff'",
    )
    .bind(portal_user_id)
    .bind(session_id)
    .bind(agency_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete<'e>(db: impl AnyExecutor<'e>, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Ends one of an account's sessions (only its own: the account is part of the filter).
pub async fn delete_for_account<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    kind: AccountKind,
    user_id: i64,
    session_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE id = $1 AND agency_id = $2 AND user_kind = $3 AND user_id = $4",
    )
    .bind(session_id)
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of an account, except `keep` (the one making the change) if given.
pub async fn delete_all_for_account<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    kind: AccountKind,
    user_id: i64,
    keep: Option<i64>,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE agency_id = $1 AND user_kind = $2 AND user_id = $3 \
         AND id <> $4",
    )
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(user_id)
    .bind(keep.unwrap_or(-1))
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
