//! Plugin host benchmarks, each beside native Rust doing the same work in the same run.
//!
//! Run with `cargo xtask bench-plugins` (release build; needs `cargo xtask plugins` first).
//! Prints a Markdown report and writes it into BENCHMARKS.md, section "Plugins".

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use portal_plugin_api::formats as sdk;
use portal_plugin_api::formats::TableWriter;
use portal_server::config::{AgencyConfig, Settings};
use portal_server::plugins::{
    AuthorizationRequest, Column, ColumnType, Decision, ExportSession, Named, NotificationEvent,
    Origin, Permission, Person, PersonKind, Plugins, PortalUserRef, Recipient, RowBatch, Target,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn settings(cache: &Path) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    settings.paths.plugins = vec![root().join("dist/plugins")];
    settings.plugins.cache_dir = Some(cache.to_path_buf());
    let agency: AgencyConfig = toml::from_str(
        "slug = \"acme\"\ndisplay_name = \"Acme\"\n[plugins]\nrole_set = \"roles-staffing\"\n\
         notifications = [\"notify-standard\"]\nexports = [\"export-csv\", \"export-xlsx\"]\n\
         [plugins.settings.notify-standard]\n\
         work-request-recipients = \"a@acme.example,b@acme.example\"\n",
    )?;
    settings.agencies.insert("acme".into(), agency);
    Ok(settings)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn per_op(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e9 / f64::from(n)
}

fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS (`VmHWM`) so that a measurement sees only its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn limited_request(hours: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        role: "customer-limited".into(),
        permission: Permission::ApproveTimesheets,
        user: PortalUserRef {
            id: "9".into(),
            email: "lee@northwind.example".into(),
            worksite_ids: vec!["3".into(), "5".into()],
        },
        client_id: "4".into(),
        target: Target {
            kind: "timesheet".into(),
            id: Some("77".into()),
            attributes: vec![
                ("hours".into(), hours.into()),
                ("worksite-id".into(), "3".into()),
            ],
        },
    }
}

/// The Customer Limited rule in native Rust, as the plugin has it.
fn native_limited(request: &AuthorizationRequest) -> Decision {
    let attr = |key: &str| {
        request
            .target
            .attributes
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let Some(hours) = attr("hours").and_then(|h| h.parse::<u32>().ok()) else {
        return Decision::Deny("bad".into());
    };
    if hours > 1200 {
        return Decision::Deny("Timesheets over 12 hours need a supervisor's approval.".into());
    }
    let own = attr("worksite-id").is_some_and(|w| request.user.worksite_ids.iter().any(|x| x == w));
    if !request.user.worksite_ids.is_empty() && !own {
        return Decision::Deny("You can approve timesheets only at your own worksites.".into());
    }
    Decision::Allow
}

fn event() -> NotificationEvent {
    NotificationEvent {
        kind: "work-request-created".into(),
        client: Some(Named {
            id: "4".into(),
            name: "Northwind".into(),
        }),
        worksite: None,
        actor: Person {
            kind: PersonKind::PortalUser,
            id: "9".into(),
            name: "Lee".into(),
            email: "lee@northwind.example".into(),
        },
        subject: None,
        fields: vec![
            ("work-request-id".into(), "12".into()),
            ("title".into(), "Two forklift drivers".into()),
            ("details".into(), "Night shift".into()),
            (
                "manage-url".into(),
                "https://portal.example/acme/manage/wr/12".into(),
            ),
        ],
    }
}

/// A notification as native code would build it: recipients, template, variables.
type NativeNotification = (Vec<Recipient>, String, Vec<(String, String)>);

/// What notify-standard answers for a work request, computed natively.
fn native_notification(event: &NotificationEvent, setting: &str) -> Vec<NativeNotification> {
    let recipients = setting
        .split(',')
        .map(|s| Recipient::StaffEmail(s.trim().to_owned()))
        .collect();
    let keys = [
        "work-request-id",
        "title",
        "details",
        "needed-by",
        "manage-url",
    ];
    let variables = keys
        .iter()
        .filter_map(|k| {
            event
                .fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(k, v)| (k.clone(), v.clone()))
        })
        .collect();
    vec![(recipients, "work-request-created".into(), variables)]
}

fn columns() -> Vec<Column> {
    vec![
        Column::new("timesheet_id", "Timesheet", ColumnType::Integer),
        Column::new("worker", "Worker", ColumnType::Text),
        Column::new("client", "Client", ColumnType::Text),
        Column::new("week_ending", "Week ending", ColumnType::Date),
        Column::new("hours", "Hours", ColumnType::Decimal(2)),
        Column::new("charge_rate", "Charge rate", ColumnType::Decimal(2)),
        Column::new("approved", "Approved", ColumnType::Boolean),
        Column::new("approved_at", "Approved at", ColumnType::Datetime),
    ]
}

/// Rows per batch of the export runs.
const BATCH_ROWS: usize = 10_000;
/// Rows per batch of the CSV runs with small batches, the size the portal-user export sends.
const SMALL_BATCH_ROWS: usize = 1_000;

/// `rows` timesheet rows, packed; reused for every batch of a run.
fn timesheet_batch(rows: usize) -> RowBatch {
    let mut batch = RowBatch::with_capacity(rows, 8, 10);
    for i in 0..rows {
        let id = (100_000 + i).to_string();
        let worker = format!("Worker {}, Jr.", i % 997);
        let hours = (800 + i % 700).to_string();
        let rate = (2150 + i % 300).to_string();
        let cells = [
            Some(id.as_str()),
            Some(worker.as_str()),
            Some("Northwind Traders"),
            Some("2024-03-01"),
            Some(hours.as_str()),
            Some(rate.as_str()),
            Some(if i % 3 == 0 { "0" } else { "1" }),
            if i % 3 == 0 {
                None
            } else {
                Some("2024-03-02T09:30:00Z")
            },
        ];
        for cell in cells {
            batch.push(cell);
        }
    }
    batch
}

/// Rows in one of the batches `batch` makes.
fn batch_rows(batch: &RowBatch) -> usize {
    batch.cells() / columns().len()
}

struct ExportRun {
    rows: usize,
    time: Duration,
    bytes: u64,
    peak_growth_kib: u64,
}

fn plugin_export(
    plugins: &Plugins,
    format: &str,
    rows: usize,
    batch: &RowBatch,
) -> anyhow::Result<ExportRun> {
    let set = plugins
        .agency("acme")
        .ok_or_else(|| anyhow::anyhow!("acme"))?;
    let (bound, _) = set
        .format(format)
        .ok_or_else(|| anyhow::anyhow!("format"))?;
    reset_peak();
    let base = proc_status("VmRSS:");
    let started = Instant::now();
    let mut session = ExportSession::open(
        plugins.engine(),
        bound.clone(),
        "acme",
        format,
        "Timesheets",
        &columns(),
    )?;
    let mut bytes = 0u64;
    for _ in 0..rows / batch_rows(batch) {
        bytes += black_box(session.write(batch.clone())?).len() as u64;
    }
    bytes += session.finish()?.len() as u64;
    let time = started.elapsed();
    Ok(ExportRun {
        rows,
        time,
        bytes,
        peak_growth_kib: proc_status("VmHWM:").saturating_sub(base),
    })
}

/// The plugin's own writer compiled natively (the export crates are ordinary libraries outside
/// WebAssembly), fed the same packed batches and decoded by the same SDK code: the sandbox's
/// cost is the difference.
fn native_export<F: sdk::ExportFormat>(
    format: &str,
    rows: usize,
    batch: &RowBatch,
) -> anyhow::Result<ExportRun> {
    let failed = |error: portal_plugin_api::PluginError| anyhow::anyhow!("{error:?}");
    let columns: Vec<sdk::Column> = columns()
        .iter()
        .map(|column| sdk::Column::new(&column.name, &column.label, sdk_kind(column.kind)))
        .collect();
    let width = columns.len();
    reset_peak();
    let base = proc_status("VmRSS:");
    let started = Instant::now();
    let mut writer = F::open(format, "Timesheets", columns).map_err(failed)?;
    let mut bytes = 0u64;
    for _ in 0..rows / batch_rows(batch) {
        let RowBatch { data, ends, nulls } = batch.clone();
        let packed = sdk::RowBatch { data, ends, nulls };
        let rows = sdk::Rows::decode(&packed, width).map_err(failed)?;
        bytes += black_box(writer.write_rows(rows).map_err(failed)?).len() as u64;
    }
    bytes += writer.finish().map_err(failed)?.len() as u64;
    Ok(ExportRun {
        rows,
        time: started.elapsed(),
        bytes,
        peak_growth_kib: proc_status("VmHWM:").saturating_sub(base),
    })
}

/// Export runs at each size: native and plugin alternate, so that a busy spell of a shared
/// machine falls on both.
fn runs(rows: usize) -> usize {
    if rows >= 1_000_000 { 3 } else { 5 }
}

/// The run of median time, with the largest peak growth of all runs.
fn median_run(mut runs: Vec<ExportRun>) -> ExportRun {
    let peak_growth_kib = runs
        .iter()
        .map(|run| run.peak_growth_kib)
        .max()
        .unwrap_or(0);
    runs.sort_by_key(|run| run.time);
    let middle = runs.swap_remove(runs.len() / 2);
    ExportRun {
        peak_growth_kib,
        ..middle
    }
}

fn sdk_kind(kind: ColumnType) -> sdk::ColumnType {
    match kind {
        ColumnType::Text => sdk::ColumnType::Text,
        ColumnType::Integer => sdk::ColumnType::Integer,
        ColumnType::Decimal(scale) => sdk::ColumnType::Decimal(scale),
        ColumnType::Date => sdk::ColumnType::Date,
        ColumnType::Datetime => sdk::ColumnType::Datetime,
        ColumnType::Boolean => sdk::ColumnType::Boolean,
    }
}

fn main() -> anyhow::Result<()> {
    let mut report = String::new();
    let line = |report: &mut String, text: String| {
        println!("{text}");
        report.push_str(&text);
        report.push('\n');
    };
    let cache = tempfile::tempdir()?;
    let settings = settings(cache.path())?;

    // Load: cold compile, then from the cache.
    let cold = Plugins::load(&settings)?;
    let compiled = cold.loaded();
    let warm = Plugins::load(&settings)?;
    let mut load_rows = Vec::new();
    for plugin in warm.loaded() {
        let cold_time = compiled
            .iter()
            .find(|p| p.id() == plugin.id())
            .filter(|p| p.origin == Origin::Compiled)
            .map(|p| p.load_time)
            .unwrap_or_default();
        assert_eq!(plugin.origin, Origin::Cache);
        load_rows.push(format!(
            "| {} ({} KB) | {:.1} ms | {:.3} ms |",
            plugin.id(),
            plugin.size / 1000,
            cold_time.as_secs_f64() * 1e3,
            plugin.load_time.as_secs_f64() * 1e3
        ));
    }
    drop(cold);
    let plugins = warm;
    let set = plugins
        .agency("acme")
        .ok_or_else(|| anyhow::anyhow!("acme"))?;

    // Cached role look-up vs a native map of the same roles.
    const LOOKUPS: u32 = 2_000_000;
    let ids = ["customer-limited", "partner", "customer-supervisor", "nope"];
    let started = Instant::now();
    for i in 0..LOOKUPS {
        black_box(set.role(black_box(ids[(i % 4) as usize])));
    }
    let lookup = per_op(started.elapsed(), LOOKUPS);
    let native_roles: HashMap<String, portal_server::plugins::Role> = set
        .roles()
        .iter()
        .map(|r| (r.id.clone(), r.clone()))
        .collect();
    let started = Instant::now();
    for i in 0..LOOKUPS {
        black_box(native_roles.get(black_box(ids[(i % 4) as usize])));
    }
    let native_lookup = per_op(started.elapsed(), LOOKUPS);

    // Fresh instance + authorize, per request, as a handler calls it: from a runtime thread,
    // the call itself on the blocking pool.
    let runtime = tokio::runtime::Runtime::new()?;
    let request = limited_request("800");
    let mut samples = Vec::new();
    for _ in 0..5_000 {
        let started = Instant::now();
        let mut handle = plugins
            .for_request("acme")
            .ok_or_else(|| anyhow::anyhow!("acme"))?;
        let decision = runtime.block_on(handle.try_authorize(&request))?;
        samples.push(started.elapsed());
        assert_eq!(decision, Decision::Allow);
    }
    let authorize = median(samples);
    let mut handle = plugins
        .for_request("acme")
        .ok_or_else(|| anyhow::anyhow!("acme"))?;
    runtime.block_on(handle.try_authorize(&request))?;
    let mut samples = Vec::new();
    for _ in 0..5_000 {
        let started = Instant::now();
        black_box(runtime.block_on(handle.try_authorize(&request))?);
        samples.push(started.elapsed());
    }
    let authorize_reused = median(samples);
    let mut samples = Vec::new();
    for _ in 0..5_000 {
        let started = Instant::now();
        black_box(native_limited(black_box(&request)));
        samples.push(started.elapsed());
    }
    let native_authorize = median(samples);

    // "Approve all shown" of 500 timesheets under a dynamic rule, as the portal asks it: a
    // fresh request's instance, the 500 questions in one trip to the blocking pool.
    const SHOWN: usize = 500;
    let shown: Vec<AuthorizationRequest> = (0..SHOWN)
        .map(|i| limited_request(&(600 + i % 900).to_string()))
        .collect();
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let mut handle = plugins
            .for_request("acme")
            .ok_or_else(|| anyhow::anyhow!("acme"))?;
        let decisions = runtime.block_on(handle.authorize_all(shown.clone()));
        samples.push(started.elapsed());
        assert_eq!(decisions.len(), SHOWN);
    }
    let approve_shown = median(samples);
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        for request in &shown {
            black_box(native_limited(black_box(request)));
        }
        samples.push(started.elapsed());
    }
    let native_approve_shown = median(samples);

    // Notification hook, fresh instance per event.
    let event = event();
    let mut samples = Vec::new();
    for _ in 0..5_000 {
        let started = Instant::now();
        let mut handle = plugins
            .for_request("acme")
            .ok_or_else(|| anyhow::anyhow!("acme"))?;
        let outcome = runtime.block_on(handle.notifications(&event));
        samples.push(started.elapsed());
        assert_eq!(outcome.notifications.len(), 1);
    }
    let notify = median(samples);
    let mut samples = Vec::new();
    for _ in 0..5_000 {
        let started = Instant::now();
        black_box(native_notification(
            black_box(&event),
            "a@acme.example,b@acme.example",
        ));
        samples.push(started.elapsed());
    }
    let native_notify = median(samples);

    // Exports.
    let batch = timesheet_batch(BATCH_ROWS);
    let small_batch = timesheet_batch(SMALL_BATCH_ROWS);
    let mut export_rows = Vec::new();
    for rows in [100_000, 1_000_000] {
        for (label, format, batch) in [
            ("CSV", "csv", &batch),
            ("CSV (batches of 1,000)", "csv", &small_batch),
            ("XLSX", "xlsx", &batch),
        ] {
            let (mut native_runs, mut plugin_runs) = (Vec::new(), Vec::new());
            for _ in 0..runs(rows) {
                native_runs.push(match format {
                    "csv" => native_export::<export_csv::Csv>(format, rows, batch)?,
                    _ => native_export::<export_xlsx::Xlsx>(format, rows, batch)?,
                });
                plugin_runs.push(plugin_export(&plugins, format, rows, batch)?);
            }
            let (native, plugin) = (median_run(native_runs), median_run(plugin_runs));
            for (name, run) in [("native", &native), ("plugin", &plugin)] {
                export_rows.push(format!(
                    "| {label}, {name} | {} | {:.0} ms | {:.0} k rows/s | {:.1} MB | {} MiB |",
                    run.rows,
                    run.time.as_secs_f64() * 1e3,
                    run.rows as f64 / run.time.as_secs_f64() / 1e3,
                    run.bytes as f64 / 1e6,
                    run.peak_growth_kib / 1024
                ));
            }
            export_rows.push(format!(
                "| {label}, plugin ÷ native | {rows} | **{:.2}×** | | | |",
                plugin.time.as_secs_f64() / native.time.as_secs_f64()
            ));
        }
    }

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();

    line(&mut report, "## Plugins".into());
    line(&mut report, String::new());
    line(
        &mut report,
        format!(
            "`cargo xtask bench-plugins` (release) on {cores} cores ({cpu}), {date}, commit {commit}. \
         The machine was shared with other builds, so figures are indicative."
        ),
    );
    line(&mut report, String::new());
    line(
        &mut report,
        "| what | plugin | native Rust | target |".into(),
    );
    line(&mut report, "|---|---|---|---|".into());
    line(
        &mut report,
        format!("| cached role look-up | {lookup:.0} ns | {native_lookup:.0} ns | ≤ 1 µs |"),
    );
    line(
        &mut report,
        format!(
            "| `authorize`, fresh instance per request (median) | {:.1} µs | {:.2} µs | ≤ 30 µs |",
            authorize.as_secs_f64() * 1e6,
            native_authorize.as_secs_f64() * 1e6
        ),
    );
    line(
        &mut report,
        format!(
            "| `authorize`, instance reused within a request (median) | {:.1} µs | | |",
            authorize_reused.as_secs_f64() * 1e6
        ),
    );
    line(
        &mut report,
        format!(
            "| `authorize` × {SHOWN} in one trip, fresh instance (\"approve all shown\", median) | {:.2} ms | {:.3} ms | |",
            approve_shown.as_secs_f64() * 1e3,
            native_approve_shown.as_secs_f64() * 1e3
        ),
    );
    line(
        &mut report,
        format!(
            "| `on-event`, fresh instance (median) | {:.1} µs | {:.2} µs | |",
            notify.as_secs_f64() * 1e6,
            native_notify.as_secs_f64() * 1e6
        ),
    );
    line(&mut report, String::new());
    line(
        &mut report,
        format!(
            "Every hook call runs on the blocking thread pool (the request's thread waits for \
             it), so each figure includes that hand-over. The run of 23 November, before hooks \
             left the request threads, measured 12.3 µs for a fresh `authorize` (target ≤ 30 \
             µs), 1.6 µs with the instance reused, and 16.5 µs for `on-event`, on the same kind \
             of machine. Lists pay the hand-over once: \"approve all shown\" asks its {SHOWN} \
             rows in one trip, {:.1} µs a row.",
            approve_shown.as_secs_f64() * 1e6 / SHOWN as f64
        ),
    );
    line(&mut report, String::new());
    line(&mut report, "Exports of timesheet rows (8 typed columns, batches of 10,000 unless stated; target for CSV: the plugin at most 3× native). \"Native\" is the plugin crate's own writer compiled natively and fed the same batches, so the ratio is the cost of the sandbox: copying each batch in and the output out, and running as WebAssembly under fuel metering and deadline checks. Each time is the median of 5 runs (3 at 1,000,000 rows), native and plugin alternating. Natively, batches of 1,000 rows (what the portal-user export sends) run faster per row than batches of 10,000, their buffers staying in the CPU cache and reused without page faults, and they gain more from that than the plugin does: their ratio is the stricter one. Peak memory growth is VmHWM over VmRSS at the start, after resetting the peak, the largest of the runs:".into());
    line(&mut report, String::new());
    line(
        &mut report,
        "| export | rows | time | throughput | output | peak growth |".into(),
    );
    line(&mut report, "|---|---|---|---|---|---|".into());
    for row in &export_rows {
        line(&mut report, row.clone());
    }
    line(&mut report, String::new());
    line(
        &mut report,
        "Loading (target: from the cache ≤ 1 ms):".into(),
    );
    line(&mut report, String::new());
    line(
        &mut report,
        "| plugin | cold compile | from the cache |".into(),
    );
    line(&mut report, "|---|---|---|".into());
    for row in &load_rows {
        line(&mut report, row.clone());
    }

    let path = root().join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let updated = match existing.find("## Plugins") {
        Some(start) => {
            let rest = &existing[start + 1..];
            let end = rest
                .find("\n## ")
                .map_or(existing.len(), |i| start + 1 + i + 1);
            format!("{}{}\n{}", &existing[..start], report, &existing[end..])
        }
        None => format!("{}\n{report}", existing.trim_end()),
    };
    std::fs::write(&path, updated.trim_end().to_owned() + "\n")?;
    println!("\nwritten to {}", path.display());
    Ok(())
}
