//! Bulk loads for the large data set (`portal demo seed --scale large`) and the benchmarks:
//! rows by the hundred per statement, the way a migration from another system would load
//! them, and the totals the triggers keep follow as they would for any write.

use crate::dates::{iso, today};
use crate::db::{Backend, Db, begin_write};
use anyhow::bail;
use std::time::{Duration, Instant};

const FIRST: [&str; 10] = [
    "Ann", "Bo", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo",
];

const LAST: [&str; 10] = [
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
];

const STATUSES: [&str; 3] = ["active", "invited", "deactivated"];

/// Portal users inserted per statement.
pub const USERS_PER_STATEMENT: usize = 400;

/// Timesheets inserted per statement.
const TIMESHEETS_PER_STATEMENT: usize = 500;

/// Whether the agency has a client of this name (the large set is seeded once).
pub async fn has_client(db: &Db, agency_id: i64, name: &str) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND name = $2")
            .bind(agency_id)
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    Ok(found.is_some())
}

/// What [`portal_users`] inserts.
#[derive(Debug)]
pub struct PortalUsers<'a> {
    pub count: usize,
    /// Given in turn, user `n` getting `roles[n % len]`.
    pub roles: &'a [&'a str],
    /// Set on the active users (every third); the others never chose a password.
    pub password_hash: Option<&'a str>,
}

/// Portal users `user{n}@client{n % clients}.example`, each of one client (`n % clients`),
/// named from ten first names and ten surnames (`Smith` for n = 0–9, 100–109, …, with a
/// number), a third each active, invited and deactivated, two thirds signed in once.
pub async fn portal_users(
    db: &Db,
    agency_id: i64,
    clients: &[SeededClient],
    users: &PortalUsers<'_>,
    step: impl Fn(),
) -> anyhow::Result<()> {
    if clients.is_empty() || users.roles.is_empty() {
        bail!("portal users need at least one client and one role");
    }
    let mut tx = begin_write(&db.pool).await?;
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM portal_users")
        .fetch_one(&mut *tx)
        .await?;
    let hash = users.password_hash.map_or_else(
        || "NULL".to_owned(),
        |h| format!("'{}'", h.replace('\'', "''")),
    );
    let mut start = 0;
    while start < users.count {
        let end = (start + USERS_PER_STATEMENT).min(users.count);
        let mut sql = String::from(
            "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, status, \
             password_hash, last_login_at, created_at, updated_at, company, client_count) VALUES ",
        );
        for n in start..end {
            let company = &clients[n % clients.len()].name;
            let login = if n % 3 == 0 {
                "NULL".to_owned()
            } else {
                (1_700_000_000 + (n as i64 * 7919) % 10_000_000).to_string()
            };
            let status = STATUSES[n % STATUSES.len()];
            let hash = if status == "active" {
                hash.as_str()
            } else {
                "NULL"
            };
            let created = 1_690_000_000 + n as i64;
            if n > start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({agency_id}, 'user{n}@client{}.example', '{}', '{}{}', '{}', '{status}', \
                 {hash}, {login}, {created}, {created}, '{}', 1)",
                n % clients.len(),
                FIRST[n % FIRST.len()],
                LAST[(n / 10) % LAST.len()],
                n % 997,
                users.roles[n % users.roles.len()].replace('\'', "''"),
                company.replace('\'', "''"),
            ));
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        step();
        start = end;
    }
    sqlx::query(
        "INSERT INTO portal_user_clients (agency_id, portal_user_id, client_id) \
         SELECT u.agency_id, u.id, c.id FROM portal_users u JOIN clients c \
         ON c.agency_id = u.agency_id AND c.name = u.company WHERE u.agency_id = $1 AND u.id > $2",
    )
    .bind(agency_id)
    .bind(before)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What [`timesheets`] inserts.
#[derive(Debug)]
pub struct Timesheets {
    pub count: usize,
    pub days: usize,
    /// Workers `first_worker ..= first_worker + workers - 1`, consecutive ids.
    pub first_worker: i64,
    pub workers: usize,
}

/// `count` timesheets spread evenly over the last `days` days, by statements of at most
/// [`TIMESHEETS_PER_STATEMENT`] rows that count with a recursive common table expression (the
/// same SQL on both databases; short enough not to be logged as slow). The `i`th row
/// of all goes to client `i % clients` and worker `i % workers`, 8:00–16:30 with a 30-minute break,
/// charged £24.50 an hour and paid £15.75; the last seven days' rows wait for approval, the
/// rest are approved. Returns how long the inserts took.
pub async fn timesheets(
    db: &Db,
    agency_id: i64,
    clients: &[SeededClient],
    sheets: &Timesheets,
    step: impl Fn(),
) -> anyhow::Result<Duration> {
    let (first_client, first_site) = match clients.first() {
        Some(client) => (client.id, client.site),
        None => bail!("timesheets need at least one client"),
    };
    let client_count = clients.len();
    let (first_worker, workers) = (sheets.first_worker, sheets.workers.max(1));
    let per_day = sheets.count.div_ceil(sheets.days.max(1)).max(1);
    let today = today();
    let started = Instant::now();
    let mut inserted = 0;
    for day in 0..sheets.days {
        if inserted >= sheets.count {
            break;
        }
        let date = iso(today - time::Duration::days(day as i64));
        let day_end = (inserted + per_day).min(sheets.count);
        let mut tx = begin_write(&db.pool).await?;
        while inserted < day_end {
            let rows = (day_end - inserted).min(TIMESHEETS_PER_STATEMENT);
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {rows}) \
                 INSERT INTO timesheets (agency_id, client_id, worksite_id, worker_id, work_date, \
                 start_time, end_time, break_minutes, minutes_worked, charge_rate_cents, \
                 charge_amount_cents, pay_rate_cents, status, created_at, updated_at) \
                 SELECT {agency_id}, {first_client} + (({inserted} + i) % {client_count}), \
                 {first_site} + (({inserted} + i) % {client_count}), \
                 {first_worker} + (({inserted} + i) % {workers}), '{date}', \
                 '08:00', '16:30', 30, 480, 2450, 19600, 1575, \
                 CASE WHEN {day} < 7 THEN 'pending' ELSE 'approved' END, 0, 0 FROM n"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
            inserted += rows;
        }
        tx.commit().await?;
        step();
    }
    Ok(started.elapsed())
}

/// What a database that has been running a while knows: fresh statistics, and on PostgreSQL
/// the visibility map autovacuum keeps, which index-only scans rely on.
pub async fn settle(db: &Db) -> sqlx::Result<()> {
    let statement = match db.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    sqlx::query(statement).execute(&db.pool).await?;
    Ok(())
}

/// A client made by [`clients_with_sites`], with its one worksite.
#[derive(Debug, Clone)]
pub struct SeededClient {
    pub id: i64,
    pub site: i64,
    pub name: String,
}
