//! `cargo xtask bench`: a release build of the portal on embedded SQLite with the demo data,
//! driven over loopback by a load generator in this process, with results written to
//! `BENCHMARKS.md`. Every figure is compared with a baseline from the same run, because
//! the machines are shared and noisy.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{banner, cargo, plugins, root, run};

const DEMO_PASSWORD: &str = "lantern-harbour-orbit";
/// Clients reading the dashboard, in every phase.
const READERS: usize = 8;
/// Each reader asks for the dashboard this often: ordinary traffic, well below what the
/// server can answer, so the figures are response times and not a measure of saturation
/// (readers in a tight loop would only show that a busy processor answers more slowly).
const READ_EVERY: Duration = Duration::from_millis(25);
/// Concurrent sign-ins during the storm.
const SIGN_INS: usize = 50;
const PHASE: Duration = Duration::from_secs(8);

pub fn bench() -> anyhow::Result<()> {
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
    let work = std::env::temp_dir().join(format!("portal-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let config = install(&work)?;
    let portal = root().join("target/release/portal");
    run(Command::new(&portal)
        .arg("--config")
        .arg(&config)
        .args(["demo", "seed"]))?;
    let mut server = Server::start(&portal, &config)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(sign_in_storm(&server.base));
    server.stop();
    let _ = std::fs::remove_dir_all(&work);
    let report = report?;
    println!("{report}");
    write_section("sign-in-storm", &report)
}

/// A configuration folder for the run: the demo agencies, SQLite in `work`, and throttling
/// out of the way (the storm signs in the same accounts many times on purpose).
fn install(work: &Path) -> anyhow::Result<PathBuf> {
    let config = work.join("config");
    copy_dir(&root().join("config"), &config)?;
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[database]\nurl = \"sqlite://{}/portal.db\"\n\n\
         [paths]\ndata = \"{}\"\nthemes = [\"{}\"]\nplugins = [\"{}\"]\n\n[log]\nlevel = \"warn\"\n\n\
         [security]\nthrottle_delay_after = 1000000\nthrottle_lock_after = 1000000\n",
        work.display(),
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

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(portal: &Path, config: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(portal)
            .arg("--config")
            .arg(config)
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start portal serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let base = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .context("portal serve printed no address")?;
        Ok(Self { child, base })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-in browser: its cookie jar holds the session.
async fn signed_in(base: &str, email: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in(&client, base, email).await?;
    Ok(client)
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<()> {
    let page = client
        .get(format!("{base}/acme/portal/login"))
        .send()
        .await?
        .text()
        .await?;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no form token on the sign-in page")?
        .to_owned();
    let response = client
        .post(format!("{base}/acme/portal/login"))
        .form(&[
            ("email", email),
            ("password", DEMO_PASSWORD),
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
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
                sign_in(&client, &base, "priya@northwind.example").await?;
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
         scheduling priority). Release build, SQLite.\n\n\
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
fn write_section(name: &str, body: &str) -> anyhow::Result<()> {
    let path = root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nRun with `cargo xtask bench`. Figures are from the machine named in each \
         section; compare ratios, not absolute numbers, across machines.\n"
            .to_owned()
    });
    let start = format!("<!-- bench:{name}:start -->");
    let end = format!("<!-- bench:{name}:end -->");
    let section = format!("{start}\n## Sign-in storm\n\n{}\n{body}{end}", machine()?);
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
