//! Storage: one sqlx pool over SQLite (the embedded default) or PostgreSQL (production and
//! scale-out), chosen by the URL. The same queries run on both through sqlx's `Any` driver, so
//! columns keep to representations both share (see `migrations/*/0001_schema.sql`): times as
//! Unix seconds, dates as ISO text, money as integer cents, flags as 0/1.
//!
//! One module per table, plain async functions, the agency id first.

pub mod accounts;
pub mod agencies;
pub mod agency_settings;
pub mod agency_timesheets;
pub mod api_tokens;
pub mod audit;
pub mod backend;
pub mod bulk;
pub mod changes;
pub mod clients;
pub mod clock_events;
pub mod contacts;
pub mod documents;
pub mod invoices;
pub mod jobs;
pub mod login_throttle;
pub mod mfa;
pub mod outbox;
pub mod plugin_failures;
pub mod plugin_reloads;
pub mod portal_users;
pub mod quotes;
pub mod rate_limits;
pub mod records;
pub mod scope;
pub mod sessions;
pub mod staff_users;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod timesheets;
pub mod tokens;
mod types;
pub mod work_requests;
pub mod workers;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

pub use backend::Backend;
pub use types::{Flag, Timestamp};

use crate::config::DatabaseConfig;

/// A connection idle in the pool this long is pinged before it is used again.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// The connection pool and the dialect behind it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when it does not exist yet.
    pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let url = config.url.expose();
        let backend = Backend::from_url(url).context("database.url")?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            url = prepare_sqlite_url(&url)?;
        }
        let options = AnyConnectOptions::from_str(&url)
            .context("database.url is not a valid database URL")?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(config.acquire_timeout_seconds))
            // sqlx pings every connection handed back to the pool, and drops it when the
            // ping fails. One idle for a while is pinged again before it is handed out, so
            // those a database restart broke meanwhile are replaced instead of failing the
            // request that takes them; one just handed back is not (a round trip saved on
            // every query).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // concurrent writers wait instead of failing at once.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to the {} database", backend.name()))?;
        Ok(Self { pool, backend })
    }

    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock, so
    /// several processes starting at once take turns instead of racing.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        Ok(())
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// Makes sure the folder of a SQLite file exists and asks sqlx to create the file.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Starts a transaction that writes. SQLite takes its single write lock at a transaction's
/// first write, and a transaction that read before writing fails at once (`SQLITE_BUSY`,
/// whatever the busy timeout) when another connection committed in between; `BEGIN
/// IMMEDIATE` takes the lock at the start, so concurrent writers wait their turn (up to the
/// busy timeout) instead of answering 503. PostgreSQL's row locks need nothing of the sort.
pub async fn begin_write(pool: &AnyPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}

/// Whether an error means the database cannot be reached right now — it is down, restarting
/// or shutting down, the connection broke, or no connection came free within
/// `database.acquire_timeout_seconds` — rather than a fault of the request. Such requests
/// answer 503; the pool replaces broken connections, so the next request after the database
/// is back succeeds without a restart.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                // A connection exception (class 08), the server shutting down, crashed or
                // starting up (57P01–57P03), too many connections (53300).
                let code = pg.code();
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
            } else {
                // SQLite: the file stayed busy or locked past the busy timeout (primary result
                // codes 5 and 6, in any extended form).
                db.try_downcast_ref::<sqlx::sqlite::SqliteError>()
                    .and_then(sqlx::error::DatabaseError::code)
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|code| matches!(code & 0xff, 5 | 6))
            }
        }
        _ => false,
    }
}

/// Whether the database refused text it cannot store: PostgreSQL takes no NUL character in
/// text (SQLSTATE 22021). Fields refuse NUL themselves; this catches text that reaches a query
/// before its field is checked (a search, a look-up by name or email).
pub fn is_unstorable_text(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| pg.code() == "22021"))
}

/// Whether an error is a unique-constraint violation, which callers turn into a field error.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}/sub/portal.db", dir.path().display());
        assert_eq!(prepare_sqlite_url(&url)?, format!("{url}?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:")?,
            "sqlite::memory:".to_owned()
        );
        Ok(())
    }

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }
}
