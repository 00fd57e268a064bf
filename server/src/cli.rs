//! The `portal` command line.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::app::{self, AppState};
use crate::auth::passwords;
use crate::config::{self, Loaded};
use crate::db::staff_users::{self, NewStaffUser, StaffRole};
use crate::db::{self, Db};

mod plugin;

#[derive(Debug, Parser)]
#[command(
    name = "portal",
    version,
    about = "Portal: branded client portals for staffing agencies and service businesses"
)]
pub struct Cli {
    /// Configuration folder holding portal.toml and agencies/*.toml.
    #[arg(
        long,
        global = true,
        env = "PORTAL_CONFIG_DIR",
        default_value = "config"
    )]
    pub config: PathBuf,
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
    CheckConfig,
    /// Agencies (tenants) defined in configuration.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Agency staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Demonstration data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// WebAssembly plugins: scaffold, build, check, test, list, reload.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
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
    Seed,
}

/// Runs a command; errors come back for `main` to print as one line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let loaded = config::load(&cli.config).map_err(anyhow::Error::new)?;
    crate::telemetry::init(&loaded.settings.log);
    match cli.command {
        Command::Serve => {
            let state = AppState::build(loaded.settings, &cli.config).await?;
            app::serve(state).await
        }
        Command::Migrate => {
            let (_, ids) = open_database(&loaded, &cli.config).await?;
            println!("database is up to date; {} agencies recorded", ids.len());
            Ok(())
        }
        Command::CheckConfig => check_config(&loaded, &cli.config),
        Command::Agency(AgencyCommand::List) => list_agencies(&loaded, &cli.config).await,
        Command::Staff(command) => staff(command, &loaded, &cli.config).await,
        Command::Plugin(command) => plugin::run(command, &loaded, &cli.config).await,
        Command::Demo(DemoCommand::Seed) => {
            let state = AppState::build(loaded.settings, &cli.config).await?;
            crate::demo::seed(&state).await
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

fn check_config(loaded: &Loaded, config_dir: &std::path::Path) -> anyhow::Result<()> {
    let themes = crate::themes::Themes::load(&loaded.settings, config_dir)?;
    println!(
        "configuration in {} is valid: {} agencies, {} themes loaded",
        config_dir.display(),
        loaded.settings.agencies.len(),
        themes.len()
    );
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
            if let Some(problem) = crate::auth::email_problem(&email) {
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
            if password.chars().count() < 8 {
                bail!("the password must be at least 8 characters long");
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
                        staff_users::normalize_email(&email)
                    )
                }
                Err(err) => return Err(err.into()),
            }
            println!(
                "created {} {} in agency \"{agency}\"",
                role.as_str(),
                staff_users::normalize_email(&email)
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
