//! Failed sign-in counters per account and per client address, in the database so every
//! server process counts the same attempts.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_start: Timestamp,
    pub locked_until: Option<Timestamp>,
}

pub async fn get<'e>(db: impl AnyExecutor<'e>, key: &str) -> sqlx::Result<Option<ThrottleRow>> {
    sqlx::query_as("SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(db)
        .await
}

/// Counts one failure; a window older than `window` seconds starts again. Returns the count.
pub async fn add_failure<'e>(
    db: impl AnyExecutor<'e>,
    key: &str,
    now: Timestamp,
    window: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.window_start < $3 THEN 1 \
                           ELSE login_throttle.failures + 1 END, \
           window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 \
                               ELSE login_throttle.window_start END \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(now.plus_seconds(-window))
    .fetch_one(db)
    .await
}

pub async fn lock<'e>(db: impl AnyExecutor<'e>, key: &str, until: Timestamp) -> sqlx::Result<()> {
    sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
        .bind(until)
        .bind(key)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn clear<'e>(db: impl AnyExecutor<'e>, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(db)
        .await
        .map(|_| ())
}
