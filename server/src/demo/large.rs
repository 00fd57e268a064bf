//! `portal demo seed --scale large`: data at the size the portal is measured at. The first demo
//! agency (`acme`) gets 2,000 clients, 20,000 workers, 100,000 portal users and 1,000,000
//! timesheets over a year; every other configured agency that is not a demo agency gets a
//! small set of the same shape. The benchmarks build their databases with the same functions.
//!
//! Rows go in by the hundred per statement, the way a migration from another system would
//! load them, and the totals the triggers keep follow as they would for any write.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::AppState;
use crate::dates::{iso, today};
use crate::db::clients::{self, NewClient};
use crate::db::workers::{self, NewWorker};
use crate::db::{Backend, Db, begin_write};
use crate::plugins::RoleScope;

/// How much data one agency gets.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub clients: usize,
    pub workers: usize,
    pub portal_users: usize,
    pub timesheets: usize,
    /// Days back from today the timesheets spread over; the last week's wait for approval.
    pub days: usize,
}

/// The agency the portal is measured with.
pub const LARGE: Shape = Shape {
    clients: 2_000,
    workers: 20_000,
    portal_users: 100_000,
    timesheets: 1_000_000,
    days: 364,
};

/// Each of the other agencies beside it.
pub const SMALL: Shape = Shape {
    clients: 5,
    workers: 40,
    portal_users: 60,
    timesheets: 2_000,
    days: 91,
};

/// A client made by [`clients_with_sites`], with its one worksite.
#[derive(Debug, Clone)]
pub struct SeededClient {
    pub id: i64,
    pub site: i64,
    pub name: String,
}

const FIRST: [&str; 10] = [
    "Ann", "Bo", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo",
];
const LAST: [&str; 10] = [
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
];
const STATUSES: [&str; 3] = ["active", "invited", "deactivated"];
/// Portal users inserted per statement.
const USERS_PER_STATEMENT: usize = 400;
/// Timesheets inserted per statement.
const TIMESHEETS_PER_STATEMENT: usize = 500;

/// Seeds `big` (`portal demo seed --scale large`: [`LARGE`]) into `acme` and `small`
/// ([`SMALL`]) into every other agency but the demo ones. Agencies that already have the
/// data are left alone. Portal users who are active sign in with `password_hash` (the demo
/// password): `user0@client0.example` has the role set's first single-client role.
pub async fn seed(
    state: &AppState,
    password_hash: &str,
    big: Shape,
    small: Shape,
) -> anyhow::Result<()> {
    let mut plan: Vec<(String, Shape)> = vec![("acme".into(), big)];
    let mut others: Vec<String> = state
        .agencies()
        .map(|a| a.slug.clone())
        .filter(|slug| !super::DEMO_SLUGS.contains(&slug.as_str()))
        .collect();
    others.sort();
    plan.extend(others.into_iter().map(|slug| (slug, small)));
    let bar = ProgressBar::new(plan.iter().map(|(_, shape)| steps(shape)).sum()).with_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for (slug, shape) in &plan {
        let agency = state
            .agency(slug)
            .with_context(|| format!("the large data set needs an agency \"{slug}\""))?;
        if already_seeded(state.db(), agency.id).await? {
            bar.inc(steps(shape));
            bar.println(format!("agency \"{slug}\" already has the large data set"));
            continue;
        }
        let roles: Vec<String> = state
            .plugins()
            .agency(slug)
            .map(|set| {
                set.roles()
                    .iter()
                    .filter(|role| matches!(role.scope, RoleScope::SingleClient))
                    .map(|role| role.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        if roles.is_empty() {
            bail!("agency \"{slug}\" offers no single-client role to give its portal users");
        }
        bar.set_message(format!("{slug}: clients"));
        let clients = clients_with_sites(state.db(), agency.id, shape.clients, client_name).await?;
        bar.inc(1);
        bar.set_message(format!("{slug}: workers"));
        let first_worker = workers_named(state.db(), agency.id, shape.workers).await?;
        bar.inc(1);
        bar.set_message(format!("{slug}: portal users"));
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let users = PortalUsers {
            count: shape.portal_users,
            roles: &roles,
            password_hash: Some(password_hash),
        };
        portal_users(state.db(), agency.id, &clients, &users, || bar.inc(1)).await?;
        bar.set_message(format!("{slug}: timesheets"));
        let sheets = Timesheets {
            count: shape.timesheets,
            days: shape.days,
            first_worker,
            workers: shape.workers,
        };
        timesheets(state.db(), agency.id, &clients, &sheets, || bar.inc(1)).await?;
        if shape.timesheets > SMALL.timesheets {
            // Fresh statistics after a large load: PostgreSQL also replans the totals
            // triggers, whose plans cached on the empty tables read the whole of them on
            // every statement after (36 ms a statement against 4 ms).
            bar.set_message("statistics");
            settle(state.db()).await?;
        }
        bar.println(format!(
            "agency \"{slug}\": {} clients, {} workers, {} portal users, {} timesheets",
            shape.clients, shape.workers, shape.portal_users, shape.timesheets
        ));
    }
    bar.set_message("statistics");
    settle(state.db()).await?;
    bar.finish_and_clear();
    println!("large data set ready in {} agencies", plan.len());
    Ok(())
}

/// Progress steps of one agency: clients, workers, a step per statement of users and one
/// per day of timesheets.
fn steps(shape: &Shape) -> u64 {
    (2 + shape.portal_users.div_ceil(USERS_PER_STATEMENT) + shape.days.min(shape.timesheets)) as u64
}

fn client_name(n: usize) -> String {
    format!("Client {n:04}")
}

async fn already_seeded(db: &Db, agency_id: i64) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND name = $2")
            .bind(agency_id)
            .bind(client_name(0))
            .fetch_optional(&db.pool)
            .await?;
    Ok(found.is_some())
}

/// `count` clients named by `name`, then a "Main site" for each. The ids of each come out
/// consecutive (one writer, in order), which [`timesheets`] counts on; anything else is an
/// error rather than a quietly wrong data set.
pub async fn clients_with_sites(
    db: &Db,
    agency_id: i64,
    count: usize,
    name: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<SeededClient>> {
    let mut tx = begin_write(&db.pool).await?;
    let mut seeded = Vec::with_capacity(count);
    for n in 0..count {
        let name = name(n);
        let new = NewClient {
            name: &name,
            ..NewClient::default()
        };
        let id = clients::create(&mut *tx, agency_id, &new).await?;
        seeded.push(SeededClient { id, site: 0, name });
    }
    for client in &mut seeded {
        client.site =
            clients::create_worksite(&mut *tx, agency_id, client.id, "Main site", "").await?;
    }
    tx.commit().await?;
    let consecutive = |ids: Vec<i64>| ids.windows(2).all(|w| w[1] == w[0] + 1);
    if !consecutive(seeded.iter().map(|c| c.id).collect())
        || !consecutive(seeded.iter().map(|c| c.site).collect())
    {
        bail!("clients or worksites were given ids out of order; seed into a quiet database");
    }
    Ok(seeded)
}

/// `count` workers ("Sam Worker00000", …) with consecutive ids; returns the first id.
pub async fn workers_named(db: &Db, agency_id: i64, count: usize) -> anyhow::Result<i64> {
    let mut tx = begin_write(&db.pool).await?;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let last = format!("Worker{n:05}");
        let new = NewWorker {
            first_name: "Sam",
            last_name: &last,
            ..NewWorker::default()
        };
        ids.push(workers::create(&mut *tx, agency_id, &new).await?);
    }
    tx.commit().await?;
    if ids.windows(2).any(|w| w[1] != w[0] + 1) {
        bail!("workers were given ids out of order; seed into a quiet database");
    }
    ids.first().copied().context("no workers to seed")
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
