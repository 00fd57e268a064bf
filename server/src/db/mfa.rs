//! Two-factor enrolment state and recovery codes.

use sqlx::{AnyConnection, AnyExecutor};

use super::Timestamp;
use super::accounts::AccountKind;

/// Keeps a secret shown during enrolment until a code confirms it.
pub async fn set_pending_secret<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    secret: &str,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET mfa_pending_secret = $1 WHERE agency_id = $2 AND id = $3",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(secret)
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Turns two-factor sign-in on with the confirmed secret and the step of the confirming code.
pub async fn enable<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    secret: &str,
    step: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET mfa_secret = $1, mfa_pending_secret = NULL, mfa_last_step = $2 \
         WHERE agency_id = $3 AND id = $4",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(secret)
        .bind(step)
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn disable(
    conn: &mut AnyConnection,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET mfa_secret = NULL, mfa_pending_secret = NULL, mfa_last_step = NULL \
         WHERE agency_id = $1 AND id = $2",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM mfa_recovery_codes WHERE agency_id = $1 AND user_kind = $2 AND user_id = $3",
    )
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records that the code of `step` was used. False when that step (or a later one) was used
/// already — by a replay, or by a concurrent request with the same code.
pub async fn use_step<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    step: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "UPDATE {} SET mfa_last_step = $1 WHERE agency_id = $2 AND id = $3 \
         AND (mfa_last_step IS NULL OR mfa_last_step < $1)",
        kind.table()
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(step)
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the account's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    hashes: &[String],
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM mfa_recovery_codes WHERE agency_id = $1 AND user_kind = $2 AND user_id = $3",
    )
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO mfa_recovery_codes (agency_id, user_kind, user_id, code_hash) VALUES ($1, $2, $3, $4)")
            .bind(agency_id)
            .bind(kind.as_str())
            .bind(id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses up a recovery code; false when it is not one of the account's unused codes.
pub async fn use_recovery_code<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $1 WHERE agency_id = $2 AND user_kind = $3 \
         AND user_id = $4 AND code_hash = $5 AND used_at IS NULL",
    )
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(kind.as_str())
    .bind(id)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
