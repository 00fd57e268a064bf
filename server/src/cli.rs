//! The `portal` command line.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::app;
use crate::auth::passwords;
use crate::config::{self, Loaded};
use crate::db::staff_users::{self, NewStaffUser, StaffRole};
use crate::db::{self, Db};
use crate::state::AppState;

mod import;
mod plugin;
mod users;

#[derive(Debug, Parser)]
#[command(
    name = "portal",
    version,
    about = "Portal: branded client portals for staffing agencies and service businesses"
)]
pub struct Cli {
    /// Configuration folder holding portal.toml and agencies/*.toml [default: config].
    /// The plugin author's commands (`plugin new|build|check|test`) use one only when given.
    #[arg(long, global = true, env = "PORTAL_CONFIG_DIR")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (migrates the database first).
    Serve,
    /// Apply database migrations and record the configured agencies, then exit.
    Migrate,
    /// Validate the configuration and report every problem with its file and key.
    CheckConfig {
        /// Also print every setting in force, each with where it came from (a file, an
        /// environment variable or the built-in default); secrets are masked.
        #[arg(long)]
        show: bool,
    },
    /// Agencies (tenants) defined in configuration.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Agency staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// API tokens for an agency's back-office systems.
    #[command(subcommand, name = "api-token")]
    ApiToken(ApiTokenCommand),
    /// Portal users (client contacts): bulk invite from CSV.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Demonstration data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// WebAssembly plugins: scaffold, build, check, test, list, reload.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Themes: check one before agencies use it.
    #[command(subcommand)]
    Theme(ThemeCommand),
    /// Import an agency's workers or timesheets from a CSV file.
    #[command(subcommand)]
    Import(import::ImportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ThemeCommand {
    /// Check a theme folder: its parent chain, every template parses, and every page and
    /// email template is there (its own or inherited). Exits 1 listing each problem.
    Check {
        /// The theme folder (holding theme.toml).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiTokenCommand {
    /// Create a token; it is printed once and never shown again.
    Create {
        /// The agency's slug.
        #[arg(long)]
        agency: String,
        /// What the token is for, e.g. "Payroll sync".
        #[arg(long)]
        name: String,
    },
    /// List an agency's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        agency: String,
    },
    /// Revoke a token by its id (from `list`).
    Revoke {
        #[arg(long)]
        agency: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// List configured agencies with their theme, plugins and user counts.
    List,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account. Prints a generated passphrase once, unless
    /// --password-stdin reads the password from standard input.
    Create {
        /// The agency's slug.
        #[arg(long)]
        agency: String,
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Staff)]
        role: RoleArg,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List an agency's staff accounts.
    List {
        /// The agency's slug.
        #[arg(long)]
        agency: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Staff,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Load two demonstration agencies' data (safe to run again).
    Seed {
        /// How much: `demo` (the two demo agencies) or `large` (the data the portal is
        /// measured with, added to the demo).
        #[arg(long, value_enum, default_value_t)]
        scale: crate::demo::Scale,
    },
}

/// Runs a command; errors come back for `main` to print as one line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // A theme author may have no configuration at all, so this one runs without it.
    let config_dir = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("config"));
    if let Command::Theme(ThemeCommand::Check { dir }) = &cli.command {
        return check_theme(dir, &config_dir);
    }
    // So does a plugin author, who may have no server at all.
    if let Command::Plugin(command) = &cli.command
        && command.is_authoring()
    {
        let settings = match &cli.config {
            Some(dir) => Some(config::load(dir).map_err(anyhow::Error::new)?.settings),
            None => None,
        };
        // The plugin's own log lines (and what it prints) show on standard error.
        crate::telemetry::init(&settings.as_ref().map(|s| s.log.clone()).unwrap_or_default());
        return plugin::author(cli.command, settings.as_ref()).await;
    }
    let loaded = config::load(&config_dir).map_err(anyhow::Error::new)?;
    crate::telemetry::init(&loaded.settings.log);
    match cli.command {
        Command::Serve => {
            let state = AppState::build(loaded.settings, &config_dir).await?;
            app::serve(state).await
        }
        Command::Migrate => {
            let (_, ids) = open_database(&loaded, &config_dir).await?;
            println!("database is up to date; {} agencies recorded", ids.len());
            Ok(())
        }
        Command::CheckConfig { show } => check_config(&loaded, &config_dir, show),
        Command::Agency(AgencyCommand::List) => list_agencies(&loaded, &config_dir).await,
        Command::Staff(command) => staff(command, &loaded, &config_dir).await,
        Command::ApiToken(command) => {
            let state = AppState::build(loaded.settings, &config_dir).await?;
            api_token(command, &state).await
        }
        Command::Plugin(command) => plugin::run(command, &loaded, &config_dir).await,
        Command::Users(command) => {
            let state = AppState::build(loaded.settings, &config_dir).await?;
            users::run(command, &state).await
        }
        Command::Demo(DemoCommand::Seed { scale }) => {
            let state = AppState::build(loaded.settings, &config_dir).await?;
            crate::demo::seed(&state, scale).await
        }
        Command::Theme(ThemeCommand::Check { dir }) => check_theme(&dir, &config_dir),
        Command::Import(command) => import::run(command, &loaded, &config_dir).await,
    }
}

/// Parents are looked for beside the theme and in the configured theme folders (the
/// defaults when the configuration cannot be read).
fn check_theme(dir: &std::path::Path, config_dir: &std::path::Path) -> anyhow::Result<()> {
    let theme_dirs = config::load(config_dir)
        .map(|loaded| loaded.settings.paths.themes)
        .unwrap_or_else(|_| config::PathsConfig::default().themes);
    match crate::themes::check::check_folder(dir, &theme_dirs) {
        Ok(checked) => {
            println!(
                "theme \"{}\" in {} is complete: {} templates parsed, chain {}",
                checked.name,
                dir.display(),
                checked.parsed,
                checked.chain.join(" → ")
            );
            Ok(())
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            bail!(
                "theme in {} has {} problem(s)",
                dir.display(),
                problems.len()
            )
        }
    }
}

/// Connects, migrates and records the agencies: what every command that touches data needs.
async fn open_database(
    loaded: &Loaded,
    config_dir: &std::path::Path,
) -> anyhow::Result<(Db, BTreeMap<String, i64>)> {
    let db = Db::connect(&loaded.settings.database).await?;
    db.migrate().await?;
    let ids = db::agencies::sync_all(&db.pool, config_dir, &loaded.settings.agencies).await?;
    Ok((db, ids))
}

fn check_config(loaded: &Loaded, config_dir: &std::path::Path, show: bool) -> anyhow::Result<()> {
    let themes = crate::themes::Themes::load(&loaded.settings, config_dir)?;
    println!(
        "configuration in {} is valid: {} agencies, {} themes loaded",
        config_dir.display(),
        loaded.settings.agencies.len(),
        themes.len()
    );
    if show {
        // A reader that stops early (`| head`) is not an error.
        let mut out = std::io::stdout().lock();
        for setting in loaded.settings_in_force()? {
            if writeln!(out, "{setting}").is_err() {
                break;
            }
        }
    }
    Ok(())
}

async fn list_agencies(loaded: &Loaded, config_dir: &std::path::Path) -> anyhow::Result<()> {
    let (db, ids) = open_database(loaded, config_dir).await?;
    println!(
        "{:<20} {:<30} {:<12} {:<22} {:>6} {:>12}",
        "SLUG", "NAME", "THEME", "ROLE SET", "STAFF", "PORTAL USERS"
    );
    for agency in loaded.settings.agencies.values() {
        let id = ids.get(&agency.slug).copied().unwrap_or_default();
        let staff = staff_users::list(&db.pool, id).await?.len();
        let portal_users = db::portal_users::count(&db.pool, id).await?;
        println!(
            "{:<20} {:<30} {:<12} {:<22} {:>6} {:>12}",
            agency.slug,
            agency.display_name,
            agency.theme,
            agency.plugins.role_set,
            staff,
            portal_users
        );
    }
    Ok(())
}

async fn staff(
    command: StaffCommand,
    loaded: &Loaded,
    config_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let (db, ids) = open_database(loaded, config_dir).await?;
    let agency_id = |slug: &str| {
        ids.get(slug).copied().with_context(|| {
            format!(
                "no agency \"{slug}\" (configured: {})",
                ids.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    match command {
        StaffCommand::Create {
            agency,
            email,
            name,
            role,
            password_stdin,
        } => {
            let agency_id = agency_id(&agency)?;
            if let Some(problem) = crate::email::problem(&email) {
                bail!("--email: {problem}");
            }
            if name.trim().is_empty() {
                bail!("--name must not be empty");
            }
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (passwords::generate_passphrase(), true)
            };
            // The policy in force: the settings page's values over the agency's file.
            let config = loaded
                .settings
                .agencies
                .values()
                .find(|a| a.slug == agency)
                .with_context(|| format!("no agency \"{agency}\" is configured"))?;
            let in_force = db::agency_settings::AgencySettings::layered(
                db::agency_settings::AgencySettings::from_config(config, &loaded.settings.security),
                &db::agency_settings::stored(&db.pool, agency_id).await?,
            );
            if let Some(problem) = passwords::policy_problem(
                &password,
                in_force.password_min_length(),
                &[&email, &name, &config.display_name],
            ) {
                bail!("the password is refused: {problem}");
            }
            let hash = passwords::hash(&password).await?;
            let role = match role {
                RoleArg::Admin => StaffRole::Admin,
                RoleArg::Staff => StaffRole::Staff,
            };
            let new = NewStaffUser {
                email: &email,
                name: &name,
                role,
                password_hash: &hash,
                must_change_password: generated,
            };
            match staff_users::create(&db.pool, agency_id, &new).await {
                Ok(_) => {}
                Err(err) if db::is_unique_violation(&err) => {
                    bail!(
                        "agency \"{agency}\" already has a staff user with email {}",
                        crate::email::normalize(&email)
                    )
                }
                Err(err) => return Err(err.into()),
            }
            println!(
                "created {} {} in agency \"{agency}\"",
                role.as_str(),
                crate::email::normalize(&email)
            );
            if generated {
                println!("password (shown once; they must change it at first sign-in): {password}");
            }
            Ok(())
        }
        StaffCommand::List { agency } => {
            let agency_id = agency_id(&agency)?;
            println!(
                "{:<32} {:<28} {:<6} {:<12} LAST SIGN-IN",
                "EMAIL", "NAME", "ROLE", "STATUS"
            );
            for user in staff_users::list(&db.pool, agency_id).await? {
                let last = user
                    .last_login_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<32} {:<28} {:<6} {:<12} {last}",
                    user.email, user.name, user.role, user.status
                );
            }
            Ok(())
        }
    }
}

async fn api_token(command: ApiTokenCommand, state: &AppState) -> anyhow::Result<()> {
    let agency = |slug: &str| {
        state
            .agency(slug)
            .with_context(|| format!("no agency \"{slug}\""))
    };
    let pool = &state.db().pool;
    match command {
        ApiTokenCommand::Create { agency: slug, name } => {
            let agency = agency(&slug)?;
            let token = crate::auth::api_tokens::create(state, &agency, &name, None)
                .await
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            let actor = crate::auth::audit_actor("system", None, "command line", "");
            let target = crate::db::audit::Target {
                kind: Some("api token"),
                id: None,
                label: Some(&name),
            };
            crate::db::audit::record(pool, agency.id, actor, "api token created", target, "")
                .await?;
            println!("{token}");
            eprintln!("token \"{name}\" created for agency \"{slug}\"; it is not shown again");
        }
        ApiTokenCommand::List { agency: slug } => {
            let agency = agency(&slug)?;
            println!(
                "{:<6} {:<30} {:<16} {:<22} STATUS",
                "ID", "NAME", "STARTS WITH", "LAST USED"
            );
            for token in crate::db::api_tokens::list(pool, agency.id).await? {
                let last = token
                    .last_used_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "never".into());
                let status = if token.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<6} {:<30} {:<16} {:<22} {status}",
                    token.id, token.name, token.prefix, last
                );
            }
        }
        ApiTokenCommand::Revoke { agency: slug, id } => {
            let agency = agency(&slug)?;
            if !crate::db::api_tokens::revoke(pool, agency.id, id).await? {
                bail!("agency \"{slug}\" has no active token with id {id}");
            }
            let actor = crate::auth::audit_actor("system", None, "command line", "");
            let target = crate::db::audit::Target {
                kind: Some("api token"),
                id: Some(id),
                label: None,
            };
            crate::db::audit::record(pool, agency.id, actor, "api token revoked", target, "")
                .await?;
            println!("revoked token {id} of agency \"{slug}\"");
        }
    }
    Ok(())
}
