//! `portal import workers|timesheets FILE --agency SLUG`: the manage area's CSV import from
//! the command line, with a progress bar and a line per faulty row. Exits non-zero when any
//! row was refused (the good rows are kept unless `--dry-run`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::audit_actor;
use crate::config::Loaded;
use crate::feed::import::{self, ImportKind};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Workers: external_id, first_name, last_name, email, recruiter_email.
    Workers(ImportArgs),
    /// Timesheets: external_id, worker, client, worksite, work_date, start_time, end_time,
    /// break_minutes, charge_rate_cents, pay_rate_cents (and optionally minutes_worked,
    /// charge_amount_cents, checked against the computed values).
    Timesheets(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file; its first line names the columns.
    file: PathBuf,
    /// The agency's slug.
    #[arg(long)]
    agency: String,
    /// Check every row and report what would happen, without saving anything.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(
    command: ImportCommand,
    loaded: &Loaded,
    config_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let (kind, args) = match command {
        ImportCommand::Workers(args) => (ImportKind::Workers, args),
        ImportCommand::Timesheets(args) => (ImportKind::Timesheets, args),
    };
    let (db, ids) = super::open_database(loaded, config_dir).await?;
    let agency_id = *ids
        .get(&args.agency)
        .with_context(|| format!("no agency with the slug {:?}", args.agency))?;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {} as UTF-8 text", args.file.display()))?;
    let parsed = import::parse(kind, &text)
        .map_err(|problem| anyhow::anyhow!("{}: {problem}", args.file.display()))?;
    let bar = ProgressBar::new(parsed.rows.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let actor = audit_actor("cli", None, "portal import", "");
    let (results, summary) = import::run(
        &db.pool,
        agency_id,
        actor,
        kind,
        parsed,
        args.dry_run,
        || bar.inc(1),
    )
    .await?;
    bar.finish_and_clear();
    for line in import::error_report(&results) {
        println!("{line}");
    }
    println!(
        "{}{}: {} created, {} updated, {} unchanged, {} refused",
        kind.as_str(),
        if args.dry_run {
            " (dry run, nothing saved)"
        } else {
            ""
        },
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.invalid
    );
    if summary.invalid > 0 {
        bail!(
            "{} row(s) of {} were refused",
            summary.invalid,
            args.file.display()
        );
    }
    Ok(())
}
