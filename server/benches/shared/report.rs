//! What the database benchmarks share: an application with the `acme` agency over the large
//! data set or a scratch database, what machine ran them and how busy it was, and their
//! sections of BENCHMARKS.md.

use std::path::{Path, PathBuf};

use portal_server::config::{AgencyConfig, Secret, Settings};
use portal_server::db::Db;
use portal_server::db::testing::TestDatabase;
use portal_server::state::AppState;

/// The repository's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The database a benchmark measures: `PORTAL_BENCH_DATABASE_URL` names one `cargo xtask
/// bench` has loaded beforehand, and without it the benchmark seeds a scratch one.
pub struct BenchDatabase {
    pub url: String,
    /// Named by `PORTAL_BENCH_DATABASE_URL`.
    pub given: bool,
    /// Files of the application: documents, mail.
    data: tempfile::TempDir,
    /// Removed when the benchmark ends.
    _scratch: Option<TestDatabase>,
}

impl BenchDatabase {
    /// The database `PORTAL_BENCH_DATABASE_URL` names, else a scratch one.
    pub async fn open() -> anyhow::Result<Self> {
        match std::env::var("PORTAL_BENCH_DATABASE_URL") {
            Ok(url) => Ok(Self {
                url,
                given: true,
                data: tempfile::tempdir()?,
                _scratch: None,
            }),
            Err(_) => Self::scratch().await,
        }
    }

    /// A scratch database, removed when the benchmark ends.
    async fn scratch() -> anyhow::Result<Self> {
        let scratch = TestDatabase::create().await?;
        Ok(Self {
            url: scratch.url.clone(),
            given: false,
            data: tempfile::tempdir()?,
            _scratch: Some(scratch),
        })
    }
}

/// The application over `database`, migrated, with the `acme` agency of `config/agencies/`,
/// the themes and the built plugins of the repository.
pub async fn app_state(database: &BenchDatabase) -> anyhow::Result<AppState> {
    let mut settings = Settings::default();
    settings.database.url = Secret::new(database.url.clone());
    settings.paths.data = database.data.path().to_path_buf();
    settings.paths.themes = vec![root().join("themes")];
    settings.paths.plugins = vec![root().join("dist/plugins")];
    settings.plugins.cache_dir = Some(root().join("target/test-plugin-cache"));
    let agency: AgencyConfig = toml::from_str(&std::fs::read_to_string(
        root().join("config/agencies/acme.toml"),
    )?)?;
    settings.agencies.insert("acme".into(), agency);
    let db = Db::connect(&settings.database).await?;
    db.migrate().await?;
    AppState::with_db(settings, &root().join("config"), db).await
}

/// The database the benchmark runs on, as BENCHMARKS.md names it.
pub fn backend() -> &'static str {
    match portal_server::db::testing::backend() {
        portal_server::db::Backend::Postgres => "PostgreSQL",
        portal_server::db::Backend::Sqlite => "SQLite",
    }
}

/// `release`, or `debug` when the benchmark was built without optimisations.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Cores, CPU model and the time, for the report's first line.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(
            || "commit unknown".to_owned(),
            |out| format!("commit {}", String::from_utf8_lossy(&out.stdout).trim()),
        );
    format!("{cores} cores ({cpu}), {date}, {commit}")
}

/// The one-minute load average: above the number of cores, something else was running.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How busy the machine was around the timed runs, for the report.
pub fn load_note(before: Option<f64>, after: Option<f64>) -> String {
    match (before, after) {
        (Some(before), Some(after)) => format!(
            "one-minute load average {before:.2} before and {after:.2} after the timed runs"
        ),
        _ => "load average unknown".into(),
    }
}

/// Replaces the section between the markers `bench:{key}:start` and `bench:{key}:end` in
/// BENCHMARKS.md, or adds it at the end.
pub fn write_section(key: &str, report: &str) -> anyhow::Result<()> {
    let path = root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let start = format!("<!-- bench:{key}:start -->");
    let end = format!("<!-- bench:{key}:end -->");
    let section = format!("{start}\n{}\n{end}", report.trim_end());
    match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if b > a => text.replace_range(a..b + end.len(), &section),
        _ => {
            text = text.trim_end().to_owned();
            text.push_str("\n\n");
            text.push_str(&section);
            text.push('\n');
        }
    }
    std::fs::write(&path, text)?;
    println!("written to {}", path.display());
    Ok(())
}
