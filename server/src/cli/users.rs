//! `portal users …`: portal users from the command line, with the same rules as the manage
//! area.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::AppError;
use crate::portal_users::Granter;
use crate::portal_users::import::{self, Outcome};
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Invite portal users from a CSV file (columns email, first_name, last_name, company,
    /// role; only email is required) and print a line per row.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The agency's slug.
        #[arg(long)]
        agency: String,
        /// Check every row and report; create nothing.
        #[arg(long)]
        dry_run: bool,
        /// The role of rows that name none (a role id or name).
        #[arg(long, default_value = "customer-supervisor")]
        role: String,
    },
}

pub async fn run(command: UsersCommand, state: &AppState) -> anyhow::Result<()> {
    let UsersCommand::Import {
        file,
        agency,
        dry_run,
        role,
    } = command;
    let found = state
        .agency(&agency)
        .with_context(|| format!("no agency \"{agency}\""))?;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let actor = crate::auth::audit_actor("system", None, "command line", "");
    let options = import::Options {
        default_role: &role,
        dry_run,
    };
    let progress_bar = bar.clone();
    let mut progress = move |done: usize, total: usize| {
        progress_bar.set_length(total as u64);
        progress_bar.set_position(done as u64);
    };
    let report = import::run(
        state,
        &found,
        &Granter::agency_admin(),
        &text,
        options,
        actor,
        &mut progress,
    )
    .await
    .map_err(|err| match err {
        AppError::Invalid(errors) => anyhow::anyhow!("{}", errors.messages().join(" ")),
        other => anyhow::anyhow!("{other}"),
    })?;
    bar.finish_and_clear();
    for row in &report.rows {
        let result = match (row.outcome, row.fault) {
            (Outcome::Created, _) => "invited".to_owned(),
            (Outcome::WouldCreate, _) => "would be invited".to_owned(),
            (Outcome::Skipped, fault) => format!(
                "skipped ({}): {}",
                fault.map_or("invalid", |f| f.label()),
                row.reason
            ),
        };
        println!("line {:>5}  {:<40} {result}", row.line, row.email);
    }
    if dry_run {
        println!(
            "dry run: {} would be invited, {} skipped; nothing was changed",
            report.would_create, report.skipped
        );
    } else {
        println!("{} invited, {} skipped", report.created, report.skipped);
    }
    Ok(())
}
