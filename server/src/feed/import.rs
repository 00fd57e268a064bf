//! CSV import of workers and timesheets, for the manage area's import page and
//! `portal import …`. The header names the columns with the API's field names
//! (`external_id` first-class, the rest as in the JSON bodies); every row then goes through
//! the same checks and upsert as the API's batch endpoint, and comes back with its own result.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::timesheets::Timesheets;
use super::workers::Workers;
use super::{MAX_BATCH_ROWS, RowResult, Summary, apply_rows};
use crate::db::audit::Actor;
use crate::error::AppResult;
use crate::forms::FieldErrors;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Workers,
    Timesheets,
}

impl ImportKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "workers" => Some(Self::Workers),
            "timesheets" => Some(Self::Timesheets),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workers => "workers",
            Self::Timesheets => "timesheets",
        }
    }

    /// The columns a file may have, required ones first; shown on the import page.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Workers => &[
                "external_id",
                "first_name",
                "last_name",
                "email",
                "recruiter_email",
            ],
            Self::Timesheets => &[
                "external_id",
                "worker",
                "client",
                "worksite",
                "work_date",
                "start_time",
                "end_time",
                "break_minutes",
                "charge_rate_cents",
                "pay_rate_cents",
                "minutes_worked",
                "charge_amount_cents",
            ],
        }
    }
}

/// A file's rows, split into those to apply and those already faulty.
#[derive(Debug, Default)]
pub struct Parsed {
    /// `(line, external id, values)`.
    pub rows: Vec<(usize, String, Map<String, Value>)>,
    pub faults: Vec<RowResult>,
}

impl Parsed {
    pub fn len(&self) -> usize {
        self.rows.len() + self.faults.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn fault(line: usize, external_id: &str, field: &str, message: String) -> RowResult {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    RowResult {
        row: line,
        external_id: external_id.to_owned(),
        status: "invalid",
        id: None,
        errors,
    }
}

/// Reads a CSV file. A problem with the file as a whole (no header, unknown columns, too many
/// rows) is an `Err` with a message; problems of single rows become their results.
pub fn parse(kind: ImportKind, text: &str) -> Result<Parsed, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|err| format!("The file is not readable as CSV: {err}."))?
        .iter()
        .map(|name| name.to_lowercase())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err("The file is empty: the first line must name the columns.".into());
    }
    let unknown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|name| !kind.columns().contains(name))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Unknown column(s): {}. The columns for {} are: {}.",
            unknown.join(", "),
            kind.as_str(),
            kind.columns().join(", ")
        ));
    }
    if !header.iter().any(|name| name == "external_id") {
        return Err("The file needs an external_id column.".into());
    }
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| line_of(text, p));
                parsed.faults.push(fault(
                    line,
                    "",
                    "row",
                    format!("Not readable as CSV: {err}."),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_of(text, p));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut values = Map::new();
        for (name, value) in header.iter().zip(record.iter()) {
            values.insert(name.clone(), Value::String(value.to_owned()));
        }
        let external_id = values
            .remove("external_id")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if record.len() != header.len() {
            parsed.faults.push(fault(
                line,
                &external_id,
                "row",
                format!(
                    "This line has {} values; the header has {} columns.",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        if !external_id.is_empty()
            && let Some(first) = seen.insert(external_id.clone(), line)
        {
            parsed.faults.push(fault(
                line,
                &external_id,
                "external_id",
                format!("This external id is already on line {first}."),
            ));
            continue;
        }
        parsed.rows.push((line, external_id, values));
    }
    if parsed.len() > MAX_BATCH_ROWS {
        return Err(format!(
            "The file has {} rows; import at most {MAX_BATCH_ROWS} at a time.",
            parsed.len()
        ));
    }
    Ok(parsed)
}

/// The 1-based line a record is on, counted from its byte offset: the reader's own count
/// leaves out blank lines, and its offset is where the blank lines before the record begin.
/// Lines end as the reader ends records: at `\r\n`, `\n` or a lone `\r`. Shared with the
/// portal-user CSV import.
pub fn line_of(text: &str, position: &csv::Position) -> usize {
    let bytes = text.as_bytes();
    let mut start = usize::try_from(position.byte())
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
        start += 1;
    }
    let before = &bytes[..start];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|&(at, &byte)| {
            byte == b'\n' || (byte == b'\r' && before.get(at + 1) != Some(&b'\n'))
        })
        .count();
    breaks + 1
}

/// Applies parsed rows (or, with `dry_run`, finds out what applying them would do) and merges
/// the results with the parse faults, in line order.
pub async fn run(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    actor: Actor<'_>,
    kind: ImportKind,
    parsed: Parsed,
    dry_run: bool,
    progress: impl FnMut() + Send,
) -> AppResult<(Vec<RowResult>, Summary)> {
    let (mut results, mut summary) = match kind {
        ImportKind::Workers => {
            apply_rows::<Workers>(pool, agency_id, actor, parsed.rows, dry_run, progress).await?
        }
        ImportKind::Timesheets => {
            apply_rows::<Timesheets>(pool, agency_id, actor, parsed.rows, dry_run, progress).await?
        }
    };
    for fault in parsed.faults {
        summary.count(&fault);
        results.push(fault);
    }
    results.sort_by_key(|result| result.row);
    Ok((results, summary))
}

/// One line per faulty row: `line 4 (T-17): worker: There is no worker …`.
pub fn error_report(results: &[RowResult]) -> Vec<String> {
    results
        .iter()
        .filter(|result| !result.errors.is_empty())
        .flat_map(|result| {
            result.errors.iter().map(move |(field, message)| {
                format!(
                    "line {} ({}): {field}: {message}",
                    result.row,
                    if result.external_id.is_empty() {
                        "no external id"
                    } else {
                        &result.external_id
                    }
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_checked_as_a_whole_and_per_row() -> Result<(), String> {
        assert!(parse(ImportKind::Workers, "").is_err());
        assert!(
            parse(ImportKind::Workers, "external_id,shoe_size\nW1,9\n")
                .is_err_and(|e| e.contains("shoe_size"))
        );
        assert!(parse(ImportKind::Workers, "first_name,last_name\nAda,Lovelace\n").is_err());
        let text = "\u{feff}external_id,first_name,last_name\n\
                    W1,Ada,Lovelace\n\
                    W2,Grace\n\
                    \n\
                    W1,Ada,Byron\n";
        let parsed = parse(ImportKind::Workers, text)?;
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].1, "W1");
        let lines: Vec<usize> = parsed.faults.iter().map(|f| f.row).collect();
        assert_eq!(lines, vec![3, 5]);
        assert!(error_report(&parsed.faults)[1].contains("already on line 2"));

        // A lone carriage return ends a record, so it ends a line too.
        let text =
            "external_id,first_name,last_name\r\rW1,Ada,Lovelace\r\nW2,Grace,Hopper\rW3,Alan\n";
        let parsed = parse(ImportKind::Workers, text)?;
        let lines: Vec<usize> = parsed.rows.iter().map(|row| row.0).collect();
        assert_eq!(lines, vec![3, 4]);
        assert_eq!(parsed.faults[0].row, 5);
        Ok(())
    }
}
