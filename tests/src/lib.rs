//! Black-box tests of the whole system: the real `portal` binary, real HTTP, a real browser.
//! This library holds what the tests share: finding the binary, writing a configuration
//! folder, starting and stopping server processes.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use portal_server::db::Backend;
pub use portal_server::db::testing::{TestDatabase, backend};
use sqlx::{Connection, Executor};

mod private_postgres;

pub use private_postgres::PrivatePostgres;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `portal` binary: `PORTAL_BIN` (set by `cargo xtask test`), else the debug build.
pub fn portal_bin() -> PathBuf {
    let path = std::env::var_os("PORTAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/portal"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask test` (or `cargo build -p portal-server`) first",
        path.display()
    );
    path
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A configuration folder copied from the repository's `config/`, pointed at a scratch
/// database, the repository's themes and built plugins, and its own data folder.
#[derive(Debug)]
pub struct Installation {
    pub database: TestDatabase,
    pub config: PathBuf,
}

impl Installation {
    pub async fn new() -> Self {
        let database = TestDatabase::create().await.expect("scratch database");
        let config = database.dir().join("config");
        copy_dir(&repo_root().join("config"), &config);
        let installation = Self { database, config };
        installation.write_main_config();
        installation
    }

    /// A new installation with the demo data loaded (`portal demo seed`).
    pub async fn with_demo_data() -> Self {
        let installation = Self::new().await;
        let seeded = installation.portal(&["demo", "seed"]);
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        installation
    }

    /// Writes `portal.toml`: port 0 (the kernel picks a free one), scratch paths.
    fn write_main_config(&self) {
        let root = repo_root();
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n\
             [database]\nurl = \"{}\"\nmax_connections = 4\n\n\
             [paths]\ndata = \"{}\"\nthemes = [\"{}\"]\nplugins = [\"{}\"]\n\n\
             [mail]\ntransport = \"file\"\n\n[log]\nlevel = \"warn\"\n",
            self.database.url,
            self.database.dir().join("data").display(),
            root.join("themes").display(),
            root.join("dist/plugins").display(),
        );
        std::fs::write(self.config.join("portal.toml"), text).expect("write portal.toml");
    }

    /// Replaces the `[mail]` section of `portal.toml` (the file transport) with `section`.
    pub fn set_mail(&self, section: &str) {
        self.edit_main_config("[mail]\ntransport = \"file\"\n", section);
    }

    /// Replaces `from` in `portal.toml` with `to`; `from` must be there.
    pub fn edit_main_config(&self, from: &str, to: &str) {
        let path = self.config.join("portal.toml");
        let text = std::fs::read_to_string(&path).expect("read portal.toml");
        assert!(text.contains(from), "{from} not in portal.toml:\n{text}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write portal.toml");
    }

    /// The configuration as `portal` would load it.
    pub fn settings(&self) -> portal_server::config::Settings {
        portal_server::config::load(&self.config)
            .expect("valid configuration")
            .settings
    }

    pub fn agency_file(&self, key: &str) -> PathBuf {
        self.config.join("agencies").join(format!("{key}.toml"))
    }

    /// `portal --config <this> ARGS…`, ready to run.
    pub fn portal_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(portal_bin());
        command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("RUST_LOG");
        command
    }

    /// Runs `portal --config <this> ARGS…` to completion.
    pub fn portal(&self, args: &[&str]) -> Output {
        self.portal_command(args).output().expect("run portal")
    }

    /// A new API token of `agency` (`portal api-token create`).
    pub fn api_token(&self, agency: &str) -> String {
        let created = self.portal(&["api-token", "create", "--agency", agency, "--name", "Feed"]);
        let stdout = String::from_utf8_lossy(&created.stdout);
        stdout
            .split_whitespace()
            .find(|word| word.starts_with("portal_"))
            .unwrap_or_else(|| panic!("no token printed: {stdout}"))
            .to_owned()
    }

    /// A connection pool on the installation's database, for checking what is stored.
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.database.url)
            .await
            .expect("connect to the test database")
    }

    /// Starts `portal serve` on a port the kernel picks (so no two tests can collide), learns
    /// the address from its first line of output, and waits until `/readyz` answers 200.
    pub async fn serve(&self) -> Server {
        Self::start(self.portal_command(&["serve"])).await
    }

    /// Starts `command` (a `portal … serve`), learns the address it listens on from its first
    /// line of output, and waits until `/readyz` answers 200.
    pub async fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start portal serve");
        let stdout = child.stdout.take().expect("stdout");
        let base = tokio::task::spawn_blocking(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| line.strip_prefix("listening on ").map(str::to_owned))
        })
        .await
        .expect("read stdout");
        let server = Server {
            child,
            base: base.expect("portal serve printed no address"),
        };
        server.wait_ready().await;
        server
    }
}

/// A running `portal serve`; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not become ready within 60 s", self.base);
    }

    /// The server's process id, for reading its memory use.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends the process at once with SIGKILL, as a crash or power cut would: no request in
    /// flight finishes, no transaction commits.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit status once the server has finished.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for portal")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until a connection to `database` holds an open transaction that has written — the
/// moment to kill a process in the middle of a change — and panics after `timeout`. It must
/// be seen on three looks in a row, so a one-statement write (a session's "last seen") does
/// not count.
///
/// PostgreSQL: a backend of that database with a transaction id. SQLite: another connection
/// holds the write lock (`BEGIN IMMEDIATE` fails at once).
pub async fn wait_for_open_write(database: &TestDatabase, timeout: Duration) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&database.url)
        .await
        .expect("connect to the test database");
    if backend() == Backend::Sqlite {
        conn.execute("PRAGMA busy_timeout = 0")
            .await
            .expect("busy timeout");
    }
    let deadline = Instant::now() + timeout;
    let mut seen = 0;
    while seen < 3 {
        assert!(
            Instant::now() < deadline,
            "no write transaction opened within {timeout:?}"
        );
        seen = if write_in_progress(&mut conn).await {
            seen + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn write_in_progress(conn: &mut sqlx::AnyConnection) -> bool {
    match backend() {
        Backend::Postgres => {
            let writing: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
            )
            .fetch_one(&mut *conn)
            .await
            .expect("pg_stat_activity");
            writing > 0
        }
        Backend::Sqlite => match conn.execute("BEGIN IMMEDIATE").await {
            Ok(_) => {
                conn.execute("ROLLBACK").await.expect("rollback");
                false
            }
            Err(_) => true,
        },
    }
}

/// A browser-like HTTP client: keeps cookies (per host, so one client's cookies reach every
/// server on 127.0.0.1, as a load balancer's single origin would) and shows redirects as they
/// are.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A hang fails the test instead of stalling it.
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The value of the first `csrf_token` field in a page (empty when there is none).
pub fn csrf_token(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// Opens `page`, takes its form token and posts `fields` with it to `action`. An error means
/// the server could not be reached, or went away while answering.
pub async fn post_form(
    client: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Result<reqwest::Response> {
    let html = client.get(page).send().await?.text().await?;
    let token = csrf_token(&html);
    let mut form = fields.to_vec();
    form.push(("csrf_token", &token));
    client.post(action).form(&form).send().await
}

/// Signs `client` in on the sign-in page at `login` (a full URL).
pub async fn sign_in(
    client: &reqwest::Client,
    login: &str,
    email: &str,
    password: &str,
) -> reqwest::Result<reqwest::Response> {
    post_form(
        client,
        login,
        login,
        &[("email", email), ("password", password)],
    )
    .await
}

/// Whether `CI=true`: what is skipped elsewhere with a warning must fail there.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A warning nobody can miss in the test output.
pub fn loud_skip(message: &str) {
    let line = "!".repeat(78);
    eprintln!("\n{line}\n!! SKIPPED: {message}\n{line}\n");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}
