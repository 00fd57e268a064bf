//! Email waiting to be delivered, and the record of what was.
//!
//! Rows move `queued` → `sent`, or `queued` → `failed` after too many attempts or a permanent
//! refusal. A worker claims due rows by setting `locked_until` (a lease): other workers skip a
//! leased row, and a row whose worker died becomes due again when its lease runs out.

use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use super::{Backend, Db, Timestamp};

#[derive(Debug)]
pub struct NewEmail<'a> {
    pub template: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
}

/// Queues a rendered email, due now.
#[tracing::instrument(skip_all, fields(agency = agency_id, template = new.template))]
pub async fn enqueue(
    conn: &mut AnyConnection,
    agency_id: i64,
    new: &NewEmail<'_>,
) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    sqlx::query_scalar(
        "INSERT INTO outbox (agency_id, template, recipient, subject, body_text, body_html, \
         status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7) RETURNING id",
    )
    .bind(agency_id)
    .bind(new.template)
    .bind(new.recipient)
    .bind(new.subject)
    .bind(new.body_text)
    .bind(new.body_html)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// An email a worker has claimed and now delivers. `attempts` already counts this attempt,
/// so a worker that dies mid-send still uses one up.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub agency_id: i64,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
}

/// Which rows a claim takes: due, queued, not leased by a live worker; oldest first.
const DUE_ROWS: &str = "SELECT id FROM outbox \
     WHERE status = 'queued' AND next_attempt_at <= $2 \
     AND (locked_until IS NULL OR locked_until <= $2) \
     ORDER BY next_attempt_at, id LIMIT $3";

/// Leases up to `limit` due emails until `lease_until` in one statement.
///
/// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several server processes claim at once
/// without waiting on each other or taking the same row. SQLite has one writer at a time,
/// so the plain statement is already exclusive.
#[tracing::instrument(skip_all)]
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> sqlx::Result<Vec<Claimed>> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id IN ({DUE_ROWS}{lock}) \
         RETURNING id, agency_id, template, recipient, subject, body_text, body_html, attempts"
    );
    let mut claimed: Vec<Claimed> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&db.pool)
        .await?;
    claimed.sort_by_key(|row| row.id);
    Ok(claimed)
}

#[tracing::instrument(skip_all, fields(id))]
pub async fn mark_sent(pool: &AnyPool, id: i64, at: Timestamp) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $2, locked_until = NULL, \
         last_error = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Gives back claimed emails that were not tried (the worker is stopping): due at once for
/// the next worker, and the attempt the claim counted is returned.
#[tracing::instrument(skip_all)]
pub async fn release(pool: &AnyPool, ids: &[i64]) -> sqlx::Result<()> {
    for id in ids {
        sqlx::query(
            "UPDATE outbox SET locked_until = NULL, attempts = attempts - 1 \
             WHERE id = $1 AND status = 'queued'",
        )
        .bind(id)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Records a failed attempt: back to `queued` until `retry_at`, or `failed` for good when
/// `retry_at` is `None`.
#[tracing::instrument(skip_all, fields(id))]
pub async fn mark_attempt_failed(
    pool: &AnyPool,
    id: i64,
    error: &str,
    retry_at: Option<Timestamp>,
) -> sqlx::Result<()> {
    let (status, next) = match retry_at {
        Some(at) => ("queued", Some(at)),
        None => ("failed", None),
    };
    sqlx::query(
        "UPDATE outbox SET status = $2, last_error = $3, \
         next_attempt_at = COALESCE($4, next_attempt_at), locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(next)
    .execute(pool)
    .await
    .map(|_| ())
}

/// `queued`, `sent` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Sent,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What the staff outbox view narrows the list to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    /// Part of the recipient's address or of the subject, any case.
    pub search: Option<String>,
}

/// One page of a list: `number` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

impl Page {
    /// The sizes a person may pick, as in the portal-user list.
    pub const SIZES: [u32; 4] = [10, 25, 50, 100];

    /// A page from request parameters, falling back to the first page of 25.
    pub fn new(number: Option<u32>, size: Option<u32>) -> Self {
        let size = size
            .filter(|s| Self::SIZES.contains(s))
            .unwrap_or(Self::SIZES[1]);
        Self {
            number: number.unwrap_or(1).max(1),
            size,
        }
    }

    pub fn offset(self) -> i64 {
        i64::from(self.number - 1) * i64::from(self.size)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.size)
    }
}

/// An outbox row as staff see it. The bodies stay out: a welcome email may carry a password.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// One page of an agency's outbox, newest first, and how many rows match in all.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub entries: Vec<OutboxEntry>,
    pub total: i64,
}

/// How many emails each status holds, across every agency (for `/metrics`).
pub async fn depth(pool: &AnyPool) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")
        .fetch_all(pool)
        .await
}

#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn list(
    pool: &AnyPool,
    agency_id: i64,
    filter: &Filter,
    page: Page,
) -> sqlx::Result<Listing> {
    let status = filter.status.map(Status::as_str);
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.to_lowercase()));
    const WHERE: &str = "WHERE agency_id = $1 AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR lower(recipient) LIKE $3 OR lower(subject) LIKE $3)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM outbox {WHERE}"
    )))
    .bind(agency_id)
    .bind(status)
    .bind(search.as_deref())
    .fetch_one(pool)
    .await?;
    let entries = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, template, recipient, subject, status, attempts, last_error, created_at, \
         next_attempt_at, sent_at FROM outbox {WHERE} \
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(agency_id)
    .bind(status)
    .bind(search.as_deref())
    .bind(i64::from(page.size))
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok(Listing { entries, total })
}

/// Sends an email again: a failed or queued one is due now with a fresh count of attempts;
/// a sent one is copied into a new queued row, so the record of the first delivery stays.
/// `None` when the agency has no such email.
#[tracing::instrument(skip_all, fields(agency = agency_id, id))]
pub async fn resend(pool: &AnyPool, agency_id: i64, id: i64) -> sqlx::Result<Option<i64>> {
    let now = Timestamp::now();
    let requeued = sqlx::query(
        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $3, \
         last_error = NULL, locked_until = NULL \
         WHERE agency_id = $1 AND id = $2 AND status IN ('queued', 'failed')",
    )
    .bind(agency_id)
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    if requeued.rows_affected() > 0 {
        return Ok(Some(id));
    }
    sqlx::query_scalar(
        "INSERT INTO outbox (agency_id, template, recipient, subject, body_text, body_html, \
         status, attempts, next_attempt_at, created_at) \
         SELECT agency_id, template, recipient, subject, body_text, body_html, 'queued', 0, \
         $3, $3 FROM outbox WHERE agency_id = $1 AND id = $2 AND status = 'sent' RETURNING id",
    )
    .bind(agency_id)
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// How many of the agency's emails failed for good (the staff home links to them).
pub async fn failed_count<'e>(db: impl sqlx::AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE agency_id = $1 AND status = 'failed'")
        .bind(agency_id)
        .fetch_one(db)
        .await
}
