//! `cargo xtask bench` and `cargo xtask bench-http`: a release build of the portal loaded with
//! the large data set (`portal demo seed --scale large`), on embedded SQLite and then on
//! PostgreSQL, driven over loopback by a load generator in this process, with results written
//! to `BENCHMARKS.md`. Every figure is compared with a baseline from the same run — a bare
//! axum handler in a process of its own — because the machines are shared and noisy.

mod load;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use load::{Load, Outcome, ms, percentile};

use crate::{DEFAULT_POSTGRES_URL, banner, cargo, plugins, postgres_reachable, root, run};

const DEMO_PASSWORD: &str = "lantern-harbour-orbit";
/// Clients reading the dashboard, in every phase of the sign-in storm.
const READERS: usize = 8;
/// Each reader asks for the dashboard this often: ordinary traffic, well below what the
/// server can answer, so the figures are response times and not a measure of saturation
/// (readers in a tight loop would only show that a busy processor answers more slowly).
const READ_EVERY: Duration = Duration::from_millis(25);
/// Concurrent sign-ins during the storm.
const SIGN_INS: usize = 50;
const PHASE: Duration = Duration::from_secs(8);
/// Connections of each load measurement.
const CONNECTIONS: [usize; 3] = [1, 16, 64];
/// The large data set's client supervisor of `Client 0000` (see `portal_server::demo::large`).
const SUPERVISOR: &str = "user0@client0.example";
/// Small agencies configured beside the two demo agencies.
const SMALL_AGENCIES: usize = 50;
/// Start-ups timed in each state of the compiled-plugin cache.
const START_UPS: usize = 3;

/// Everything: on each database the HTTP benchmarks, then the portal-user list over the same
/// large data set; then the plugin host and the timesheet pages, whose data is seeded while
/// the large data set loads. The whole run's time goes into BENCHMARKS.md too.
pub fn bench() -> anyhow::Result<()> {
    let started = Instant::now();
    banner("building the benchmarks (release)");
    let timesheets = build_benches("timesheets")?;
    let ahead = measure_http(Some(&timesheets))?;
    crate::bench_plugins()?;
    for seeded in ahead {
        let measured = crate::bench_on(
            "timesheets",
            "portal timesheet list and reports",
            seeded.database.test_key(),
            Some(&seeded.url),
        );
        seeded.remove();
        measured?;
    }
    let took = started.elapsed();
    println!(
        "cargo xtask bench finished in {:.1} min",
        took.as_secs_f64() / 60.0
    );
    write_section(
        "run",
        "Whole run",
        &format!(
            "`cargo xtask bench` ran end to end, building what had changed since the last \
             release build, in **{:.1} minutes** (target: under 15).\n",
            took.as_secs_f64() / 60.0
        ),
    )
}

/// The server's benchmarks, built in the release profile before anything is measured so
/// that none compiles between measurements.
const BENCHES: [&str; 3] = ["users", "timesheets", "plugins"];

/// Builds [`BENCHES`] and returns the executable of `wanted`, to run while other work goes on
/// (`cargo bench` would wait for the build folder's lock).
fn build_benches(wanted: &str) -> anyhow::Result<PathBuf> {
    let mut command = cargo();
    command.args([
        "bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
        "--package",
        "portal-server",
    ]);
    for bench in BENCHES {
        command.args(["--bench", bench]);
    }
    let output = command
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start cargo bench")?;
    if !output.status.success() {
        bail!("building the benchmarks failed: {}", output.status);
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == wanted
        })
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("cargo named no executable of the {wanted} benchmark"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }

    /// The value of `PORTAL_TEST_DATABASE` that picks it.
    fn test_key(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The HTTP benchmarks on SQLite, then PostgreSQL (skipped with a warning when PostgreSQL
/// is not reachable).
pub fn http() -> anyhow::Result<()> {
    measure_http(None).map(drop)
}

/// The HTTP benchmarks. Within the whole run (`timesheets`, the timesheet benchmark's
/// executable) also the portal-user list benchmark after them on each database, reading the
/// large data set they loaded instead of seeding its own users; and the timesheet
/// benchmark's own data is seeded alongside the large data set, into databases returned
/// for it to measure.
fn measure_http(timesheets: Option<&Path>) -> anyhow::Result<Vec<Seeded>> {
    plugins()?;
    banner("building the portal (release)");
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "portal-server",
        "--bin",
        "portal",
    ]))?;
    let portal = root().join("target/release/portal");
    let runtime = tokio::runtime::Runtime::new()?;
    let mut bare = bare()?;
    let postgres =
        std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let mut databases = vec![Database::Sqlite];
    if postgres_reachable(&postgres) {
        databases.push(Database::Postgres);
    } else {
        crate::loud_skip(&format!(
            "PostgreSQL is not reachable at {postgres}: its HTTP benchmark was SKIPPED"
        ));
    }
    let (large, ahead) = seed_all(&portal, &databases, &postgres, timesheets)?;
    for seeded in large {
        let Seeded {
            database,
            ref url,
            ref work,
            took,
            ..
        } = seeded;
        let config = work.join("config");
        let token = api_token(&portal, &config)?;
        banner(&format!("start-up ({})", database.name()));
        let start_up = start_ups(&portal, &config, &work.join("data/plugin-cache"))?;
        let mut server = Server::start(&portal, &config)?;
        let result = runtime.block_on(async {
            let pages = pages(&server.base, &token).await?;
            let table = load_table(&pages, &bare.base).await?;
            let storm = sign_in_storm(&server.base).await?;
            Ok::<_, anyhow::Error>((table, storm))
        });
        server.stop();
        let result = result.and_then(|measured| {
            if timesheets.is_some() {
                crate::bench_on("users", "portal-user list", database.test_key(), Some(url))?;
            }
            Ok(measured)
        });
        seeded.remove();
        let (table, storm) = result?;
        let name = database.name();
        let report = format!(
            "`cargo xtask bench-http`: release build on {name} with the large data set (`portal demo seed --scale large`, \
             {:.0} s to seed, both databases at once: `acme` with 2,000 clients, 20,000 workers, \
             100,000 portal users and 1,000,000 timesheets, and {SMALL_AGENCIES} small agencies \
             beside the two demo ones). One-minute load average before: {}.\n\n{start_up}\n{table}",
            took.as_secs_f64(),
            load_average(),
        );
        println!("{report}\n{storm}");
        write_section(
            &format!("http-{}", database.key()),
            &format!("HTTP load ({name})"),
            &report,
        )?;
        write_section(
            &format!("sign-in-storm-{}", database.key()),
            &format!("Sign-in storm ({name})"),
            &storm,
        )?;
    }
    bare.stop();
    Ok(ahead)
}

/// A database loaded for a benchmark, and its folder (for the large data set, with the
/// configuration that uses it in `config/`).
struct Seeded {
    database: Database,
    url: String,
    work: PathBuf,
    took: Duration,
}

impl Seeded {
    /// Removes the folder, and with it a SQLite database; a PostgreSQL one is dropped when
    /// the next run makes it afresh.
    fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// Loads the large data set into every database at once, each by a `portal demo seed`
/// process of its own, and with `timesheets` (the timesheet benchmark's executable) that
/// benchmark's data into a second database of each kind: nothing is measured meanwhile,
/// and the seeds share the machine better than they take turns (each is one writer, and
/// SQLite's waits on its file while PostgreSQL's works). Returns the large data sets, then
/// the timesheet benchmark's, SQLite first in each.
fn seed_all(
    portal: &Path,
    databases: &[Database],
    postgres: &str,
    timesheets: Option<&Path>,
) -> anyhow::Result<(Vec<Seeded>, Vec<Seeded>)> {
    banner("large data set (every database at once)");
    let mut seeding = Vec::new();
    for &database in databases {
        let (url, work) = scratch(database, postgres, "portal_bench")?;
        let config = install(&work, &url)?;
        let child = Command::new(portal)
            .arg("--config")
            .arg(&config)
            .args(["demo", "seed", "--scale", "large"])
            .spawn()
            .context("cannot start portal demo seed")?;
        seeding.push(Seeding::started(database, url, work, child, None));
        if let Some(bench) = timesheets {
            let (url, work) = scratch(database, postgres, "portal_bench_timesheets")?;
            let child = Command::new(bench)
                .current_dir(root().join("server"))
                .env("PORTAL_TEST_DATABASE", database.test_key())
                .env("PORTAL_BENCH_DATABASE_URL", &url)
                .env("PORTAL_BENCH_SEED_ONLY", "1")
                .spawn()
                .context("cannot start the timesheet benchmark")?;
            let what = "timesheet benchmark data";
            seeding.push(Seeding::started(database, url, work, child, Some(what)));
        }
    }
    let (mut large, mut ahead) = (Vec::new(), Vec::new());
    while !seeding.is_empty() {
        std::thread::sleep(Duration::from_millis(200));
        let mut index = 0;
        while index < seeding.len() {
            let Some(status) = seeding[index].child.try_wait()? else {
                index += 1;
                continue;
            };
            let done = seeding.swap_remove(index);
            if !status.success() {
                for mut other in seeding {
                    let _ = other.child.kill();
                }
                bail!("seeding {} failed: {status}", done.seeded.database.name());
            }
            let mut seeded = done.seeded;
            seeded.took = done.started.elapsed();
            println!(
                "{} seeded into {} in {:.0} s",
                done.ahead.unwrap_or("large data set"),
                seeded.database.name(),
                seeded.took.as_secs_f64()
            );
            if done.ahead.is_some() {
                ahead.push(seeded);
            } else {
                large.push(seeded);
            }
        }
    }
    for list in [&mut large, &mut ahead] {
        list.sort_by_key(|seeded| seeded.database != Database::Sqlite);
    }
    Ok((large, ahead))
}

/// A database being loaded by a process of its own.
struct Seeding {
    seeded: Seeded,
    started: Instant,
    child: Child,
    /// What is seeded ahead for a benchmark other than the HTTP one; `None` for the large
    /// data set.
    ahead: Option<&'static str>,
}

impl Seeding {
    fn started(
        database: Database,
        url: String,
        work: PathBuf,
        child: Child,
        ahead: Option<&'static str>,
    ) -> Self {
        Self {
            seeded: Seeded {
                database,
                url,
                work,
                took: Duration::ZERO,
            },
            started: Instant::now(),
            child,
            ahead,
        }
    }
}

/// An empty database of the run, and a folder of its own: a SQLite file in it, or a
/// PostgreSQL database `name` made afresh.
fn scratch(database: Database, postgres: &str, name: &str) -> anyhow::Result<(String, PathBuf)> {
    let work = std::env::temp_dir().join(format!(
        "{}-{}-{}",
        name.replace('_', "-"),
        database.key(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let url = match database {
        Database::Sqlite => format!("sqlite://{}/portal.db", work.display()),
        Database::Postgres => fresh_postgres(postgres, name)?,
    };
    Ok((url, work))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// An empty database `name` on the PostgreSQL server of `url`; returns its URL.
fn fresh_postgres(url: &str, name: &str) -> anyhow::Result<String> {
    let server = url.rsplit_once('/').map_or(url, |(server, _)| server);
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        run(Command::new("psql")
            .arg(format!("{server}/postgres"))
            .args(["-q", "-c", &statement]))?;
    }
    Ok(format!("{server}/{name}"))
}

/// A new API token of `acme`, from `portal api-token create`.
fn api_token(portal: &Path, config: &Path) -> anyhow::Result<String> {
    let output = Command::new(portal)
        .arg("--config")
        .arg(config)
        .args(["api-token", "create", "--agency", "acme", "--name", "bench"])
        .output()?;
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .find(|word| word.starts_with("portal_"))
        .map(str::to_owned)
        .context("portal api-token create printed no token")
}

/// A configuration folder for the run: the demo agencies and [`SMALL_AGENCIES`] more, the
/// database at `url`, and throttling out of the way (the storm signs in the same accounts
/// many times on purpose).
fn install(work: &Path, url: &str) -> anyhow::Result<PathBuf> {
    let config = work.join("config");
    copy_dir(&root().join("config"), &config)?;
    let acme = std::fs::read_to_string(config.join("agencies/acme.toml"))?;
    for n in 1..=SMALL_AGENCIES {
        let slug = format!("small-{n:02}");
        let text = acme
            .replace("slug = \"acme\"", &format!("slug = \"{slug}\""))
            .replace("Acme Staffing\"", &format!("Small Agency {n:02}\""));
        std::fs::write(config.join(format!("agencies/{slug}.toml")), text)?;
    }
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[database]\nurl = \"{url}\"\n\n\
         [paths]\ndata = \"{}\"\nthemes = [\"{}\"]\nplugins = [\"{}\"]\n\n[log]\nlevel = \"warn\"\n\n\
         [security]\nthrottle_delay_after = 1000000\nthrottle_lock_after = 1000000\n",
        work.join("data").display(),
        root().join("themes").display(),
        root().join("dist/plugins").display(),
    );
    std::fs::write(config.join("portal.toml"), text)?;
    Ok(config)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A server process that prints `listening on <base>` once it accepts connections.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(portal: &Path, config: &Path) -> anyhow::Result<Self> {
        let mut command = Command::new(portal);
        command.arg("--config").arg(config).arg("serve");
        Self::spawn(command)
    }

    fn spawn(mut command: Command) -> anyhow::Result<Self> {
        let shown = format!("{command:?}");
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {shown}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let base = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .with_context(|| format!("{shown} printed no address"))?;
        Ok(Self { child, base })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ceiling every page is compared with: a bare axum handler returning a fixed page, in
/// a process of its own (`cargo xtask bare-server`, started by the benchmark itself).
fn bare() -> anyhow::Result<Server> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("bare-server");
    Server::spawn(command)
}

const BARE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Fixed page</title></head><body><main><h1>Fixed page</h1><p>The same answer to every \
request, with no session, database or template: what the machine can serve at best.</p>\
</main></body></html>";

/// `cargo xtask bare-server`: serves [`BARE_PAGE`] on a free loopback port until killed.
pub fn bare_server() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(|| async { axum::response::Html(BARE_PAGE) }),
        );
        axum::serve(listener, app).await?;
        Ok(())
    })
}

/// Median time from starting `portal serve` to `/readyz` answering 200, with the
/// compiled-plugin cache emptied first (cold) and then as that start left it (warm).
fn start_ups(portal: &Path, config: &Path, cache: &Path) -> anyhow::Result<String> {
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..START_UPS {
        let _ = std::fs::remove_dir_all(cache);
        cold.push(time_to_ready(portal, config)?);
        warm.push(time_to_ready(portal, config)?);
    }
    cold.sort();
    warm.sort();
    Ok(format!(
        "Start-up, from starting `portal serve` to `/readyz` answering 200 (median of \
         {START_UPS}; the migrations find nothing to do, the plugins are compiled (cold) or \
         read from the compiled-plugin cache (warm)):\n\n\
         | compiled-plugin cache | time to ready |\n|---|---|\n\
         | cold | {} |\n| warm | {} |\n",
        ms(cold[cold.len() / 2]),
        ms(warm[warm.len() / 2]),
    ))
}

fn time_to_ready(portal: &Path, config: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut server = Server::start(portal, config)?;
    let address = server.base.trim_start_matches("http://").to_owned();
    let ready = loop {
        if ready(&address) {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(60) {
            server.stop();
            bail!("portal serve was not ready within a minute");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    server.stop();
    Ok(ready)
}

/// Whether `GET /readyz` answers 200.
fn ready(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut answer = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && answer.ends_with(b" 200")
}

/// The requests measured, signed in where they need to be.
async fn pages(base: &str, token: &str) -> anyhow::Result<Vec<(String, Load)>> {
    let portal = load::session_cookie(base, "portal", SUPERVISOR, DEMO_PASSWORD).await?;
    let staff =
        load::session_cookie(base, "manage", "admin@acme-staffing.example", DEMO_PASSWORD).await?;
    let api = format!("{base}/api/v1/acme");
    load::prepare_feed(&api, token).await?;
    let get = |path: &str, cookie: Option<&String>| Load::Get {
        url: format!("{base}{path}"),
        cookie: cookie.cloned(),
    };
    Ok(vec![
        ("sign-in page".into(), get("/acme/portal/login", None)),
        ("dashboard".into(), get("/acme/portal", Some(&portal))),
        (
            "timesheet list".into(),
            get("/acme/portal/timesheets", Some(&portal)),
        ),
        ("report".into(), get("/acme/portal/reports", Some(&portal))),
        (
            "portal-user list".into(),
            get("/acme/manage/portal-users", Some(&staff)),
        ),
        (
            format!("API batch of {} timesheets", load::BATCH_ROWS),
            Load::Batch {
                url: format!("{api}/timesheets/batch"),
                token: token.to_owned(),
            },
        ),
    ])
}

/// Every page at every connection count, each right after the bare handler at that count.
async fn load_table(pages: &[(String, Load)], bare: &str) -> anyhow::Result<String> {
    let ceiling = Load::Get {
        url: format!("{bare}/"),
        cookie: None,
    };
    let mut rows = Vec::new();
    let mut verdicts = Vec::new();
    let mut refusals = Vec::new();
    let row = |name: &str, connections: usize, outcome: &Outcome, ratio: f64| {
        format!(
            "| {name} | {connections} | {} | {} | {:.0} | {:.0}% | {} | {} |",
            outcome.requests,
            outcome.failed,
            outcome.per_second,
            ratio * 100.0,
            ms(outcome.p50),
            ms(outcome.p99)
        )
    };
    for connections in CONNECTIONS {
        banner(&format!("{connections} connections"));
        let bare = load::measure(&ceiling, connections).await?;
        println!("{}", row("bare axum handler", connections, &bare, 1.0));
        rows.push(row("bare axum handler", connections, &bare, 1.0));
        for (name, page) in pages {
            let outcome = load::measure(page, connections).await?;
            let ratio = outcome.per_second / bare.per_second.max(1e-9);
            println!("{}", row(name, connections, &outcome, ratio));
            rows.push(row(name, connections, &outcome, ratio));
            if let Some(first) = &outcome.first_failure {
                refusals.push(format!(
                    "{name} at {connections} connections: {} refused, the first: {first}\n\n",
                    outcome.failed
                ));
            }
            if name == "dashboard" || name == "timesheet list" {
                verdicts.push(verdict(name, connections, &outcome, ratio));
            }
        }
    }
    Ok(format!(
        "Closed loop: each connection sends its next request when the last is answered, \
         {:.1} s after {:.1} s of warm-up; the load generator shares the machine. \
         \"Of bare\" is the throughput as a share of the bare axum handler's at the same \
         connection count, measured just before. Signed in as `{SUPERVISOR}` (client \
         supervisor of one of the 2,000 clients) for the portal pages and as the agency's \
         admin for the portal-user list; the API batches create {} new timesheets each.\n\n\
         | request | connections | answered | refused | req/s | of bare | p50 | p99 |\n\
         |---|---|---|---|---|---|---|---|\n{}\n\n{}\
         Targets (dashboard and timesheet list: at least 25% of the bare handler's \
         throughput; p99 under 25 ms at 64 connections):\n\n{}\n",
        load::RUN.as_secs_f64(),
        load::WARM_UP.as_secs_f64(),
        load::BATCH_ROWS,
        rows.join("\n"),
        refusals.join(""),
        verdicts.join("\n"),
    ))
}

fn verdict(name: &str, connections: usize, outcome: &Outcome, ratio: f64) -> String {
    let share = if ratio >= 0.25 { "met" } else { "**missed**" };
    let mut line = format!(
        "- {name}, {connections} connections: {:.0}% of bare ({share})",
        ratio * 100.0
    );
    if connections == 64 {
        let p99 = if outcome.p99 < Duration::from_millis(25) {
            "met"
        } else {
            "**missed**"
        };
        line.push_str(&format!("; p99 {} ({p99})", ms(outcome.p99)));
    }
    line
}

/// A signed-in browser: its cookie jar holds the session.
async fn signed_in(base: &str, email: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in_at(&client, base, "portal", email, DEMO_PASSWORD).await?;
    Ok(client)
}

/// Signs in with the form at `/acme/{area}/login`, as a browser does.
async fn sign_in_at(
    client: &reqwest::Client,
    base: &str,
    area: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let login = format!("{base}/acme/{area}/login");
    let page = client.get(&login).send().await?.text().await?;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no form token on the sign-in page")?
        .to_owned();
    let response = client
        .post(&login)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("sign-in for {email} answered {}", response.status());
    }
    Ok(())
}

/// Latencies of dashboard requests by `READERS` clients for one phase.
async fn read_dashboard(
    base: &str,
    clients: &[reqwest::Client],
    phase: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + phase;
    let mut tasks = Vec::new();
    for client in clients {
        let client = client.clone();
        let url = format!("{base}/acme/portal");
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut pace = tokio::time::interval(READ_EVERY);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while Instant::now() < deadline {
                pace.tick().await;
                let started = Instant::now();
                let response = client.get(&url).send().await?;
                if !response.status().is_success() {
                    bail!("dashboard answered {}", response.status());
                }
                response.bytes().await?;
                times.push(started.elapsed());
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort();
    Ok(all)
}

async fn sign_in_storm(base: &str) -> anyhow::Result<String> {
    let mut readers = Vec::new();
    for _ in 0..READERS {
        readers.push(signed_in(base, "david@northwind.example").await?);
    }
    read_dashboard(base, &readers, Duration::from_secs(2)).await?; // warm-up

    banner("dashboard, quiet");
    let quiet = read_dashboard(base, &readers, PHASE).await?;

    banner("dashboard during 50 concurrent sign-ins");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut stormers = Vec::new();
    for _ in 0..SIGN_INS {
        let (stop, done, base) = (stop.clone(), done.clone(), base.to_owned());
        stormers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            while !stop.load(Ordering::Relaxed) {
                sign_in_at(
                    &client,
                    &base,
                    "portal",
                    "priya@northwind.example",
                    DEMO_PASSWORD,
                )
                .await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let storm = read_dashboard(base, &readers, PHASE).await?;
    stop.store(true, Ordering::Relaxed);
    for task in stormers {
        task.await??;
    }
    let sign_ins = done.load(Ordering::Relaxed);

    let (q50, q99) = (percentile(&quiet, 0.50), percentile(&quiet, 0.99));
    let (s50, s99) = (percentile(&storm, 0.50), percentile(&storm, 0.99));
    let ratio = s99.as_secs_f64() / q99.as_secs_f64().max(1e-9);
    let seconds = PHASE.as_secs_f64();
    Ok(format!(
        "Dashboard (`GET /acme/portal`, signed in) read by {READERS} clients, each once every \
         {} ms, for {}s, first quiet, then while {SIGN_INS} clients sign in over and over \
         (argon2id m=19456 KiB, t=2, p=1; hashing on half the cores, on threads at a lower \
         scheduling priority).\n\n\
         | phase | requests | req/s | p50 | p99 |\n|---|---|---|---|---|\n\
         | quiet | {} | {:.0} | {} | {} |\n\
         | during sign-in storm | {} | {:.0} | {} | {} |\n\n\
         Sign-ins completed during the storm: {sign_ins} ({:.1}/s). \
         Dashboard p99 during the storm is **{ratio:.2}×** its quiet value (target: at most 2×).\n",
        READ_EVERY.as_millis(),
        PHASE.as_secs(),
        quiet.len(),
        quiet.len() as f64 / seconds,
        ms(q50),
        ms(q99),
        storm.len(),
        storm.len() as f64 / seconds,
        ms(s50),
        ms(s99),
        sign_ins as f64 / seconds,
    ))
}

/// Replaces one section of BENCHMARKS.md (between its markers), adding the file or the
/// section when missing, with the machine, date and commit.
fn write_section(name: &str, title: &str, body: &str) -> anyhow::Result<()> {
    let path = root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nRun with `cargo xtask bench`. Figures are from the machine named in each \
         section; compare ratios, not absolute numbers, across machines.\n"
            .to_owned()
    });
    let start = format!("<!-- bench:{name}:start -->");
    let end = format!("<!-- bench:{name}:end -->");
    let section = format!("{start}\n## {title}\n\n{}\n{body}{end}", machine()?);
    match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if b > a => text.replace_range(a..b + end.len(), &section),
        _ => {
            text.push('\n');
            text.push_str(&section);
            text.push('\n');
        }
    }
    std::fs::write(&path, text)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn machine() -> anyhow::Result<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let output = |cmd: &mut Command| {
        cmd.output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]));
    let commit = output(
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(root()),
    );
    Ok(format!(
        "Machine: {cores} cores, {cpu}. Date: {date}. Commit: {commit}.\n"
    ))
}
