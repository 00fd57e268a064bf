//! The portal's timesheet list and report pages over a large agency: seeds
//! `PORTAL_BENCH_TIMESHEETS` timesheets (default 1,000,000) spread over
//! `PORTAL_BENCH_CLIENTS` clients (default 50) and a year of dates, then calls the handlers
//! in-process through the router and prints the median server time of each page.
//!
//! Run with `cargo xtask bench-timesheets` (release build). The database is SQLite unless
//! `PORTAL_TEST_DATABASE=postgres` (then `PORTAL_TEST_POSTGRES_URL`). The goal is under
//! 50 ms per page for a client's supervisor.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::app::{self, AppState};
use portal_server::auth::tokens;
use portal_server::config::{AgencyConfig, Secret, Settings};
use portal_server::db::accounts::AccountKind;
use portal_server::db::clients::{self, NewClient};
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::db::sessions::{self, NewSession};
use portal_server::db::testing::TestDatabase;
use portal_server::db::workers::{self, NewWorker};
use portal_server::db::{Db, Timestamp};
use tower::ServiceExt;

const DAYS: i64 = 364;
const WORKERS: i64 = 2_000;
const ROUNDS: usize = 21;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

async fn state(database: &TestDatabase) -> anyhow::Result<AppState> {
    let mut settings = Settings::default();
    let text = std::fs::read_to_string(root().join("config/agencies/acme.toml"))?;
    let agency: AgencyConfig = toml::from_str(&text)?;
    settings.agencies.insert("acme".into(), agency);
    settings.database.url = Secret::new(database.url.clone());
    settings.paths.data = database.dir().join("data");
    settings.paths.themes = vec![root().join("themes")];
    settings.paths.plugins = vec![root().join("dist/plugins")];
    settings.plugins.cache_dir = Some(root().join("target/test-plugin-cache"));
    let db = Db::connect(&settings.database).await?;
    db.migrate().await?;
    AppState::with_db(settings, &root().join("config"), db).await
}

/// Clients, workers and `count` timesheets, inserted a day at a time by one statement that
/// counts with a recursive common table expression (the same SQL on both databases).
async fn seed(state: &AppState, count: i64, client_count: i64) -> anyhow::Result<Vec<i64>> {
    let pool = &state.db().pool;
    let agency = state.agency("acme").map(|a| a.id).unwrap_or(1);
    let mut client_ids = Vec::new();
    for n in 0..client_count {
        let name = format!("Client {n:03}");
        let new = NewClient {
            name: &name,
            ..NewClient::default()
        };
        client_ids.push(clients::create(pool, agency, &new).await?);
    }
    let mut site_ids = Vec::new();
    for client in &client_ids {
        site_ids.push(clients::create_worksite(pool, agency, *client, "Main site", "").await?);
    }
    let mut first_worker = 0;
    for n in 0..WORKERS {
        let last = format!("Worker{n:04}");
        let new = NewWorker {
            first_name: "Sam",
            last_name: &last,
            ..NewWorker::default()
        };
        let id = workers::create(pool, agency, &new).await?;
        if n == 0 {
            first_worker = id;
        }
    }
    let (first_client, first_site) = (client_ids[0], site_ids[0]);
    let per_day = ((count + DAYS - 1) / DAYS).max(1);
    let today = time::OffsetDateTime::now_utc().date();
    let started = Instant::now();
    let mut inserted = 0;
    for day in 0..DAYS {
        if inserted >= count {
            break;
        }
        let rows = per_day.min(count - inserted);
        let date = today - time::Duration::days(day);
        let date = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {rows}) \
             INSERT INTO timesheets (agency_id, client_id, worksite_id, worker_id, work_date, \
             start_time, end_time, break_minutes, minutes_worked, charge_rate_cents, \
             charge_amount_cents, pay_rate_cents, status, created_at, updated_at) \
             SELECT {agency}, {first_client} + (i % {client_count}), \
             {first_site} + (i % {client_count}), {first_worker} + (i % {WORKERS}), '{date}', \
             '08:00', '16:30', 30, 480, 2450, 19600, 1575, \
             CASE WHEN {day} < 7 THEN 'pending' ELSE 'approved' END, 0, 0 FROM n"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        inserted += rows;
    }
    // Fresh statistics, as a database that grew over months would have.
    sqlx::query("ANALYZE").execute(pool).await?;
    eprintln!(
        "seeded {inserted} timesheets over {client_count} clients in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(client_ids)
}

/// A signed-in portal user of `clients` (every client when `all`); returns the cookie.
async fn session(
    state: &AppState,
    email: &str,
    role: &str,
    client: Option<i64>,
) -> anyhow::Result<String> {
    let pool = &state.db().pool;
    let agency = state.agency("acme").map(|a| a.id).unwrap_or(1);
    let links: Vec<(i64, Option<i64>)> = client.map(|c| (c, None)).into_iter().collect();
    let new = NewPortalUser {
        email,
        first_name: "Bench",
        last_name: "User",
        role_id: role,
        all_clients: client.is_none(),
        restricted_access: false,
        status: PortalUserStatus::Active,
        password_hash: None,
        must_change_password: false,
        clients: &links,
    };
    let mut conn = pool.acquire().await?;
    let user = portal_users::create(&mut conn, agency, &new).await?;
    let token = tokens::generate();
    let csrf = tokens::generate();
    let new = NewSession {
        token_hash: &tokens::hash(&token),
        agency_id: agency,
        kind: AccountKind::Portal,
        user_id: user,
        csrf_token: &csrf,
        expires_at: Timestamp::now().plus_seconds(3600),
        ip: "127.0.0.1",
        user_agent: "bench",
        mfa_pending: false,
    };
    sessions::create(pool, &new).await?;
    Ok(format!("portal={token}"))
}

async fn measure(router: &axum::Router, cookie: &str, path: &str) -> anyhow::Result<Duration> {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let request = Request::get(path)
            .header("cookie", cookie)
            .body(Body::empty())?;
        let started = Instant::now();
        let response = router.clone().oneshot(request).await?;
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "{path} answered {status}");
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let count = env_number("PORTAL_BENCH_TIMESHEETS", 1_000_000);
        let client_count = env_number("PORTAL_BENCH_CLIENTS", 50).max(1);
        let database = TestDatabase::create().await?;
        let state = state(&database).await?;
        let clients = seed(&state, count, client_count).await?;
        let router = app::router(state.clone());
        let supervisor = session(
            &state,
            "supervisor@bench.example",
            "customer-supervisor",
            Some(clients[0]),
        )
        .await?;
        let partner = session(&state, "partner@bench.example", "partner", None).await?;
        println!("\n| page | user | median server time |\n|---|---|---|");
        for (who, cookie) in [
            ("client supervisor", &supervisor),
            ("partner (all clients)", &partner),
        ] {
            for path in [
                "/acme/portal/timesheets",
                "/acme/portal/timesheets?status=pending",
                "/acme/portal/timesheets?page=20",
                "/acme/portal/reports",
                "/acme/portal/reports?group=worker",
                "/acme/portal/reports?group=worksite",
            ] {
                let median = measure(&router, cookie, path).await?;
                println!(
                    "| `{path}` | {who} | {:.2} ms |",
                    median.as_secs_f64() * 1000.0
                );
            }
        }
        println!("\n{count} timesheets, {client_count} clients, median of {ROUNDS} calls");
        Ok(())
    })
}
