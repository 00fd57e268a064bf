//! Actions counted in a rolling window, in the database so every server process counts the
//! same ones: failed sign-ins per account and per client address, emails per address, and
//! invitations sent again per portal user. Rows of `login_throttle`, keyed by what is counted.

use sqlx::AnyExecutor;

use super::Timestamp;

/// The key that counts the invitations sent again to one portal user.
pub fn invitation_resends(agency_id: i64, portal_user_id: i64) -> String {
    format!("invitation-resends:{agency_id}:{portal_user_id}")
}

/// Counts one more under `key`; a window older than `window` seconds starts again. Returns
/// the count in the window, this one included.
pub async fn count<'e>(
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
