//! Scratch databases for tests: a fresh SQLite file, or a fresh PostgreSQL database, per test.
//! `PORTAL_TEST_DATABASE=postgres` picks PostgreSQL at `PORTAL_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`).

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use sqlx::{AssertSqlSafe, Connection, Executor};

use super::Backend;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which backend this test run uses.
pub fn backend() -> Backend {
    match std::env::var("PORTAL_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    /// Holds the SQLite file's folder alive.
    dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        match backend() {
            Backend::Sqlite => Ok(Self {
                url: format!("sqlite://{}/portal.db", dir.path().display()),
                dir,
                postgres_name: None,
            }),
            Backend::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "portal_test_{}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed),
                    rand::random::<u32>()
                );
                let admin = postgres_admin_url();
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.with_context(
                    || "cannot reach PostgreSQL for tests (PORTAL_TEST_POSTGRES_URL)",
                )?;
                // The name is generated above from digits and underscores only.
                conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await?;
                conn.close().await?;
                let url = replace_database(&admin, &name);
                Ok(Self {
                    url,
                    dir,
                    postgres_name: Some(name),
                })
            }
        }
    }

    /// A folder that lives as long as the database, for config, data and mail.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let admin = postgres_admin_url();
        // Drop runs outside any async context we could borrow; a short-lived runtime on its
        // own thread does the clean-up.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let _ = conn
                            .execute(AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await;
                        let _ = conn.close().await;
                    }
                });
            }
        });
        let _ = cleanup.join();
    }
}

/// The same server URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}/{name}{query}", &base[..path])
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
