//! The agency's data feed: rows a back-office system pushes in (workers, timesheets, clock
//! events, invoices, documents, jobs, quotes, and the clients and worksites they refer to),
//! keyed by the agency's own external ids.
//!
//! One path for every way in: the JSON API (`api/feed.rs`), the manage area's CSV import and
//! `portal import …` all hand a row of named values to [`Entity::upsert`], which checks every
//! field (problems per field, [`FieldErrors`]), resolves references by external id within the
//! agency, and writes only what changed. Sending the same row twice changes nothing.

pub mod clients;
pub mod clock_events;
pub mod documents;
pub mod fields;
pub mod import;
pub mod invoices;
pub mod jobs;
pub mod quotes;
pub mod sync;
pub mod timesheets;
pub mod workers;
pub mod worksites;

use std::future::Future;

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Acquire, AnyConnection};

use crate::db::audit::{self, Actor, Target};
use crate::db::records as record;
pub use crate::db::records::Outcome;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;

pub use fields::Fields;

/// The most rows one batch request or import may carry.
pub const MAX_BATCH_ROWS: usize = 5000;

/// The row an upsert wrote (or found unchanged).
#[derive(Debug, Clone)]
pub struct Upserted {
    pub id: i64,
    pub outcome: Outcome,
    /// How the audit log names the row.
    pub label: String,
}

/// A checked row ready to write, and how the audit log names it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub record: record::Record,
    pub label: String,
}

/// One kind of row the feed accepts.
pub trait Entity: Send + Sync + 'static {
    /// Singular, for the audit log: `worker`, `timesheet`.
    const KIND: &'static str;
    /// The path segment and the JSON key of lists: `workers`, `timesheets`.
    const PLURAL: &'static str;
    /// The table and the columns [`Entity::show`] returns.
    const TABLE: &'static str;
    const SHOWN: &'static [(&'static str, record::Kind)];

    /// Checks a row and resolves its references within the agency. Field problems come back
    /// as [`AppError::Invalid`].
    fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> impl Future<Output = AppResult<Checked>> + Send;

    /// Checks a row and writes it when it differs from what is stored.
    fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> impl Future<Output = AppResult<Upserted>> + Send {
        async move {
            let checked = Self::check(conn, agency_id, external_id, row).await?;
            let (id, outcome) = record::upsert(conn, agency_id, external_id, &checked.record)
                .await
                .map_err(unique_as_invalid)?;
            Ok(Upserted {
                id,
                outcome,
                label: checked.label,
            })
        }
    }

    /// The stored row, as the API shows it to the agency (pay rates included: only the
    /// agency's own tokens reach it).
    fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> impl Future<Output = AppResult<Option<Value>>> + Send {
        async move {
            let row = record::show(conn, agency_id, external_id, Self::TABLE, Self::SHOWN).await?;
            Ok(row.map(Value::Object))
        }
    }
}

/// Checks the external id itself: 1 to 100 characters, no surrounding spaces or control
/// characters.
pub fn check_external_id(external_id: &str) -> AppResult<()> {
    if external_id.trim().is_empty() {
        return Err(invalid("external_id", "Enter the external id."));
    }
    if external_id.chars().count() > 100
        || external_id.trim() != external_id
        || external_id.chars().any(char::is_control)
    {
        return Err(invalid(
            "external_id",
            "The external id must be 1 to 100 characters, without surrounding spaces or control characters.",
        ));
    }
    Ok(())
}

/// Upserts one row and audits a change, inside the caller's transaction.
pub async fn apply<E: Entity>(
    conn: &mut AnyConnection,
    agency_id: i64,
    actor: Actor<'_>,
    external_id: &str,
    row: &Map<String, Value>,
) -> AppResult<Upserted> {
    check_external_id(external_id)?;
    let done = E::upsert(conn, agency_id, external_id, row).await?;
    if done.outcome != Outcome::Unchanged {
        let target = Target {
            kind: Some(E::KIND),
            id: Some(done.id),
            label: Some(&done.label),
        };
        let action = format!("{} {}", E::KIND, done.outcome.as_str());
        audit::record(
            &mut *conn,
            agency_id,
            actor,
            &action,
            target,
            &format!("external id {external_id}"),
        )
        .await?;
    }
    Ok(done)
}

/// The result of one row of a batch or an import.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// Position in the batch (0-based) or the CSV line number.
    pub row: usize,
    pub external_id: String,
    /// `created`, `updated`, `unchanged` or `invalid`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "FieldErrors::is_empty")]
    pub errors: FieldErrors,
}

/// Counts of a batch's results.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub invalid: usize,
}

impl Summary {
    pub fn count(&mut self, result: &RowResult) {
        match result.status {
            "created" => self.created += 1,
            "updated" => self.updated += 1,
            "unchanged" => self.unchanged += 1,
            _ => self.invalid += 1,
        }
    }
}

/// A request body as one row: a JSON object, or a problem naming what is wrong with it.
pub fn body_object(body: &[u8]) -> AppResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::BadRequest("Send a JSON object.".into())),
        Err(err) => Err(AppError::BadRequest(format!(
            "The body is not valid JSON: {err}."
        ))),
    }
}

/// Rows ready for [`apply_rows`] (position, external id, values).
pub type Rows = Vec<(usize, String, Map<String, Value>)>;

/// A batch body `{"rows": [...]}`: the rows to apply, and the results of items that are not
/// objects (reported as invalid without touching the database).
pub fn batch_rows(body: &[u8]) -> AppResult<(Rows, Vec<RowResult>)> {
    let body = body_object(body)?;
    let Some(Value::Array(items)) = body.get("rows") else {
        return Err(AppError::BadRequest(
            "Send {\"rows\": [...]}, each row with its external_id.".into(),
        ));
    };
    if items.len() > MAX_BATCH_ROWS {
        return Err(AppError::BadRequest(format!(
            "A batch holds at most {MAX_BATCH_ROWS} rows; this one has {}.",
            items.len()
        )));
    }
    let mut rows = Vec::with_capacity(items.len());
    let mut faults = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut values = item.as_object().cloned().unwrap_or_default();
        let external_id = match values.remove("external_id") {
            Some(Value::String(text)) => text,
            _ => String::new(),
        };
        if item.is_object() {
            rows.push((index, external_id, values));
        } else {
            let mut errors = FieldErrors::default();
            errors.add("row", "Send each row as a JSON object.");
            faults.push(RowResult {
                row: index,
                external_id,
                status: "invalid",
                id: None,
                errors,
            });
        }
    }
    Ok((rows, faults))
}

/// Applies rows in one transaction, each in its own savepoint: a bad row is reported and
/// rolled back alone, the good rows are kept. `progress` is called after every row.
/// With `dry_run` everything is rolled back at the end, so the report says what would happen.
pub async fn apply_rows<E: Entity>(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    actor: Actor<'_>,
    rows: Rows,
    dry_run: bool,
    mut progress: impl FnMut() + Send,
) -> AppResult<(Vec<RowResult>, Summary)> {
    let mut tx = crate::db::begin_write(pool).await?;
    let mut results = Vec::with_capacity(rows.len());
    let mut summary = Summary::default();
    for (row, external_id, values) in rows {
        let mut savepoint = tx.begin().await?;
        let result = match apply::<E>(&mut savepoint, agency_id, actor, &external_id, &values).await
        {
            Ok(done) => {
                savepoint.commit().await?;
                RowResult {
                    row,
                    external_id,
                    status: done.outcome.as_str(),
                    id: Some(done.id),
                    errors: FieldErrors::default(),
                }
            }
            Err(AppError::Invalid(errors)) => {
                savepoint.rollback().await?;
                RowResult {
                    row,
                    external_id,
                    status: "invalid",
                    id: None,
                    errors,
                }
            }
            Err(other) => return Err(other),
        };
        summary.count(&result);
        results.push(result);
        progress();
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok((results, summary))
}

/// A field problem as an error, for references and state checks found while writing.
pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    AppError::Invalid(errors)
}

/// Turns a unique-constraint violation (two writers creating the same external id at once)
/// into a field error.
pub fn unique_as_invalid(err: sqlx::Error) -> AppError {
    if crate::db::is_unique_violation(&err) {
        invalid(
            "external_id",
            "Another row with this external id was written at the same time; send it again.",
        )
    } else {
        err.into()
    }
}
