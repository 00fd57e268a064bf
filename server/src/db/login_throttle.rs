//! Failed sign-in counters per account and per client address, in the database so every
//! server process counts the same attempts (counted with [`super::rate_limits::count`]), and
//! the locks they lead to.

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
