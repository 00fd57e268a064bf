//! A PostgreSQL cluster of a test's own, in a temporary folder on a free port, that the test
//! may stop and start at will without disturbing the shared server other tests use.

use std::path::PathBuf;
use std::process::{Command, Output};

use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::{ci, free_port, loud_skip};

/// A running cluster; stopped and removed when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    /// The server programs (`initdb`, `pg_ctl`).
    bin: PathBuf,
    /// Holds the data folder, the socket and the log.
    dir: tempfile::TempDir,
    port: u16,
    /// PostgreSQL refuses to run as root: as root, the programs run as the `postgres` user.
    as_postgres: bool,
}

impl PrivatePostgres {
    /// Creates and starts a cluster with a database `name` owned by `postgres` (trust
    /// authentication on 127.0.0.1), or `None` with a loud warning when the server programs
    /// are not installed. Under `CI=true` their absence fails the test instead.
    pub async fn start(name: &str) -> Option<Self> {
        let Some(bin) = server_programs() else {
            let message = "PostgreSQL's server programs (/usr/lib/postgresql/*/bin/initdb, \
                           pg_ctl) are missing, so the database-restart test cannot run its own \
                           cluster. Install the `postgresql` package.";
            assert!(!ci(), "{message}");
            loud_skip(message);
            return None;
        };
        let as_postgres = running_as_root();
        let dir = tempfile::tempdir().expect("temporary folder");
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path()));
        }
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        cluster.program(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start_again();
        let admin = cluster.url("postgres");
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .expect("connect to the private cluster");
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the database");
        conn.close().await.expect("close");
        Some(cluster)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Shuts the server down (fast: open sessions are ended) and waits until it is gone.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.pg_ctl(&["start", "-o", &options, "-l", &log.to_string_lossy()]);
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut all = vec!["-D", &self.data(), "-w", "-t", "60"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        self.program("pg_ctl", &refs);
    }

    /// Runs one of the server programs to success.
    fn program(&self, name: &str, args: &[&str]) -> Output {
        run(self.command(name).args(args))
    }

    /// A server program, run as `postgres` when this process is root.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(self.dir.path());
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Whatever state the test left it in; the folder goes with `dir`.
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "stop", "-m", "immediate"])
            .output();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`.
fn server_programs() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
