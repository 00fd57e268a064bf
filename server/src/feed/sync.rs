//! Reading back what changed in the portal — approvals, rejections with their reasons, work
//! requests — without webhooks: `GET …?updated_since=` then `?cursor=` until `has_more` is
//! false; keep the last `cursor` for the next sync.
//!
//! Rows come in `(updated_at, id)` order and the cursor holds both, so rows sharing a second
//! are never skipped between pages. Rows changed in the last [`SETTLE_SECONDS`] are held
//! back: a row changed in the second being read (or by a transaction still committing) would
//! otherwise sort before a cursor already handed out and be missed.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::fields::parse_instant;
use crate::db::Timestamp;
use crate::db::changes::{self, Changes};
use crate::error::{AppError, AppResult};

/// How long a change waits before a sync sees it.
pub const SETTLE_SECONDS: i64 = 2;
pub const DEFAULT_LIMIT: i64 = 500;
pub const MAX_LIMIT: i64 = 1000;

/// Where a sync page starts: after this `(updated_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub updated_at: i64,
    pub id: i64,
}

impl Cursor {
    /// From `cursor` (as handed out) or `updated_since` (RFC 3339 or Unix seconds,
    /// inclusive); from the beginning when neither is given.
    pub fn from_query(cursor: Option<&str>, updated_since: Option<&str>) -> AppResult<Self> {
        if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
            let parsed = cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.parse().ok()?)));
            return parsed
                .map(|(updated_at, id)| Self { updated_at, id })
                .ok_or_else(|| {
                    AppError::BadRequest("The cursor is not one this server handed out.".into())
                });
        }
        let since = match updated_since.filter(|s| !s.is_empty()) {
            Some(text) => parse_instant(&Value::String(text.to_owned())).ok_or_else(|| {
                AppError::BadRequest(
                    "updated_since must be an RFC 3339 time (2026-11-02T08:00:00Z) or Unix seconds."
                        .into(),
                )
            })?,
            None => i64::MIN / 2,
        };
        Ok(Self {
            updated_at: since,
            id: 0,
        })
    }

    pub fn to_text(self) -> String {
        format!("{}.{}", self.updated_at, self.id)
    }
}

/// One page of a sync: rows, the cursor after the last, and whether more are waiting.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Value>,
    pub next: Cursor,
    pub has_more: bool,
}

fn clamp_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Timesheets changed after `after`, with the decision and the history.
pub async fn timesheets(
    conn: &mut AnyConnection,
    agency_id: i64,
    after: Cursor,
    limit: Option<i64>,
) -> AppResult<Page> {
    let limit = clamp_limit(limit);
    let rows = changed_rows(conn, Changes::Timesheets, agency_id, after, limit).await?;
    let mut page = paginate(rows, after, limit, timesheet_json)?;
    let ids: Vec<i64> = page
        .rows
        .iter()
        .filter_map(|row| row["id"].as_i64())
        .collect();
    let mut events = timesheet_events(conn, agency_id, &ids).await?;
    for row in &mut page.rows {
        let id = row["id"].as_i64();
        let mine: Vec<Value> = events
            .iter_mut()
            .filter(|(timesheet, _)| Some(*timesheet) == id)
            .map(|(_, event)| event.take())
            .collect();
        row["events"] = Value::Array(mine);
    }
    Ok(page)
}

/// Rows changed after `after` and settled, in `(updated_at, id)` order, one more than
/// `limit` to tell whether more are waiting.
async fn changed_rows(
    conn: &mut AnyConnection,
    changes: Changes,
    agency_id: i64,
    after: Cursor,
    limit: i64,
) -> AppResult<Vec<AnyRow>> {
    let settled = Timestamp::now().0 - SETTLE_SECONDS;
    let rows = changes
        .after(
            conn,
            agency_id,
            (after.updated_at, after.id),
            settled,
            limit + 1,
        )
        .await?;
    Ok(rows)
}

fn paginate(
    rows: Vec<AnyRow>,
    after: Cursor,
    limit: i64,
    to_json: fn(&AnyRow) -> sqlx::Result<Value>,
) -> AppResult<Page> {
    let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    let mut next = after;
    let mut out = Vec::new();
    for row in rows.iter().take(usize::try_from(limit).unwrap_or(0)) {
        next = Cursor {
            updated_at: row.try_get("updated_at")?,
            id: row.try_get(0)?,
        };
        out.push(to_json(row)?);
    }
    Ok(Page {
        rows: out,
        next,
        has_more,
    })
}

fn time(row: &AnyRow, index: usize) -> sqlx::Result<Value> {
    let at: Option<i64> = row.try_get(index)?;
    Ok(json!(at.map(|at| Timestamp(at).to_string())))
}

/// A portal user as `{id, name, email}` from the id at `index` and the first name, last
/// name and email after it; null when the id is.
fn person(row: &AnyRow, index: usize) -> sqlx::Result<Value> {
    let id: Option<i64> = row.try_get(index)?;
    Ok(match id {
        Some(id) => json!({
            "id": id,
            "name": format!(
                "{} {}",
                row.try_get::<String, _>(index + 1)?,
                row.try_get::<String, _>(index + 2)?
            ),
            "email": row.try_get::<String, _>(index + 3)?,
        }),
        None => Value::Null,
    })
}

fn timesheet_json(row: &AnyRow) -> sqlx::Result<Value> {
    let decided_by = person(row, 15)?;
    Ok(json!({
        "id": row.try_get::<i64, _>(0)?,
        "external_id": row.try_get::<Option<String>, _>(1)?,
        "worker": row.try_get::<Option<String>, _>(2)?,
        "client": row.try_get::<Option<String>, _>(3)?,
        "worksite": row.try_get::<Option<String>, _>(4)?,
        "work_date": row.try_get::<String, _>(5)?,
        "start_time": row.try_get::<String, _>(6)?,
        "end_time": row.try_get::<String, _>(7)?,
        "break_minutes": row.try_get::<i64, _>(8)?,
        "minutes_worked": row.try_get::<i64, _>(9)?,
        "charge_rate_cents": row.try_get::<i64, _>(10)?,
        "charge_amount_cents": row.try_get::<i64, _>(11)?,
        "pay_rate_cents": row.try_get::<i64, _>(12)?,
        "status": row.try_get::<String, _>(13)?,
        "rejection_reason": row.try_get::<Option<String>, _>(14)?,
        "decided_by": decided_by,
        "decided_at": time(row, 19)?,
        "created_at": time(row, 20)?,
        "updated_at": time(row, 21)?,
        "decided_by_staff": row.try_get::<Option<String>, _>(22)?,
        "decision_note": row.try_get::<Option<String>, _>(23)?,
    }))
}

/// The history of the given timesheets, oldest first, as `(timesheet id, event)`.
pub async fn timesheet_events(
    conn: &mut AnyConnection,
    agency_id: i64,
    ids: &[i64],
) -> AppResult<Vec<(i64, Value)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = changes::timesheet_events(conn, agency_id, ids).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get(0)?,
                json!({
                    "action": row.try_get::<String, _>(1)?,
                    "actor_kind": row.try_get::<String, _>(2)?,
                    "actor_name": row.try_get::<String, _>(3)?,
                    "reason": row.try_get::<Option<String>, _>(4)?,
                    "at": time(row, 5)?,
                }),
            ))
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

/// Work requests filed (or changed) after `after`, with their updates.
pub async fn work_requests(
    conn: &mut AnyConnection,
    agency_id: i64,
    after: Cursor,
    limit: Option<i64>,
) -> AppResult<Page> {
    let limit = clamp_limit(limit);
    let rows = changed_rows(conn, Changes::WorkRequests, agency_id, after, limit).await?;
    let mut page = paginate(rows, after, limit, work_request_json)?;
    for row in &mut page.rows {
        let id = row["id"].as_i64().unwrap_or_default();
        let updates = changes::work_request_updates(conn, agency_id, id).await?;
        let updates = updates
            .iter()
            .map(|u| {
                Ok(json!({
                    "author_kind": u.try_get::<String, _>(0)?,
                    "author_name": u.try_get::<String, _>(1)?,
                    "body": u.try_get::<String, _>(2)?,
                    "status": u.try_get::<Option<String>, _>(3)?,
                    "at": time(u, 4)?,
                    "internal": u.try_get::<i64, _>(5)? != 0,
                }))
            })
            .collect::<sqlx::Result<Vec<Value>>>()?;
        row["updates"] = Value::Array(updates);
    }
    Ok(page)
}

fn work_request_json(row: &AnyRow) -> sqlx::Result<Value> {
    let filed_by = person(row, 3)?;
    Ok(json!({
        "id": row.try_get::<i64, _>(0)?,
        "client": row.try_get::<Option<String>, _>(1)?,
        "worksite": row.try_get::<Option<String>, _>(2)?,
        "filed_by": filed_by,
        "title": row.try_get::<String, _>(7)?,
        "description": row.try_get::<String, _>(8)?,
        "needed_by": row.try_get::<Option<String>, _>(9)?,
        "workers_needed": row.try_get::<Option<i64>, _>(10)?,
        "urgency": row.try_get::<String, _>(11)?,
        "status": row.try_get::<String, _>(12)?,
        "created_at": time(row, 13)?,
        "updated_at": time(row, 14)?,
        "scheduled_for": row.try_get::<Option<String>, _>(15)?,
        "assigned_to": row.try_get::<Option<String>, _>(16)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_since_is_inclusive() -> AppResult<()> {
        let cursor = Cursor {
            updated_at: 1_700_000_000,
            id: 42,
        };
        assert_eq!(Cursor::from_query(Some(&cursor.to_text()), None)?, cursor);
        let since = Cursor::from_query(None, Some("2023-11-14T22:13:20Z"))?;
        assert_eq!((since.updated_at, since.id), (1_700_000_000, 0));
        assert!(Cursor::from_query(Some("nonsense"), None).is_err());
        assert!(Cursor::from_query(None, Some("last tuesday")).is_err());
        Ok(())
    }
}
