//! `cargo xtask …`: the project's set-up and test commands.
//!
//! - `cargo xtask demo`    build the plugins, seed demo data, serve on 127.0.0.1:8080
//! - `cargo xtask test`    layering and formatting, then every test: SQLite (with the
//!   browser tests), then PostgreSQL
//! - `cargo xtask lint`    formatting and clippy (`-D warnings`) over the three workspaces
//! - `cargo xtask arch`    the server's layering (see arch.rs); `--edges` lists every import
//! - `cargo xtask plugins` build the built-in plugins into dist/plugins/
//! - `cargo xtask bench`   every benchmark below, end to end, into BENCHMARKS.md
//! - `cargo xtask bench-http` a release build with the large data set under HTTP load, on
//!   SQLite then PostgreSQL, against a bare handler; start-up; a sign-in storm
//! - `cargo xtask bench-plugins` benchmark the plugin host (release) into BENCHMARKS.md
//! - `cargo xtask bench-timesheets` portal timesheet list and reports over 1,000,000 rows
//!   (release), SQLite then PostgreSQL, into BENCHMARKS.md
//! - `cargo xtask bench-users` the portal-user list with 100,000 users (release), SQLite then
//!   PostgreSQL, into BENCHMARKS.md
//! - `cargo xtask fuzz [SECONDS]` every fuzz target in turn (nightly, cargo-fuzz), 600 s each

mod arch;
mod bench;
mod fuzz;

use std::collections::BTreeSet;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const USAGE: &str =
    "usage: cargo xtask <demo|test|lint|arch|plugins|bench|bench-http|bench-plugins|bench-timesheets|bench-users|fuzz>

  demo      build the plugins, load demo data into data/portal.db, serve on 127.0.0.1:8080
  test      check the layering and formatting; build the plugins and run every test
            on SQLite (with Chromium), then PostgreSQL
  lint      formatting and clippy -D warnings over the server, the plugins (wasm32-wasip2)
            and the fuzz crate
  arch      check the server's layering: areas apart, SQL only in db/, no large import
            cycle (--edges prints every import between files)
  plugins   build the built-in plugins (wasm32-wasip2) into dist/plugins/
  bench     run every benchmark below, end to end, and write BENCHMARKS.md
  bench-http
            seed the large data set (portal demo seed --scale large) on SQLite, then
            PostgreSQL, and measure a release build over loopback at 1, 16 and 64 connections
            against a bare axum handler; time start-up and a sign-in storm
  bench-plugins
            build the plugins, benchmark the plugin host against native Rust (release build)
            and write the results into BENCHMARKS.md
  bench-timesheets
            build the plugins, seed 1,000,000 timesheets (PORTAL_BENCH_TIMESHEETS) and time
            the portal's timesheet list, report pages and dashboard in-process (release build;
            SQLite, then PostgreSQL) into BENCHMARKS.md
  bench-users
            build the plugins, time every sort, filter and page of the portal-user list with
            100,000 users (release build; SQLite, then PostgreSQL) into BENCHMARKS.md
  fuzz [SECONDS]
            run every fuzz target in fuzz/ in turn for SECONDS each (default 600) with
            cargo-fuzz on the nightly toolchain (installed if missing); fails on any crash";

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("arch") => arch::arch(args.get(1).is_some_and(|a| a == "--edges")),
        Some("demo") => demo(),
        Some("test") => test(),
        Some("lint") => lint(),
        Some("plugins") => plugins(),
        Some("bench") => bench::bench(),
        Some("bench-http") => bench::http(),
        Some("bare-server") => bench::bare_server(),
        Some("bench-plugins") => bench_plugins(),
        Some("bench-timesheets") => bench_timesheets(),
        Some("bench-users") => bench_users(),
        Some("fuzz") => fuzz::fuzz(args.get(1).map(String::as_str)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    run_in(&root(), command)
}

fn run_in(dir: &Path, command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn banner(text: &str) {
    println!("\n==== {text} ====\n");
}

/// Builds every built-in plugin and lays them out as the server loads them:
/// `dist/plugins/<id>/plugin.toml` and `dist/plugins/<id>/plugin.wasm`, with the hostile test
/// fixtures beside. Rust plugins are members of the `plugins/` workspace; a plugin in another
/// language has a `build.sh` that writes `target/plugins/<id>.wasm`.
pub(crate) fn plugins() -> anyhow::Result<()> {
    build_plugins(None)?;
    hostile_fixtures(
        &root(),
        &root().join("target/plugins/wasm32-wasip2/release"),
    )
}

/// Builds the built-in plugins, or only those named in `only`, into `dist/plugins/`.
fn build_plugins(only: Option<&BTreeSet<String>>) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    banner("building plugins (wasm32-wasip2)");
    // Inside plugins/ so its .cargo/config.toml (wasm target, target dir) applies.
    let root = root();
    let mut build = cargo();
    build.args(["build", "--release"]);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root.join("plugins"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("plugin.toml").is_file())
        .filter(|p| {
            only.is_none_or(|ids| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|id| ids.contains(id))
            })
        })
        .collect();
    if let Some(ids) = only {
        for folder in folders.iter().filter(|f| f.join("Cargo.toml").is_file()) {
            build
                .arg("--package")
                .arg(folder.file_name().unwrap_or_default());
        }
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| !folders.iter().any(|f| f.ends_with(id.as_str())))
            .collect();
        if !missing.is_empty() {
            bail!("no built-in plugin named {missing:?} in plugins/");
        }
    }
    run_in(&root.join("plugins"), &mut build)?;
    let built = root.join("target/plugins/wasm32-wasip2/release");
    let dist = root.join("dist/plugins");
    let mut installed = Vec::new();
    folders.sort();
    for folder in folders {
        let id = folder
            .file_name()
            .and_then(|n| n.to_str())
            .context("plugin folder name is not UTF-8")?
            .to_owned();
        let wasm = component_of(&root, &built, &folder, &id)?;
        let target = dist.join(&id);
        std::fs::create_dir_all(&target)?;
        std::fs::copy(folder.join("plugin.toml"), target.join("plugin.toml"))?;
        std::fs::copy(&wasm, target.join("plugin.wasm"))
            .with_context(|| format!("plugin {id}: {} was not built", wasm.display()))?;
        installed.push(id);
    }
    println!(
        "installed {} plugins into dist/plugins: {}",
        installed.len(),
        installed.join(", ")
    );
    Ok(())
}

/// The component of the plugin in `folder`: a member of the `plugins/` workspace, already
/// built into `built`, or built now by the folder's `build.sh` into `target/plugins/<id>.wasm`.
fn component_of(root: &Path, built: &Path, folder: &Path, id: &str) -> anyhow::Result<PathBuf> {
    if folder.join("Cargo.toml").is_file() {
        Ok(built.join(format!("{}.wasm", id.replace('-', "_"))))
    } else if folder.join("build.sh").is_file() {
        println!("building {id} with its build.sh");
        run(Command::new("bash").arg(folder.join("build.sh")))?;
        Ok(root.join("target/plugins").join(format!("{id}.wasm")))
    } else {
        bail!("plugin {id} has neither Cargo.toml nor build.sh");
    }
}

/// The plugins the demo agencies use (`plugins.role_set`, `notifications` and `exports` in
/// `config/agencies/*.toml`): the demo builds only those.
fn demo_plugins() -> anyhow::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("config/agencies"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let Some(plugins) = table.get("plugins").and_then(toml::Value::as_table) else {
            continue;
        };
        let named = plugins.get("role_set").into_iter().chain(
            ["notifications", "exports"]
                .iter()
                .filter_map(|key| plugins.get(*key).and_then(toml::Value::as_array))
                .flatten(),
        );
        ids.extend(named.filter_map(toml::Value::as_str).map(str::to_owned));
    }
    Ok(ids)
}

/// The sandbox tests' hostile plugins (`plugins/hostile/`), built with the others but laid
/// out under `target/plugins/hostile/<id>/`, never in `dist/plugins/`.
fn hostile_fixtures(root: &Path, built: &Path) -> anyhow::Result<()> {
    let out = root.join("target/plugins/hostile");
    for entry in std::fs::read_dir(root.join("plugins/hostile"))? {
        let folder = entry?.path();
        if !folder.join("plugin.toml").is_file() {
            continue;
        }
        let id = folder
            .file_name()
            .and_then(|n| n.to_str())
            .context("fixture folder name is not UTF-8")?
            .to_owned();
        let wasm = component_of(root, built, &folder, &id)?;
        let target = out.join(&id);
        std::fs::create_dir_all(&target)?;
        std::fs::copy(folder.join("plugin.toml"), target.join("plugin.toml"))?;
        std::fs::copy(&wasm, target.join("plugin.wasm"))
            .with_context(|| format!("fixture {id}: {} was not built", wasm.display()))?;
    }
    println!("test fixtures in {}", out.display());
    Ok(())
}

fn bench_plugins() -> anyhow::Result<()> {
    plugins()?;
    banner("plugin host benchmarks (release)");
    run(cargo().args(["bench", "--package", "portal-server", "--bench", "plugins"]))
}

fn bench_timesheets() -> anyhow::Result<()> {
    bench_on_both_databases("timesheets", "portal timesheet list and reports")
}

fn bench_users() -> anyhow::Result<()> {
    bench_on_both_databases("users", "portal-user list")
}

/// Builds the plugins and runs a database benchmark on SQLite, then PostgreSQL, each into its
/// own section of BENCHMARKS.md.
fn bench_on_both_databases(bench: &str, what: &str) -> anyhow::Result<()> {
    plugins()?;
    for database in ["sqlite", "postgres"] {
        bench_on(bench, what, database, None)?;
    }
    Ok(())
}

/// A database benchmark on one database (`PORTAL_TEST_DATABASE`'s value); over the large
/// data set at `large` when given (`PORTAL_BENCH_DATABASE_URL`), else over data it seeds.
fn bench_on(bench: &str, what: &str, database: &str, large: Option<&str>) -> anyhow::Result<()> {
    banner(&format!("{what} benchmark (release, {database})"));
    let mut command = cargo();
    command
        .args(["bench", "--package", "portal-server", "--bench", bench])
        .env("PORTAL_TEST_DATABASE", database);
    if let Some(url) = large {
        command.env("PORTAL_BENCH_DATABASE_URL", url);
    }
    run(&mut command)
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output();
    match output {
        Ok(output) if String::from_utf8_lossy(&output.stdout).contains("wasm32-wasip2") => Ok(()),
        Ok(_) => run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"])),
        // Without rustup the toolchain must already have the target; cargo will say if not.
        Err(_) => Ok(()),
    }
}

fn portal_binary(profile: &str) -> PathBuf {
    root().join("target").join(profile).join("portal")
}

fn demo() -> anyhow::Result<()> {
    build_plugins(Some(&demo_plugins()?))?;
    banner("building the portal");
    run(cargo().args(["build", "--package", "portal-server", "--bin", "portal"]))?;
    let portal = portal_binary("debug");
    run(Command::new(&portal).args(["demo", "seed"]))?;
    println!(
        "\nPortal is starting on http://127.0.0.1:8080 with embedded SQLite (data/portal.db).\n\n\
         Client portals:\n  \
           Acme Staffing (staffing):          http://127.0.0.1:8080/acme/portal/login\n  \
           BrightFix Facilities (field work): http://127.0.0.1:8080/brightfix/portal/login\n\
         Staff sign-in:\n  \
           http://127.0.0.1:8080/acme/manage/login\n  \
           http://127.0.0.1:8080/brightfix/manage/login\n\n\
         Demo logins (password for all: lantern-harbour-orbit):\n  \
           acme admin          admin@acme-staffing.example\n  \
           acme client         david@northwind.example (Customer Supervisor)\n  \
           acme partner        helen@wardpartners.example (all clients)\n  \
           brightfix admin     admin@brightfix.example\n  \
           brightfix client    laura@oakridge.example (Client admin)\n\n\
         Emails are written to data/mail/. Press Ctrl+C to stop.\n"
    );
    run(Command::new(&portal).arg("serve"))
}

fn test() -> anyhow::Result<()> {
    let started = Instant::now();
    banner("layering (cargo xtask arch)");
    arch::arch(false)?;
    lint_format()?;
    plugins()?;
    banner("plugin unit tests (native)");
    run_in(
        &root().join("plugins"),
        cargo().args(["test", "--target", host_triple()?.as_str()]),
    )?;

    banner("building the portal and its tests");
    run(cargo().args(["build", "--package", "portal-server", "--bin", "portal"]))?;
    run(cargo().args(["test", "--workspace", "--no-run"]))?;
    let portal = portal_binary("debug");

    let chromedriver = find_chromedriver()?;
    banner("test suite on SQLite");
    suite("sqlite", &portal, chromedriver.as_deref())?;

    let postgres_url =
        std::env::var("PORTAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    if postgres_reachable(&postgres_url) {
        banner("test suite on PostgreSQL");
        suite("postgres", &portal, chromedriver.as_deref())?;
    } else if ci() {
        bail!("PostgreSQL is not reachable at {postgres_url}; CI runs the suite on PostgreSQL too");
    } else {
        loud_skip(&format!(
            "PostgreSQL is not reachable at {postgres_url}: the PostgreSQL pass was SKIPPED. \
             Start PostgreSQL or set PORTAL_TEST_POSTGRES_URL."
        ));
    }
    println!("\nall test passes finished in {:.0?}", started.elapsed());
    Ok(())
}

/// Formatting and `cargo clippy -D warnings` over the three workspaces: the server's, the
/// plugins' (for wasm32-wasip2) and the fuzz crate's. Not part of `test`: a cold clippy
/// checks every dependency a second time, which would double a fresh machine's build.
fn lint() -> anyhow::Result<()> {
    lint_format()?;
    banner("clippy: the workspace, the plugins (wasm32-wasip2) and the fuzz crate");
    let deny = ["--", "-D", "warnings"];
    run(cargo()
        .args(["clippy", "--workspace", "--all-targets"])
        .args(deny))?;
    run_in(&root().join("plugins"), cargo().arg("clippy").args(deny))?;
    // The fuzz crate checks against the main target folder, sharing the server's build.
    run(cargo()
        .args([
            "clippy",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--target-dir",
            "target",
        ])
        .args(deny))?;
    Ok(())
}

/// `cargo fmt --check` over the three workspaces: the server's, the plugins' and the fuzz
/// crate's.
fn lint_format() -> anyhow::Result<()> {
    banner("formatting (cargo fmt --check)");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run_in(
        &root().join("plugins"),
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run(cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]))
}

/// Runs every test of the workspace against one database backend, the browser tests too
/// when ChromeDriver is available.
fn suite(backend: &str, portal: &Path, chromedriver: Option<&Path>) -> anyhow::Result<()> {
    let mut command = cargo();
    command
        .args(["test", "--workspace"])
        .env("PORTAL_TEST_DATABASE", backend)
        .env("PORTAL_BIN", portal);
    if let Some(driver) = chromedriver {
        command.env("PORTAL_CHROMEDRIVER", driver);
    }
    run(&mut command)
}

fn find_chromedriver() -> anyhow::Result<Option<PathBuf>> {
    let found = [
        "chromedriver",
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]
    .iter()
    .find_map(|name| which(name));
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| which(name));
    match (found, chromium) {
        (Some(driver), Some(_)) => Ok(Some(driver)),
        _ if ci() => bail!("Chromium and ChromeDriver are needed for the browser tests under CI"),
        _ => {
            loud_skip(
                "Chromium/ChromeDriver not found: the browser tests will be SKIPPED. \
                 Install them with `apt-get install chromium chromium-driver`.",
            );
            Ok(None)
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let candidate = Path::new(name);
    if candidate.is_absolute() {
        return candidate.is_file().then(|| candidate.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn postgres_reachable(url: &str) -> bool {
    let authority = url.split("://").nth(1).unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host_port = host_port.split(['/', '?']).next().unwrap_or_default();
    let address = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

fn host_triple() -> anyhow::Result<String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .current_dir(root())
        .output()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .context("cannot tell the host target from `rustc -vV`")
}

fn loud_skip(message: &str) {
    let line = "!".repeat(78);
    eprintln!("\n{line}\n!! SKIPPED: {message}\n{line}\n");
}
