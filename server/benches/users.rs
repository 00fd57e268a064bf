//! The portal-user list with 100,000 users in one agency: every sort, both directions, with
//! and without filters, first, middle and last pages, measured in-process through the router
//! (session, query, template) — the server time of `GET /acme/manage/portal-users`.
//!
//! Run with `cargo xtask bench-users` (release build; needs `cargo xtask plugins` first),
//! which seeds the users into a scratch database; `cargo xtask bench` measures the large data
//! set its HTTP benchmark loaded instead (`PORTAL_BENCH_DATABASE_URL`).
//! `PORTAL_BENCH_USERS` changes the number of users seeded (a small number checks the
//! benchmark itself in a debug build); `PORTAL_TEST_DATABASE=postgres` measures PostgreSQL.
//! Prints a Markdown report and writes it into BENCHMARKS.md, section "Portal-user list" of
//! the database measured.

#[path = "shared/report.rs"]
mod report;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::db::accounts::{self, AccountKind};
use portal_server::db::portal_users;
use portal_server::db::staff_users::{self, NewStaffUser, StaffRole};
use portal_server::demo::large;
use portal_server::state::AppState;
use report::{
    BenchDatabase, app_state, backend, load_average, load_note, machine, profile, write_section,
};
use tower::ServiceExt;

/// The target: every list page under this, server time.
const TARGET: Duration = Duration::from_millis(20);
/// Timed runs of each combination; the median counts.
const RUNS: usize = 5;

fn users_wanted() -> usize {
    std::env::var("PORTAL_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

const ROLES: [&str; 4] = [
    "customer-supervisor",
    "customer-time-only",
    "customer-invoices-only",
    "customer-limited",
];

/// `count` users over 50 clients, in the shape of the large data set (see
/// `portal_server::demo::large::portal_users`).
async fn seed(state: &AppState, agency_id: i64, count: usize) -> anyhow::Result<()> {
    let db = state.db();
    let clients = large::clients_with_sites(db, agency_id, 50, |n| {
        format!("Client {n:02} Manufacturing")
    })
    .await?;
    let users = large::PortalUsers {
        count,
        roles: &ROLES,
        password_hash: None,
    };
    large::portal_users(db, agency_id, &clients, &users, || {}).await?;
    large::settle(db).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database = BenchDatabase::open().await?;
    let state = app_state(&database).await?;
    let router = portal_server::router::router(state.clone());
    let agency = state
        .agency("acme")
        .ok_or_else(|| anyhow::anyhow!("no acme"))?;

    // `cargo xtask bench` names the large data set its HTTP benchmark loaded.
    let data = if database.given {
        "the large data set (2,000 clients)"
    } else {
        let seeding = Instant::now();
        let count = users_wanted();
        seed(&state, agency.id, count).await?;
        eprintln!("seeded {count} portal users in {:.1?}", seeding.elapsed());
        "seeded over 50 clients"
    };
    let count = usize::try_from(portal_users::count(&state.db().pool, agency.id).await?)?;

    // An admin of its own, kept when the benchmark runs again over the same database.
    const ADMIN: &str = "admin@acme.example";
    let pool = &state.db().pool;
    let account = match accounts::by_email(pool, AccountKind::Staff, agency.id, ADMIN).await? {
        Some(account) => account,
        None => {
            let hash = portal_server::auth::passwords::hash("lantern-harbour-orbit").await?;
            let new = NewStaffUser {
                email: ADMIN,
                name: "Bench Admin",
                role: StaffRole::Admin,
                password_hash: &hash,
                must_change_password: false,
            };
            let staff_id = staff_users::create(pool, agency.id, &new).await?;
            accounts::by_id(pool, AccountKind::Staff, agency.id, staff_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no admin"))?
        }
    };
    let cookie = portal_server::auth::session::start(
        &state,
        &agency,
        AccountKind::Staff,
        &account,
        ("127.0.0.1", "bench"),
        false,
    )
    .await?;
    let cookie = cookie
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();

    let filters = [
        ("all", String::new()),
        ("q=smith", "&q=smith".to_owned()),
        ("q=example (every user)", "&q=example".to_owned()),
        ("q=client 07", "&q=client%2007".to_owned()),
        ("q=user4242@", "&q=user4242%40".to_owned()),
        ("status=invited", "&status=invited".to_owned()),
        (
            "q=jones, status=active",
            "&q=jones&status=active".to_owned(),
        ),
    ];
    let sorts = [
        "name",
        "email",
        "company",
        "role",
        "status",
        "last_sign_in",
        "created",
    ];
    let get = |list: &str, page: usize| {
        let request = Request::get(format!("{list}&page={page}"))
            .header("cookie", &cookie)
            .body(Body::empty());
        let router = router.clone();
        async move {
            let response = router.oneshot(request?).await?;
            anyhow::ensure!(response.status() == StatusCode::OK, "page {page}");
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            anyhow::Ok(String::from_utf8_lossy(&body).into_owned())
        }
    };
    let time = |uri: &str| {
        let uri = uri.to_owned();
        let router = router.clone();
        let cookie = cookie.clone();
        async move {
            let mut samples = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let request = Request::get(&uri)
                    .header("cookie", &cookie)
                    .body(Body::empty())?;
                let began = Instant::now();
                let response = router.clone().oneshot(request).await?;
                let status = response.status();
                axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                samples.push(began.elapsed());
                anyhow::ensure!(status == StatusCode::OK, "{uri}: {status}");
            }
            samples.sort();
            anyhow::Ok(samples[RUNS / 2])
        }
    };
    let mut rows = Vec::new();
    let mut worst = Duration::ZERO;
    let mut over = 0;
    let mut combinations = 0;
    let load_before = load_average();
    for sort in sorts {
        for dir in ["asc", "desc"] {
            for (label, filter) in &filters {
                let mut slowest = (Duration::ZERO, String::new());
                for size in [25, 100] {
                    let list = format!(
                        "/acme/manage/portal-users?sort={sort}&dir={dir}&size={size}{filter}"
                    );
                    let (count, more) = total(&get(&list, 1).await?);
                    let last = count.div_ceil(size).max(1);
                    let middle = last / 2 + 1;
                    // The pages a person reaches: the first, the middle one by Next from
                    // the page before and by Previous from the page after, and the last
                    // (the list's Last link).
                    let mut targets = vec![("first page".to_owned(), format!("{list}&page=1"))];
                    if last >= 3 {
                        targets.push((
                            format!("page {middle} by Next"),
                            link(&get(&list, middle - 1).await?, "next", &list)?,
                        ));
                        targets.push((
                            format!("page {middle} by Previous"),
                            link(&get(&list, middle + 1).await?, "prev", &list)?,
                        ));
                    }
                    // A list that stopped counting has no Last link.
                    if last >= 2 && !more {
                        targets.push((
                            format!("page {last} (Last)"),
                            format!("{list}&page={last}&at=end"),
                        ));
                    }
                    for (page, uri) in targets {
                        let median = time(&uri).await?;
                        combinations += 1;
                        if median > TARGET {
                            over += 1;
                        }
                        if median > slowest.0 {
                            slowest = (median, format!("size {size}, {page}"));
                        }
                    }
                }
                worst = worst.max(slowest.0);
                rows.push(format!(
                    "| {sort} {dir} | {label} | {:.2} ms | {} |",
                    slowest.0.as_secs_f64() * 1e3,
                    slowest.1
                ));
            }
        }
    }

    let load = load_note(load_before, load_average());
    let (backend, profile) = (backend(), profile());
    let mut report = format!(
        "## Portal-user list ({backend})\n\n`cargo xtask bench-users` ({profile}, {backend}), {count} portal users in one agency, {data}, \
         {}, {load}. Server time of `GET /acme/manage/portal-users` through the router (session, count, page query, \
         template), median of {RUNS} runs per combination; each row is the slowest page (sizes 25 and 100; \
         the first page, the middle page as its Next and Previous links reach it, and the last page; a search \
         matching more users than the list counts has no last page, and its middle is that of the users counted) \
         of that sort and filter.\n\n\
         **{combinations} combinations, {over} over the {} ms target; slowest {:.2} ms.**\n\n\
         | sort | filter | slowest median | page |\n|---|---|---|---|\n",
        machine(),
        TARGET.as_millis(),
        worst.as_secs_f64() * 1e3
    );
    for row in &rows {
        report.push_str(row);
        report.push('\n');
    }
    println!("{report}");
    if profile == "release" && count >= 100_000 {
        write_section(&format!("users-{}", backend.to_lowercase()), &report)?;
    } else {
        eprintln!("({profile} build, {count} users: BENCHMARKS.md left as it is)");
    }
    Ok(())
}

/// How many users the list says match ("1–25 of 10000"), and whether it stopped counting
/// there ("1–25 of more than 20000 …").
fn total(body: &str) -> (usize, bool) {
    let summary = body
        .split("class=\"summary\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default();
    let counted = summary.split(" of ").nth(1).unwrap_or_default();
    let more = counted.starts_with("more than ");
    let count = counted
        .trim_start_matches("more than ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (count, more)
}

/// The address of a page's `rel` link (`next` or `prev`), on the list at `list`.
fn link(body: &str, rel: &str, list: &str) -> anyhow::Result<String> {
    let tag = format!("rel=\"{rel}\"");
    let href = body
        .split("<a href=\"")
        .skip(1)
        .find_map(|rest| {
            let (href, after) = rest.split_once('"')?;
            after.trim_start().starts_with(&tag).then_some(href)
        })
        .ok_or_else(|| anyhow::anyhow!("no {rel} link on {list}"))?;
    let path = list.split('?').next().unwrap_or(list);
    Ok(format!("{path}{}", href.replace("&amp;", "&")))
}
