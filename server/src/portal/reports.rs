//! Reports: hours and charges between two dates, by week, worker or worksite — a bar chart
//! drawn as SVG on the server (title, description and the table beside it for screen
//! readers), the table, and an export in each of the agency's export formats.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use time::Duration;

use super::{Portal, iso, monday_of, parse_date, today};
use crate::db::timesheets::{self, Grouping, Totals};
use crate::error::{AppError, AppResult};
use crate::plugins::{Column, ColumnType, Permission, PluginRequest, RowBatch};
use crate::state::AppState;

/// The widest range a report covers, in days.
const LONGEST_RANGE_DAYS: i64 = 366 * 2;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

/// A report's rows after the dates are settled.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub group: &'static str,
    pub rows: Vec<Row>,
    pub total_minutes: i64,
    pub total_charge_cents: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub entries: i64,
    pub minutes: i64,
    pub charge_cents: i64,
}

impl ReportQuery {
    fn grouping(&self) -> (&'static str, Grouping) {
        match self.group.as_deref() {
            Some("worker") => ("worker", Grouping::Worker),
            Some("worksite") => ("worksite", Grouping::Worksite),
            _ => ("week", Grouping::Day),
        }
    }

    /// The range asked for, or the last four weeks; a range the wrong way round is swapped
    /// and one too long is cut to [`LONGEST_RANGE_DAYS`].
    fn range(&self) -> (time::Date, time::Date) {
        let to = self
            .to
            .as_deref()
            .and_then(parse_date)
            .unwrap_or_else(today);
        let from = self
            .from
            .as_deref()
            .and_then(parse_date)
            .unwrap_or_else(|| monday_of(to) - Duration::weeks(3));
        let (from, to) = if from > to { (to, from) } else { (from, to) };
        let from = from.max(to - Duration::days(LONGEST_RANGE_DAYS));
        (from, to)
    }
}

/// Computes a report for the portal's clients.
pub async fn build(state: &AppState, portal: &Portal, query: &ReportQuery) -> AppResult<Report> {
    portal.require(Permission::ViewReports)?;
    let (from, to) = query.range();
    let (group, grouping) = query.grouping();
    let totals = timesheets::totals(
        &state.db().pool,
        portal.agency_id(),
        &portal.scope,
        (from, to),
        grouping,
    )
    .await?;
    let rows = match grouping {
        Grouping::Day => by_week(totals),
        _ => totals
            .into_iter()
            .map(|t| Row {
                label: t.label,
                entries: t.entries,
                minutes: t.minutes,
                charge_cents: t.charge_cents,
            })
            .collect(),
    };
    Ok(Report {
        from: iso(from),
        to: iso(to),
        group,
        total_minutes: rows.iter().map(|r| r.minutes).sum(),
        total_charge_cents: rows.iter().map(|r| r.charge_cents).sum(),
        rows,
    })
}

/// Folds days into weeks, labelled by their Monday.
fn by_week(days: Vec<Totals>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for day in days {
        let label = parse_date(&day.key)
            .map(|d| format!("Week of {}", iso(monday_of(d))))
            .unwrap_or(day.key);
        match rows.last_mut() {
            Some(row) if row.label == label => {
                row.entries += day.entries;
                row.minutes += day.minutes;
                row.charge_cents += day.charge_cents;
            }
            _ => rows.push(Row {
                label,
                entries: day.entries,
                minutes: day.minutes,
                charge_cents: day.charge_cents,
            }),
        }
    }
    rows
}

/// One bar of the chart, in SVG user units.
#[derive(Debug, Clone, Serialize)]
struct Bar {
    label: String,
    hours: String,
    y: i64,
    width: i64,
}

/// Horizontal bars of hours, longest bar [`CHART_WIDTH`] wide.
const CHART_WIDTH: i64 = 400;
const BAR_STEP: i64 = 28;

fn bars(rows: &[Row]) -> Vec<Bar> {
    let longest = rows.iter().map(|r| r.minutes).max().unwrap_or(0).max(1);
    rows.iter()
        .enumerate()
        .map(|(n, row)| Bar {
            label: row.label.clone(),
            hours: format!("{:.2}", row.minutes as f64 / 60.0),
            y: n as i64 * BAR_STEP,
            width: (row.minutes * CHART_WIDTH / longest).max(i64::from(row.minutes > 0)),
        })
        .collect()
}

/// The report page, shared with the benchmark.
pub async fn report_page(
    state: &AppState,
    portal: &Portal,
    query: &ReportQuery,
) -> AppResult<Response> {
    let report = build(state, portal, query).await?;
    let bars = bars(&report.rows);
    let chart_height = (bars.len() as i64 * BAR_STEP).max(BAR_STEP);
    let formats: Vec<(String, String)> = state
        .plugins()
        .agency(&portal.session.user.agency.slug)
        .map(|set| {
            set.formats()
                .map(|f| (f.id.clone(), f.label.clone()))
                .collect()
        })
        .unwrap_or_default();
    portal
        .render(
            state,
            "portal/reports.html",
            "reports",
            context! {
                title => "Reports", report => Serde(report), bars => Serde(bars), chart_height,
                chart_width => CHART_WIDTH, formats => Serde(formats),
            },
        )
        .await
}

pub async fn page(
    State(state): State<AppState>,
    mut portal: Portal,
    mut plugins: PluginRequest,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    portal
        .narrow(&state, &mut plugins, Permission::ViewReports, "report")
        .await?;
    report_page(&state, &portal, &query).await
}

/// The report's table in one of the agency's export formats, streamed as the plugin writes
/// it. Only hours and charges go in: the pay rate is never read.
pub async fn export(
    State(state): State<AppState>,
    mut portal: Portal,
    mut plugins: PluginRequest,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    portal
        .narrow(&state, &mut plugins, Permission::ViewReports, "report")
        .await?;
    let report = build(&state, &portal, &query).await?;
    let format = query.format.clone().unwrap_or_default();
    let heading = match report.group {
        "worker" => "Worker",
        "worksite" => "Worksite",
        _ => "Week",
    };
    let columns = vec![
        Column::new("group", heading, ColumnType::Text),
        Column::new("entries", "Timesheets", ColumnType::Integer),
        Column::new("hours", "Hours", ColumnType::Decimal(2)),
        Column::new("charges", "Charges", ColumnType::Decimal(2)),
    ];
    let title = format!("Hours and charges {} to {}", report.from, report.to);
    let (found, export) = plugins
        .export(&format, &title, columns)
        .ok_or(AppError::NotFound)?;
    let mut batch = RowBatch::with_capacity(report.rows.len(), 4, 12);
    for row in &report.rows {
        batch.push(Some(&row.label));
        batch.push(Some(&row.entries.to_string()));
        batch.push(Some(&super::hundredths(row.minutes).to_string()));
        batch.push(Some(&row.charge_cents.to_string()));
    }
    let rows = export.rows;
    tokio::spawn(async move {
        // A failed export reports itself on the byte stream; nothing to do here.
        let _ = rows.send(batch).await;
    });
    let file_name = format!(
        "hours-{}-{}-to-{}.{}",
        report.group, report.from, report.to, found.extension
    );
    Ok(crate::downloads::download(
        &file_name,
        &found.mime_type,
        Body::from_stream(export.bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(key: &str, minutes: i64) -> Totals {
        Totals {
            key: key.into(),
            label: key.into(),
            entries: 1,
            minutes,
            charge_cents: minutes * 10,
        }
    }

    #[test]
    fn days_fold_into_weeks_by_monday() {
        let rows = by_week(vec![
            day("2026-11-16", 60),
            day("2026-11-22", 30),
            day("2026-11-23", 120),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].label, "Week of 2026-11-16");
        assert_eq!(rows[0].minutes, 90);
        assert_eq!(rows[1].charge_cents, 1200);
    }

    #[test]
    fn the_longest_bar_fills_the_chart() {
        let rows = by_week(vec![day("2026-11-16", 60), day("2026-11-23", 30)]);
        let bars = bars(&rows);
        assert_eq!(bars[0].width, CHART_WIDTH);
        assert_eq!(bars[1].width, CHART_WIDTH / 2);
        assert_eq!(bars[1].y, BAR_STEP);
    }
}
