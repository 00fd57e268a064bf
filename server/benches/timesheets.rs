//! The portal's timesheet list, report pages and dashboard over a large agency, and the
//! agency's own staff home and timesheet list: seeds `PORTAL_BENCH_TIMESHEETS` timesheets
//! (default 1,000,000) spread over `PORTAL_BENCH_CLIENTS` clients (default 2,000, as the large
//! data set) and a year of dates, then calls the handlers in-process through the router and
//! prints the median server time of each page, for a client's supervisor, for a partner who
//! sees every client, and for a member of the agency's staff.
//!
//! Run with `cargo xtask bench-timesheets` (release build), which measures SQLite, then
//! PostgreSQL. The database is SQLite unless `PORTAL_TEST_DATABASE=postgres` (then
//! `PORTAL_TEST_POSTGRES_URL`). `cargo xtask bench` seeds ahead, while the HTTP benchmark's
//! data loads: `PORTAL_BENCH_SEED_ONLY=1` seeds the empty database that
//! `PORTAL_BENCH_DATABASE_URL` names and stops, and that URL alone measures what it holds.
//! A release run with at least 1,000,000 timesheets writes its report into BENCHMARKS.md,
//! section "Portal timesheet list and reports" of the database measured. The goal is under
//! 50 ms per page.

#[path = "shared/report.rs"]
mod report;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::auth::session::cookie_name;
use portal_server::auth::tokens;
use portal_server::dates::{iso, monday_of, today};
use portal_server::db::Timestamp;
use portal_server::db::accounts::{self, AccountKind};
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::db::sessions::{self, NewSession};
use portal_server::db::staff_users::{self, NewStaffUser, StaffRole};
use portal_server::demo::large;
use portal_server::state::AppState;
use report::{
    BenchDatabase, app_state, backend, load_average, load_note, machine, profile, write_section,
};
use tower::ServiceExt;

/// The target: every page under this, server time.
const TARGET: Duration = Duration::from_millis(50);
const DAYS: i64 = 364;
const WORKERS: i64 = 2_000;
const ROUNDS: usize = 21;

fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Clients, workers and `count` timesheets in the shape of the large data set (see
/// `portal_server::demo::large::timesheets`). Returns the clients' ids and how long the
/// timesheets took.
async fn seed(
    state: &AppState,
    count: i64,
    client_count: i64,
) -> anyhow::Result<(Vec<i64>, Duration)> {
    let db = state.db();
    let agency = state.agency("acme").map(|a| a.id).unwrap_or(1);
    let clients = large::clients_with_sites(db, agency, client_count as usize, |n| {
        format!("Client {n:03}")
    })
    .await?;
    let first_worker = large::workers_named(db, agency, WORKERS as usize).await?;
    let sheets = large::Timesheets {
        count: count as usize,
        days: DAYS as usize,
        first_worker,
        workers: WORKERS as usize,
    };
    let seeding = large::timesheets(db, agency, &clients, &sheets, || {}).await?;
    large::settle(db).await?;
    eprintln!(
        "seeded {count} timesheets over {client_count} clients in {:.1} s",
        seeding.as_secs_f64()
    );
    Ok((clients.iter().map(|c| c.id).collect(), seeding))
}

/// The clients [`seed`] made, in order.
async fn seeded_clients(state: &AppState) -> anyhow::Result<Vec<i64>> {
    let agency = state.agency("acme").map(|a| a.id).unwrap_or(1);
    let clients: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 ORDER BY id")
            .bind(agency)
            .fetch_all(&state.db().pool)
            .await?;
    anyhow::ensure!(
        !clients.is_empty(),
        "the database holds no clients to measure"
    );
    Ok(clients)
}

/// A signed-in member of the agency's staff; returns the cookie.
async fn staff_session(state: &AppState) -> anyhow::Result<String> {
    let pool = &state.db().pool;
    let agency = state.agency("acme").map(|a| a.id).unwrap_or(1);
    let email = "staff@bench.example";
    let user = match accounts::by_email(pool, AccountKind::Staff, agency, email).await? {
        Some(account) => account.id,
        None => {
            let new = NewStaffUser {
                email,
                name: "Bench Staff",
                role: StaffRole::Staff,
                password_hash: "",
                must_change_password: false,
            };
            staff_users::create(pool, agency, &new).await?
        }
    };
    signed_in(state, AccountKind::Staff, agency, user).await
}

/// A session for an account; returns the cookie.
async fn signed_in(
    state: &AppState,
    kind: AccountKind,
    agency: i64,
    user: i64,
) -> anyhow::Result<String> {
    let token = tokens::generate();
    let csrf = tokens::generate();
    let new = NewSession {
        token_hash: &tokens::hash(&token),
        agency_id: agency,
        kind,
        user_id: user,
        csrf_token: &csrf,
        expires_at: Timestamp::now().plus_seconds(3600),
        ip: "127.0.0.1",
        user_agent: "bench",
        mfa_pending: false,
    };
    sessions::create(&state.db().pool, &new).await?;
    Ok(format!("{}={token}", cookie_name(kind, false)))
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
    // Kept when the benchmark measures the same database again.
    let user = match accounts::by_email(pool, AccountKind::Portal, agency, email).await? {
        Some(account) => account.id,
        None => portal_users::create(&mut *pool.acquire().await?, agency, &new).await?,
    };
    signed_in(state, AccountKind::Portal, agency, user).await
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

/// The pages measured: the list unfiltered, by status and further on; the dashboard; the
/// report in its three groupings over the default four weeks, by worker over a range whose
/// ends cut weeks (the most days read from the timesheets themselves) and over a year.
fn pages() -> Vec<String> {
    let monday = monday_of(today());
    // Friday five weeks back to the Wednesday of last week: three days at each end.
    let (from, to) = (
        monday - time::Duration::days(31),
        monday - time::Duration::days(5),
    );
    let year = today() - time::Duration::days(DAYS - 1);
    let mut pages: Vec<String> = [
        "/acme/portal/timesheets",
        "/acme/portal/timesheets?status=pending",
        "/acme/portal/timesheets?page=20",
        "/acme/portal",
        "/acme/portal/reports",
        "/acme/portal/reports?group=worker",
        "/acme/portal/reports?group=worksite",
    ]
    .map(String::from)
    .into();
    for (from, to) in [(from, to), (year, today())] {
        pages.push(format!(
            "/acme/portal/reports?group=worker&from={}&to={}",
            iso(from),
            iso(to)
        ));
    }
    pages
}

/// The agency's pages measured: the staff home (what needs attention over every client) and
/// the staff timesheet list unfiltered, waiting, overdue, further on, and one client's sorted
/// by worker.
fn staff_pages(first_client: i64) -> Vec<String> {
    vec![
        "/acme/manage".into(),
        "/acme/manage/timesheets".into(),
        "/acme/manage/timesheets?status=pending".into(),
        "/acme/manage/timesheets?overdue=1".into(),
        "/acme/manage/timesheets?page=20".into(),
        "/acme/manage/timesheets?sort=client&dir=asc".into(),
        format!("/acme/manage/timesheets?client={first_client}&sort=worker&dir=asc"),
    ]
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let count = env_number("PORTAL_BENCH_TIMESHEETS", 1_000_000);
        let client_count = env_number("PORTAL_BENCH_CLIENTS", 2_000).max(1);
        let database = BenchDatabase::open().await?;
        let state = app_state(&database).await?;
        let seed_only = std::env::var_os("PORTAL_BENCH_SEED_ONLY").is_some();
        let (clients, seeded) = if database.given && !seed_only {
            (
                seeded_clients(&state).await?,
                "seeded beforehand".to_owned(),
            )
        } else {
            let (clients, took) = seed(&state, count, client_count).await?;
            if seed_only {
                return Ok(());
            }
            (clients, format!("seeded in {:.0} s", took.as_secs_f64()))
        };
        let router = portal_server::router::router(state.clone());
        let supervisor = session(
            &state,
            "supervisor@bench.example",
            "customer-supervisor",
            Some(clients[0]),
        )
        .await?;
        let partner = session(&state, "partner@bench.example", "partner", None).await?;
        let staff = staff_session(&state).await?;
        let load_before = load_average();
        let mut rows = Vec::new();
        let mut over = 0;
        let mut slowest = Duration::ZERO;
        for (who, cookie, paths) in [
            ("client supervisor", &supervisor, pages()),
            ("partner (all clients)", &partner, pages()),
            ("agency staff", &staff, staff_pages(clients[0])),
        ] {
            for path in paths {
                let median = measure(&router, cookie, &path).await?;
                over += usize::from(median > TARGET);
                slowest = slowest.max(median);
                rows.push(format!(
                    "| `{path}` | {who} | {:.2} ms |",
                    median.as_secs_f64() * 1000.0
                ));
            }
        }
        let load = load_note(load_before, load_average());
        let (backend, profile) = (backend(), profile());
        let mut report = format!(
            "## Portal timesheet list and reports ({backend})\n\n\
             `cargo xtask bench-timesheets` ({profile}, {backend}), {}, {load}. {count} \
             timesheets in one agency over {client_count} clients, {WORKERS} workers and {DAYS} \
             days, {seeded}; median of {ROUNDS} calls per page.\n\n\
             **{} pages, {over} over the {} ms target; slowest {:.2} ms.**\n\n\
             | page | user | median server time |\n|---|---|---|\n",
            machine(),
            rows.len(),
            TARGET.as_millis(),
            slowest.as_secs_f64() * 1000.0,
        );
        for row in &rows {
            report.push_str(row);
            report.push('\n');
        }
        println!("{report}");
        if profile == "release" && count >= 1_000_000 {
            write_section(&format!("timesheets-{}", backend.to_lowercase()), &report)?;
        } else {
            eprintln!("({profile} build, {count} timesheets: BENCHMARKS.md left as it is)");
        }
        Ok(())
    })
}
