//! Single-use links for invitations and password resets, stored hashed, expiring.

use sqlx::{AnyConnection, AnyExecutor};

use super::Timestamp;
use super::accounts::AccountKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invite,
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub agency_id: i64,
    pub purpose: String,
    pub user_kind: String,
    pub user_id: i64,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Stores a link's hash. Earlier unused links of the same purpose for the account stop
/// working: only the newest email's link counts.
pub async fn create(
    conn: &mut AnyConnection,
    agency_id: i64,
    purpose: Purpose,
    kind: AccountKind,
    user_id: i64,
    token_hash: &str,
    expires_at: Timestamp,
) -> sqlx::Result<()> {
    let now = Timestamp::now();
    sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE agency_id = $2 AND purpose = $3 AND user_kind = $4 \
         AND user_id = $5 AND used_at IS NULL",
    )
    .bind(now)
    .bind(agency_id)
    .bind(purpose.as_str())
    .bind(kind.as_str())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO tokens (agency_id, token_hash, purpose, user_kind, user_id, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(agency_id)
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(kind.as_str())
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Every unused link of an account (invitation and password reset alike) stops working.
pub async fn revoke_all<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    kind: AccountKind,
    user_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE agency_id = $2 AND user_kind = $3 AND user_id = $4 \
         AND used_at IS NULL",
    )
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn by_hash<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    token_hash: &str,
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "SELECT id, agency_id, purpose, user_kind, user_id, expires_at, used_at FROM tokens \
         WHERE agency_id = $1 AND token_hash = $2",
    )
    .bind(agency_id)
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Marks a link used; false when another request used it first.
pub async fn consume<'e>(db: impl AnyExecutor<'e>, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(Timestamp::now())
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
