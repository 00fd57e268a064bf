//! Configuration, layered with figment: built-in defaults → `portal.toml` →
//! `agencies/*.toml` (one file per agency) → environment (`PORTAL_…`, `__` for nesting).
//!
//! Extracted once at start and validated; every error names the file (or variable) and key.

mod agency;
mod environment;
pub mod installed;
mod secret;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

pub use agency::{
    AgencyConfig, AgencyPlugins, AgencySecurity, Branding, Color, IMAGE_EXTENSIONS, slug_problem,
};
pub use secret::Secret;

/// Every setting of one Portal installation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub paths: PathsConfig,
    pub mail: MailConfig,
    pub log: LogConfig,
    pub security: SecurityConfig,
    pub plugins: PluginsConfig,
    /// Agencies keyed by their configuration file name (`agencies/<key>.toml`).
    pub agencies: BTreeMap<String, AgencyConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The address people use to reach the portal; links in emails start with it.
    pub public_url: String,
    /// Reload templates and assets on change.
    pub dev_mode: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A client must send a request's head (request line and headers) within this many
    /// seconds of connecting, or of starting the head on a kept-alive connection; else the
    /// connection is closed. Slow clients cannot hold connections open with a trickle.
    pub request_header_timeout_seconds: u64,
    /// Connections held open at once by this process. At the cap the oldest idle one is
    /// closed to make room; when every one is serving a request, newcomers get `503`.
    pub max_connections: usize,
    /// A client must send a request's whole body within this many seconds of the server
    /// starting to read it; else the request is answered 408 and the connection closed.
    pub request_body_timeout_seconds: u64,
    /// Behind a load balancer: the header carrying the client's address (e.g.
    /// `x-forwarded-for`; its first address is used). Only set it when every request passes
    /// through a proxy that sets the header, or clients could pick their own address.
    pub client_ip_header: Option<String>,
    /// Serve `/metrics` (Prometheus text format). Block it at the load balancer when the
    /// portal faces the internet, or turn it off here.
    pub metrics: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            dev_mode: false,
            max_body_bytes: 16 * 1024 * 1024,
            request_header_timeout_seconds: 10,
            max_connections: 4096,
            request_body_timeout_seconds: 60,
            client_ip_header: None,
            metrics: true,
        }
    }
}

impl ServerConfig {
    /// Cookies are marked `Secure` (and `__Host-` prefixed) when the portal is served over TLS.
    pub fn tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://data/portal.db` (embedded default) or `postgres://user@host/db`.
    pub url: Secret,
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("sqlite://data/portal.db"),
            max_connections: 16,
            acquire_timeout_seconds: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    /// Runtime data: the SQLite database, the compiled-plugin cache, mail written to files.
    pub data: PathBuf,
    /// Folders holding themes, searched in order.
    pub themes: Vec<PathBuf>,
    /// Folders holding built plugins (`<id>/plugin.toml` + `<id>/plugin.wasm`), searched in order.
    pub plugins: Vec<PathBuf>,
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            data: "data".into(),
            themes: vec!["themes".into()],
            plugins: vec!["dist/plugins".into()],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// `.eml` files under `<data>/mail/`: the embedded default, so every email can be read.
    File,
    Smtp,
    /// Kept in memory; for tests.
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// Sender used when an agency sets none.
    pub from: String,
    pub smtp: SmtpConfig,
    pub worker: MailWorkerConfig,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            from: "Portal <no-reply@localhost>".into(),
            smtp: SmtpConfig::default(),
            worker: MailWorkerConfig::default(),
        }
    }
}

/// The outbox worker that `portal serve` runs: how often it looks for due email and how it
/// retries. Every server process runs one; on PostgreSQL they share the outbox safely.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailWorkerConfig {
    /// Off for a process that should only answer HTTP (another process delivers).
    pub enabled: bool,
    /// Pause between looks at the outbox when it had nothing due.
    pub poll_seconds: u64,
    /// Most emails claimed at once.
    pub batch_size: u32,
    /// After this many failed attempts an email is marked failed for good.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles with each further failure.
    pub retry_base_seconds: u64,
    /// The longest wait between two attempts.
    pub retry_max_seconds: u64,
    /// How long a claimed email stays reserved for one worker. A worker that dies mid-send
    /// releases it when the lease runs out, so it must outlast the SMTP timeout.
    pub lease_seconds: u64,
}

impl Default for MailWorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_seconds: 5,
            batch_size: 20,
            max_attempts: 8,
            retry_base_seconds: 60,
            retry_max_seconds: 6 * 60 * 60,
            lease_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Give up on one connection or command after this long; the email is retried later.
    pub timeout_seconds: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            timeout_seconds: 30,
        }
    }
}

/// The plugin host. Per-call limits (deadline, fuel, memory) are the contract's
/// (`plugin-api/wit`) and not configurable; these size the host.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginsConfig {
    /// Plugin instances alive at once in one process: one per plugin per request in flight,
    /// plus one per running export. Sizes the pooling allocator.
    pub max_instances: u32,
    /// The largest file one export may write; past it the download fails.
    pub max_export_bytes: u64,
    /// Time one export may spend in its plugin, all its calls together (wall-clock); past it
    /// the download fails.
    pub export_seconds: u64,
    /// How often a running server checks for replaced plugin files and for
    /// `portal plugin reload`, in milliseconds; 0 turns hot reload off.
    pub reload_poll_ms: u64,
    /// Where compiled plugins are cached; `<paths.data>/plugin-cache` when unset.
    pub cache_dir: Option<PathBuf>,
    /// The most addresses the notifications of one event may reach; past them the rest are
    /// dropped and logged.
    pub max_recipients_per_event: usize,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            max_instances: 1000,
            max_export_bytes: 1 << 30,
            export_seconds: 30,
            reload_poll_ms: 1000,
            cache_dir: None,
            max_recipients_per_event: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `portal_server=debug,info`. `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// Sign-in, session and link lifetimes shared by every agency.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// A session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_hours: i64,
    pub invite_hours: i64,
    pub reset_minutes: i64,
    /// Failed sign-ins (per account and per address) before each attempt is slowed down.
    pub throttle_delay_after: i64,
    /// Failed sign-ins within the window that lock the account or address for a while.
    pub throttle_lock_after: i64,
    pub throttle_window_minutes: i64,
    pub throttle_lock_minutes: i64,
    /// Password reset and invitation emails one address may trigger per hour.
    pub emails_per_address_per_hour: i64,
    /// Where to report a vulnerability in this installation (`mailto:`, `https://` or `tel:`
    /// addresses), published at `/.well-known/security.txt`; none, and that file is absent.
    pub contact: Vec<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            invite_hours: 72,
            reset_minutes: 60,
            throttle_delay_after: 5,
            throttle_lock_after: 20,
            throttle_window_minutes: 15,
            throttle_lock_minutes: 15,
            emails_per_address_per_hour: 5,
            contact: Vec::new(),
        }
    }
}

/// Configuration that cannot be used, with one line per problem, each naming file and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    pub fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// Settings as loaded, with the figment kept to say where each value came from.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    /// The configuration folder, which branding images are relative to.
    pub dir: PathBuf,
    figment: Figment,
}

impl Loaded {
    /// Where a key's value came from, as a person would look for it: a file path or a variable.
    pub fn source_of(&self, key: &str) -> String {
        self.figment
            .find_metadata(key)
            .map(|metadata| describe_source(metadata, &key.split('.').collect::<Vec<_>>()))
            .unwrap_or_else(|| "built-in default".to_owned())
    }

    /// Every setting as `key = value  # source`, in key order, secrets masked; a setting
    /// without a value reads `# key is not set`.
    pub fn settings_in_force(&self) -> Result<Vec<String>, serde_json::Error> {
        let mut lines = Vec::new();
        let value = serde_json::to_value(&self.settings)?;
        self.describe_settings("", &value, &mut lines);
        Ok(lines)
    }

    fn describe_settings(&self, key: &str, value: &serde_json::Value, lines: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) if !fields.is_empty() => {
                for (name, field) in fields {
                    let key = if key.is_empty() {
                        name.clone()
                    } else {
                        format!("{key}.{name}")
                    };
                    self.describe_settings(&key, field, lines);
                }
            }
            serde_json::Value::Null => lines.push(format!("# {key} is not set")),
            value => lines.push(format!("{key} = {value}  # {}", self.source_of(key))),
        }
    }
}

/// Reads the configuration folder: `portal.toml` and `agencies/*.toml`, then the process's
/// environment.
pub fn load(dir: &Path) -> Result<Loaded, ConfigError> {
    load_with_environment(dir, std::env::vars_os())
}

/// As [`load`], with the environment given.
pub fn load_with_environment(
    dir: &Path,
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Loaded, ConfigError> {
    if !dir.is_dir() {
        return Err(ConfigError::one(format!(
            "{}: the configuration folder does not exist (set it with --config DIR)",
            dir.display()
        )));
    }
    let mut figment = Figment::new();
    let main_file = dir.join("portal.toml");
    if main_file.is_file() {
        figment = figment.merge(Toml::file_exact(main_file));
    }
    for file in agency_files(dir)? {
        figment = figment.merge(file);
    }
    let environment = environment::Environment::read(vars);
    if !environment.problems.is_empty() {
        return Err(ConfigError {
            problems: environment.problems,
        });
    }
    figment = figment.merge(environment);
    // Values from the environment are text; "lossy" reads `8080` as a number and `true` as
    // a flag where the key wants one.
    let settings: Settings = figment.extract_lossy().map_err(|err| ConfigError {
        problems: err.into_iter().map(describe_figment_error).collect(),
    })?;
    let loaded = Loaded {
        settings,
        dir: dir.to_owned(),
        figment,
    };
    let mut problems = server_problems(&loaded);
    problems.extend(database_problems(&loaded));
    problems.extend(mail_problems(&loaded));
    problems.extend(contact_problems(&loaded));
    if let Err(err) = agency::validate(&loaded) {
        problems.extend(err.problems);
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(ConfigError { problems })
    }
}

/// Time limits and a connection cap of zero would refuse every request (or export).
fn server_problems(loaded: &Loaded) -> Vec<String> {
    let server = &loaded.settings.server;
    [
        (
            "server.request_header_timeout_seconds",
            server.request_header_timeout_seconds,
        ),
        (
            "server.request_body_timeout_seconds",
            server.request_body_timeout_seconds,
        ),
        (
            "server.max_connections",
            u64::try_from(server.max_connections).unwrap_or(u64::MAX),
        ),
        (
            "plugins.export_seconds",
            loaded.settings.plugins.export_seconds,
        ),
    ]
    .into_iter()
    .filter(|(_, seconds)| *seconds == 0)
    .map(|(key, _)| format!("{}: key `{key}`: must be at least 1", loaded.source_of(key)))
    .collect()
}

/// A database the server cannot speak to is found before anything tries to connect.
fn database_problems(loaded: &Loaded) -> Option<String> {
    crate::db::backend::Backend::from_url(loaded.settings.database.url.expose())
        .err()
        .map(|err| {
            format!(
                "{}: key `database.url`: {err}",
                loaded.source_of("database.url")
            )
        })
}

/// A sender that is not an address, or worker timings that would deliver an email twice,
/// are found at start rather than at the first delivery.
/// `security.txt` promises these are addresses a reporter can use.
fn contact_problems(loaded: &Loaded) -> Vec<String> {
    loaded
        .settings
        .security
        .contact
        .iter()
        .filter(|contact| {
            let scheme_ok = ["mailto:", "https://", "tel:"]
                .iter()
                .any(|scheme| contact.starts_with(scheme) && contact.len() > scheme.len());
            !scheme_ok || contact.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        .map(|contact| {
            format!(
                "{}: key `security.contact`: {contact:?} is not a mailto:, https:// or tel: \
                 address",
                loaded.source_of("security.contact")
            )
        })
        .collect()
}

fn mail_problems(loaded: &Loaded) -> Vec<String> {
    let mail = &loaded.settings.mail;
    let at = |key: &str| format!("{}: key `{key}`", loaded.source_of(key));
    let mut problems = Vec::new();
    if let Err(problem) = crate::email::parse_sender(&mail.from) {
        problems.push(format!("{}: {problem}", at("mail.from")));
    }
    let worker = &mail.worker;
    if worker.poll_seconds == 0 {
        problems.push(format!(
            "{}: must be at least 1",
            at("mail.worker.poll_seconds")
        ));
    }
    if worker.batch_size == 0 {
        problems.push(format!(
            "{}: must be at least 1",
            at("mail.worker.batch_size")
        ));
    }
    if worker.max_attempts == 0 {
        problems.push(format!(
            "{}: must be at least 1",
            at("mail.worker.max_attempts")
        ));
    }
    if worker.retry_base_seconds == 0 || worker.retry_max_seconds < worker.retry_base_seconds {
        problems.push(format!(
            "{}: must be at least 1 and no more than `mail.worker.retry_max_seconds`",
            at("mail.worker.retry_base_seconds")
        ));
    }
    if worker.lease_seconds <= mail.smtp.timeout_seconds.saturating_mul(2) {
        problems.push(format!(
            "{}: must be more than twice `mail.smtp.timeout_seconds` ({}), or a slow \
             delivery could be claimed and sent again by another worker",
            at("mail.worker.lease_seconds"),
            mail.smtp.timeout_seconds
        ));
    }
    problems
}

fn agency_files(dir: &Path) -> Result<Vec<AgencyFile>, ConfigError> {
    let folder = dir.join("agencies");
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(ConfigError::one(format!(
                "{}: cannot read the folder: {err}",
                folder.display()
            )));
        }
    };
    let mut files: Vec<AgencyFile> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .filter_map(|path| {
            let key = path.file_stem()?.to_str()?.to_owned();
            Some(AgencyFile { path, key })
        })
        .collect();
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

/// One `agencies/<key>.toml` file, placed under `agencies.<key>` so the file name is the
/// agency's stable configuration key.
struct AgencyFile {
    path: PathBuf,
    key: String,
}

impl Provider for AgencyFile {
    fn metadata(&self) -> Metadata {
        Metadata::named("agency file").source(figment::Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| e.to_string())?;
        let table: Dict = toml::from_str(&text).map_err(|e| e.to_string())?;
        let agency = Dict::from([(self.key.clone(), Value::from(table))]);
        let root = Dict::from([("agencies".to_owned(), Value::from(agency))]);
        Ok(Map::from([(Profile::Default, root)]))
    }
}

/// A file's path, or for the environment the variable that set `keys`.
fn describe_source(metadata: &Metadata, keys: &[&str]) -> String {
    if metadata.name == environment::PROVIDER_NAME {
        return metadata.interpolate(&Profile::Default, keys);
    }
    match &metadata.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        Some(other) => other.to_string(),
        None => metadata.name.to_string(),
    }
}

/// `config/agencies/acme.toml: key `branding.primary_color`: invalid type: …`
fn describe_figment_error(err: figment::Error) -> String {
    let keys: Vec<&str> = err.path.iter().map(String::as_str).collect();
    let source = err
        .metadata
        .as_ref()
        .map(|metadata| describe_source(metadata, &keys))
        .unwrap_or_else(|| "configuration".to_owned());
    let in_agency_file = err
        .metadata
        .as_ref()
        .is_some_and(|m| m.name == "agency file");
    // Inside an agency file, keys are named as they are written there.
    let path = if in_agency_file && err.path.first().is_some_and(|p| p == "agencies") {
        err.path.iter().skip(2).cloned().collect::<Vec<_>>()
    } else {
        err.path.clone()
    };
    let message = err.kind.to_string();
    if path.is_empty() {
        format!("{source}: {message}")
    } else {
        format!("{source}: key `{}`: {message}", path.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
        Ok(())
    }

    #[test]
    fn defaults_apply_when_no_file_exists() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let loaded = load(dir.path())?;
        assert_eq!(loaded.settings.server.listen.port(), 8080);
        assert_eq!(
            loaded.settings.database.url.expose(),
            "sqlite://data/portal.db"
        );
        assert!(loaded.settings.agencies.is_empty());
        Ok(())
    }

    #[test]
    fn type_errors_name_file_and_key() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        write(dir.path(), "portal.toml", "[server]\nlisten = 8080\n")?;
        let err = load(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("portal.toml: key `server.listen`"), "{err}");
        Ok(())
    }

    #[test]
    fn unknown_keys_are_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        write(dir.path(), "portal.toml", "[server]\nlisten_on = \"x\"\n")?;
        let err = load(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown field: found `listen_on`"), "{err}");
        Ok(())
    }

    #[test]
    fn database_url_is_redacted_in_debug_output() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            "portal.toml",
            "[database]\nurl = \"postgres://portal:hunter2@db/portal\"\n",
        )?;
        let loaded = load(dir.path())?;
        let debug = format!("{:?}", loaded.settings);
        assert!(!debug.contains("hunter2"), "{debug}");
        assert_eq!(
            loaded.settings.database.url.expose(),
            "postgres://portal:hunter2@db/portal"
        );
        Ok(())
    }
}
