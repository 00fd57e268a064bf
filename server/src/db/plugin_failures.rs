//! Hook calls that failed in the server, kept with their input for the manage area's plugin
//! page and `portal plugin replay`: the newest [`KEPT`] per agency and plugin.

use serde::Serialize;
use sqlx::{AnyExecutor, AnyPool};

use super::Timestamp;

/// Failures kept per agency and plugin; older ones are deleted as new ones come.
pub const KEPT: i64 = 50;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Failure {
    pub id: i64,
    pub plugin_id: String,
    pub plugin_version: String,
    pub hook: String,
    pub cause: String,
    /// The call as a `portal plugin test` case (JSON); none when it was too large to keep.
    pub input: Option<String>,
    pub at: Timestamp,
}

/// A failure to keep; the agency by its slug.
#[derive(Debug, Clone)]
pub struct NewFailure {
    pub agency: String,
    pub plugin_id: String,
    pub plugin_version: String,
    pub hook: &'static str,
    pub cause: String,
    pub input: Option<String>,
}

/// Keeps a failure and lets the oldest of that plugin's go past [`KEPT`].
pub async fn record(pool: &AnyPool, new: &NewFailure) -> sqlx::Result<()> {
    let mut tx = super::begin_write(pool).await?;
    let agency_id: Option<i64> = sqlx::query_scalar("SELECT id FROM agencies WHERE slug = $1")
        .bind(&new.agency)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(agency_id) = agency_id else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO plugin_failures (agency_id, plugin_id, plugin_version, hook, cause, input, \
         at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(agency_id)
    .bind(&new.plugin_id)
    .bind(&new.plugin_version)
    .bind(new.hook)
    .bind(&new.cause)
    .bind(new.input.as_deref())
    .bind(Timestamp::now())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM plugin_failures WHERE agency_id = $1 AND plugin_id = $2 AND id <= \
         (SELECT id FROM plugin_failures WHERE agency_id = $1 AND plugin_id = $2 \
          ORDER BY id DESC LIMIT 1 OFFSET $3)",
    )
    .bind(agency_id)
    .bind(&new.plugin_id)
    .bind(KEPT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

const COLUMNS: &str = "id, plugin_id, plugin_version, hook, cause, input, at";

/// The agency's most recent failures, newest first.
pub async fn recent<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Failure>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plugin_failures WHERE agency_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(agency_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One kept failure of a plugin at an agency: `id`, or the newest.
pub async fn one<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    plugin_id: &str,
    id: Option<i64>,
) -> sqlx::Result<Option<Failure>> {
    let which = if id.is_some() { "AND id = $3" } else { "" };
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plugin_failures WHERE agency_id = $1 AND plugin_id = $2 \
         {which} ORDER BY id DESC LIMIT 1"
    )))
    .bind(agency_id)
    .bind(plugin_id);
    match id {
        Some(id) => query.bind(id).fetch_optional(db).await,
        None => query.fetch_optional(db).await,
    }
}
