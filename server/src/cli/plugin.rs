//! `portal plugin …`: write, build, check and try plugins; see what an installation loaded;
//! ask running servers to reload.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};

use crate::config::Loaded;
use crate::plugins::{self, Plugins, manifest, probe};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin crate (Rust, portal-plugin-api) with its plugin.toml.
    New {
        /// The plugin id and folder name: lowercase letters, digits and hyphens.
        name: String,
        /// Which part the plugin plays.
        #[arg(long, value_enum)]
        world: WorldArg,
        /// The portal-plugin-api crate to depend on (a path).
        #[arg(long, default_value = "plugin-api")]
        api: PathBuf,
    },
    /// Build a plugin crate for wasm32-wasip2 and lay it out as <out>/<id>/plugin.toml +
    /// plugin.wasm, then check it.
    Build {
        /// The plugin crate (holding Cargo.toml and plugin.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to put <id>/ (default: <dir>/dist).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a built plugin: API version, worlds, capabilities, imports, exports, size, and
    /// its static answers.
    Check {
        /// A plugin folder (plugin.toml + plugin.wasm) or its plugin.wasm.
        path: PathBuf,
    },
    /// Run one hook of a built plugin outside the server and report the answer, the time,
    /// the fuel and the peak memory against the limits.
    Test {
        /// A plugin folder (plugin.toml + plugin.wasm) or its plugin.wasm.
        path: PathBuf,
        /// The case, a JSON file: {"hook": "authorize" | "on-event" | "export", …}; see
        /// plugin-api/README.md.
        #[arg(long)]
        input: PathBuf,
    },
    /// Run again, here, a hook call that failed in the server: the input it was kept with,
    /// against the plugin build the agency uses (or --build), reporting the outcome, time,
    /// fuel and peak memory like `plugin test`. Admins find the failures on the manage
    /// area's Plugins page.
    Replay {
        /// The agency's slug.
        #[arg(long)]
        agency: String,
        /// The plugin id.
        #[arg(long)]
        plugin: String,
        /// The failure's number (the Plugins page shows it); without it, the newest.
        #[arg(long, conflicts_with = "last")]
        id: Option<i64>,
        /// The newest failure of the plugin (the default).
        #[arg(long)]
        last: bool,
        /// Another build to run instead of the installed one: a plugin folder or its
        /// plugin.wasm.
        #[arg(long)]
        build: Option<PathBuf>,
    },
    /// List each agency's plugins with versions, and call/error counts: those of a running
    /// server with --server, else of this process (which makes no calls: zero).
    List {
        /// A running server's address, e.g. http://127.0.0.1:8080; counts come from its
        /// /readyz.
        #[arg(long)]
        server: Option<String>,
    },
    /// Check that every agency's plugins load, then ask every server on this database to
    /// reload its plugins (they poll every plugins.reload_poll_ms).
    Reload,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WorldArg {
    RoleSet,
    NotificationRules,
    ExportFormat,
}

impl PluginCommand {
    /// The commands of a plugin author, which need no server configuration.
    pub fn is_authoring(&self) -> bool {
        matches!(
            self,
            Self::New { .. } | Self::Build { .. } | Self::Check { .. } | Self::Test { .. }
        )
    }
}

/// A plugin author's command, with the server's configuration only when one was given.
pub async fn author(
    command: super::Command,
    settings: Option<&crate::config::Settings>,
) -> anyhow::Result<()> {
    let options = probe::ProbeOptions::from_settings(settings);
    let super::Command::Plugin(command) = command else {
        anyhow::bail!("not a plugin command");
    };
    match command {
        PluginCommand::New { name, world, api } => new(&name, world, &api),
        PluginCommand::Build { dir, out } => {
            off_runtime(move || build(&dir, out.as_deref(), &options)).await
        }
        PluginCommand::Check { path } => off_runtime(move || check(&path, &options)).await,
        PluginCommand::Test { path, input } => {
            off_runtime(move || test(&path, &input, &options)).await
        }
        PluginCommand::List { .. } | PluginCommand::Reload | PluginCommand::Replay { .. } => {
            anyhow::bail!(
                "`plugin list`, `plugin reload` and `plugin replay` need the server's \
                 configuration"
            )
        }
    }
}

/// The operator's plugin commands, on the server's configuration.
pub async fn run(command: PluginCommand, loaded: &Loaded, config_dir: &Path) -> anyhow::Result<()> {
    match command {
        PluginCommand::List { server } => list(loaded, server.as_deref()).await,
        PluginCommand::Reload => reload(loaded, config_dir).await,
        PluginCommand::Replay {
            agency,
            plugin,
            id,
            last: _,
            build,
        } => replay(loaded, &agency, &plugin, id, build).await,
        authoring => author(super::Command::Plugin(authoring), Some(&loaded.settings)).await,
    }
}

/// Runs `f`, which calls into a plugin, on a blocking thread: WASI's synchronous host
/// functions cannot run on the runtime's own threads.
async fn off_runtime(
    f: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(f).await?
}

fn new(name: &str, world: WorldArg, api: &Path) -> anyhow::Result<()> {
    if let Some(problem) = crate::config::slug_problem(name) {
        bail!("NAME: {problem}");
    }
    let dir = PathBuf::from(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let api = std::fs::canonicalize(api).with_context(|| {
        format!(
            "--api {}: the portal-plugin-api crate is not there (pass its path)",
            api.display()
        )
    })?;
    let (world_name, source) = match world {
        WorldArg::RoleSet => ("role-set", ROLE_SET_TEMPLATE),
        WorldArg::NotificationRules => ("notification-rules", NOTIFICATIONS_TEMPLATE),
        WorldArg::ExportFormat => ("export-format", EXPORT_TEMPLATE),
    };
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nportal-plugin-api = {{ path = {api:?} }}\n\n\
             # A plugin is its own workspace, wherever it sits.\n[workspace]\n\n\
             [profile.release]\nopt-level = \"s\"\nlto = true\ncodegen-units = 1\n\
             strip = true\npanic = \"abort\"\n"
        ),
    )?;
    std::fs::write(
        dir.join(manifest::FILE_NAME),
        format!(
            "id = \"{name}\"\nname = \"{name}\"\nversion = \"0.1.0\"\napi = \"{}\"\n\
             description = \"\"\nworlds = [\"{world_name}\"]\ncapabilities = []\n",
            manifest::SUPPORTED_API_VERSIONS[0]
        ),
    )?;
    std::fs::write(dir.join("src/lib.rs"), source)?;
    std::fs::write(dir.join(".gitignore"), "/target\n/dist\n")?;
    println!("created {name}/ ({world_name}); build it with `portal plugin build {name}`");
    Ok(())
}

const ROLE_SET_TEMPLATE: &str = r#"//! A role set: the roles an agency offers its portal users.

use portal_plugin_api::PluginError;
use portal_plugin_api::roles::{Permission, Role, RoleSet};

struct Roles;

impl RoleSet for Roles {
    fn roles() -> Result<Vec<Role>, PluginError> {
        Ok(vec![Role::new(
            "requester",
            "Requester",
            "Files work requests and follows them.",
            &[Permission::CreateWorkRequests, Permission::ViewWorkRequests],
        )])
    }
}

portal_plugin_api::export_role_set!(Roles);
"#;

const NOTIFICATIONS_TEMPLATE: &str = r#"//! Notification rules: who hears about what.

use portal_plugin_api::PluginError;
use portal_plugin_api::notifications::{Event, Notification, NotificationRules, Recipient};

struct Rules;

impl NotificationRules for Rules {
    fn on_event(event: Event) -> Result<Vec<Notification>, PluginError> {
        Ok(match event.kind.as_str() {
            "work-request-created" => vec![
                Notification::new(
                    "work-request-created",
                    vec![Recipient::StaffRole("admin".into())],
                )
                .fields_from(&event, &["work-request-id", "title", "manage-url"]),
            ],
            _ => Vec::new(),
        })
    }
}

portal_plugin_api::export_notification_rules!(Rules);
"#;

const EXPORT_TEMPLATE: &str = r#"//! An export format: tab-separated values.

use portal_plugin_api::PluginError;
use portal_plugin_api::formats::{Column, ExportFormat, Format, Rows, TableWriter};

struct Tsv;

impl ExportFormat for Tsv {
    type Writer = TsvWriter;

    fn formats() -> Result<Vec<Format>, PluginError> {
        Ok(vec![Format::new("tsv", "TSV", "text/tab-separated-values", "tsv")])
    }

    fn open(_format: &str, _title: &str, columns: Vec<Column>) -> Result<TsvWriter, PluginError> {
        let header: Vec<String> = columns.iter().map(|c| c.label.replace('\t', " ")).collect();
        Ok(TsvWriter { pending: format!("{}\n", header.join("\t")).into_bytes() })
    }
}

struct TsvWriter {
    pending: Vec<u8>,
}

impl TableWriter for TsvWriter {
    fn write_rows(&mut self, rows: Rows<'_>) -> Result<Vec<u8>, PluginError> {
        let mut out = std::mem::take(&mut self.pending);
        for row in rows.iter() {
            for (i, cell) in row.cells().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                out.extend_from_slice(cell.unwrap_or("").replace(['\t', '\n'], " ").as_bytes());
            }
            out.push(b'\n');
        }
        Ok(out)
    }

    fn finish(self) -> Result<Vec<u8>, PluginError> {
        Ok(self.pending)
    }
}

portal_plugin_api::export_export_format!(Tsv);
"#;

fn build(dir: &Path, out: Option<&Path>, options: &probe::ProbeOptions) -> anyhow::Result<()> {
    let manifest = manifest::Manifest::read(&dir.join(manifest::FILE_NAME))?;
    let cargo_toml = dir.join("Cargo.toml");
    let cargo: toml::Table = std::fs::read_to_string(&cargo_toml)
        .with_context(|| format!("cannot read {}", cargo_toml.display()))?
        .parse()
        .with_context(|| format!("{} is not valid TOML", cargo_toml.display()))?;
    let crate_name = cargo
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .with_context(|| format!("{} has no package.name", cargo_toml.display()))?
        .replace('-', "_");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(dir)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    let wasm = target_dir.join(format!("wasm32-wasip2/release/{crate_name}.wasm"));
    let dest = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("dist"))
        .join(&manifest.id);
    std::fs::create_dir_all(&dest)?;
    std::fs::copy(
        dir.join(manifest::FILE_NAME),
        dest.join(manifest::FILE_NAME),
    )?;
    std::fs::copy(&wasm, dest.join(plugins::WASM_FILE))
        .with_context(|| format!("{} was not built", wasm.display()))?;
    println!("built {}", dest.display());
    check(&dest, options)
}

fn check(path: &Path, options: &probe::ProbeOptions) -> anyhow::Result<()> {
    let folder = probe::folder_of(path)?;
    let (_, plugin) = probe::load(&folder, options)?;
    let m = &plugin.manifest;
    println!("plugin       {} {} ({})", m.id, m.version, m.name);
    println!(
        "api          {} (this server accepts {})",
        m.api,
        manifest::SUPPORTED_API_VERSIONS.join(", ")
    );
    let worlds: Vec<String> = m.worlds.iter().map(ToString::to_string).collect();
    println!("worlds       {}", worlds.join(", "));
    let capabilities: Vec<&str> = m.capabilities.iter().map(|c| c.as_str()).collect();
    println!(
        "capabilities {}",
        if capabilities.is_empty() {
            "none".to_owned()
        } else {
            capabilities.join(", ")
        }
    );
    println!("exports      {}", plugin.exports.join(", "));
    println!("imports      {}", plugin.imports.join("\n             "));
    println!(
        "size         {} bytes, compiled in {:.0} ms",
        plugin.size,
        plugin.load_time.as_secs_f64() * 1000.0
    );
    for role in &plugin.roles {
        let dynamic: Vec<&str> = role
            .dynamic_permissions
            .iter()
            .map(|p| p.as_str())
            .collect();
        println!(
            "role         {} ({}){}",
            role.id,
            role.name,
            if dynamic.is_empty() {
                String::new()
            } else {
                format!(", dynamic: {}", dynamic.join(", "))
            }
        );
    }
    for format in &plugin.formats {
        println!(
            "format       {} ({}, {}, .{})",
            format.id, format.label, format.mime_type, format.extension
        );
    }
    println!("ok");
    Ok(())
}

fn test(path: &Path, input: &Path, options: &probe::ProbeOptions) -> anyhow::Result<()> {
    let folder = probe::folder_of(path)?;
    let text = std::fs::read_to_string(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let case: probe::Case = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid case", input.display()))?;
    run_case(&folder, case, options)
}

/// `plugin replay`: the kept failure, then the same call run again.
async fn replay(
    loaded: &Loaded,
    agency: &str,
    plugin: &str,
    id: Option<i64>,
    build: Option<PathBuf>,
) -> anyhow::Result<()> {
    let settings = &loaded.settings;
    let db = crate::db::Db::connect(&settings.database).await?;
    db.migrate().await?;
    let agency_id = crate::db::agencies::id_of(&db.pool, agency)
        .await?
        .with_context(|| format!("no agency \"{agency}\" in this installation's database"))?;
    let failure = crate::db::plugin_failures::one(&db.pool, agency_id, plugin, id)
        .await?
        .with_context(|| match id {
            Some(id) => format!("no failure {id} of plugin \"{plugin}\" at {agency}"),
            None => format!("no failure of plugin \"{plugin}\" at {agency} is kept"),
        })?;
    println!(
        "failure  {} at {}: plugin {} {}, hook {}: {}",
        failure.id,
        failure.at,
        failure.plugin_id,
        failure.plugin_version,
        failure.hook,
        plugins::printable(&failure.cause, 2_000)
    );
    let input = failure
        .input
        .context("its input was too large to keep, so it cannot be run again")?;
    let case: probe::Case =
        serde_json::from_str(&input).context("the kept input is not a case this version reads")?;
    let folder = match build {
        Some(path) => probe::folder_of(&path)?,
        None => installed(settings, plugin)?,
    };
    let options = probe::ProbeOptions::from_settings(Some(settings));
    off_runtime(move || run_case(&folder, case, &options)).await
}

/// The folder of an installed plugin: the first of `paths.plugins` that holds it.
fn installed(settings: &crate::config::Settings, plugin: &str) -> anyhow::Result<PathBuf> {
    settings
        .paths
        .plugins
        .iter()
        .map(|dir| dir.join(plugin))
        .find(|folder| folder.join(manifest::FILE_NAME).is_file())
        .with_context(|| {
            format!("plugin \"{plugin}\" is not in paths.plugins; pass --build with its folder")
        })
}

/// Runs one case and prints what it did against the limits; an error when the hook failed.
fn run_case(folder: &Path, case: probe::Case, options: &probe::ProbeOptions) -> anyhow::Result<()> {
    let (engine, plugin) = probe::load(folder, options)?;
    println!(
        "plugin   {} {} ({})",
        plugin.manifest.id,
        plugin.manifest.version,
        folder.display()
    );
    let report = probe::run(&engine, plugin, case)?;
    match &report.outcome {
        Ok(answer) => println!("result   ok\n{answer}"),
        Err(failure) => println!("result   FAILED: {failure}"),
    }
    let limits = report.limits;
    println!(
        "time     {:.3} ms (deadline {} ms)",
        report.time.as_secs_f64() * 1000.0,
        limits.deadline.as_millis()
    );
    println!("fuel     {} (limit {})", report.fuel, limits.fuel);
    println!(
        "memory   {:.1} MiB peak (limit {} MiB)",
        report.peak_memory as f64 / 1048576.0,
        limits.memory >> 20
    );
    if report.outcome.is_err() {
        bail!("the {} hook failed", report.hook);
    }
    Ok(())
}

async fn list(loaded: &Loaded, server: Option<&str>) -> anyhow::Result<()> {
    let settings = loaded.settings.clone();
    let plugins = tokio::task::spawn_blocking(move || Plugins::load(&settings)).await??;
    let counts = match server {
        Some(url) => Some(server_counts(url).await?),
        None => None,
    };
    println!(
        "{:<16} {:<22} {:<10} {:<20} {:>8} {:>8}",
        "AGENCY", "PLUGIN", "VERSION", "ROLE", "CALLS", "ERRORS"
    );
    for agency in loaded.settings.agencies.values() {
        let Some(set) = plugins.agency(&agency.slug) else {
            continue;
        };
        let parts = std::iter::once((&set.role_set, "role-set"))
            .chain(set.notifications.iter().map(|b| (b, "notification-rules")))
            .chain(set.exports.iter().map(|b| (b, "export-format")));
        for (bound, part) in parts {
            let plugin = &bound.plugin;
            let (calls, errors) = match &counts {
                Some(counts) => counts
                    .iter()
                    .find(|(id, _, _)| id == plugin.id())
                    .map(|(_, c, e)| (*c, *e))
                    .unwrap_or_default(),
                None => plugin.counters.read(),
            };
            println!(
                "{:<16} {:<22} {:<10} {:<20} {:>8} {:>8}",
                agency.slug,
                plugin.id(),
                plugin.version(),
                part,
                calls,
                errors
            );
        }
    }
    if server.is_none() {
        println!("(counts are this process's; pass --server URL for a running server's)");
    }
    Ok(())
}

/// `(id, calls, errors)` from a running server's `/readyz`.
async fn server_counts(url: &str) -> anyhow::Result<Vec<(String, u64, u64)>> {
    let authority = url
        .strip_prefix("http://")
        .context("--server: give an http:// address (e.g. http://127.0.0.1:8080)")?
        .trim_end_matches('/');
    let body = http_get(authority, "/readyz")
        .await
        .with_context(|| format!("cannot read {url}/readyz"))?;
    let value: serde_json::Value =
        serde_json::from_str(&body).with_context(|| format!("{url}/readyz did not answer JSON"))?;
    Ok(value["plugins"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| {
                    (
                        p["id"].as_str().unwrap_or_default().to_owned(),
                        p["calls"].as_u64().unwrap_or_default(),
                        p["errors"].as_u64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// A plain HTTP/1.1 GET, enough to read `/readyz` from a server on the local network.
async fn http_get(authority: &str, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (_, body) = response
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    Ok(body.to_owned())
}

async fn reload(loaded: &Loaded, config_dir: &Path) -> anyhow::Result<()> {
    let settings = loaded.settings.clone();
    tokio::task::spawn_blocking(move || Plugins::load(&settings))
        .await?
        .context("not reloading: the plugins on disk do not load")?;
    let (db, _) = super::open_database(loaded, config_dir).await?;
    let generation = crate::db::plugin_reloads::bump(&db.pool).await?;
    println!(
        "plugins check out; reload {generation} requested: servers on this database reload \
         within {} ms",
        loaded.settings.plugins.reload_poll_ms
    );
    Ok(())
}
