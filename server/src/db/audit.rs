//! The audit log: every sign-in, sign-out, lockout, password or MFA change, and every staff
//! action on users. Never holds secrets.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// `staff`, `portal`, `system` or `anonymous`.
    pub kind: &'a str,
    pub id: Option<i64>,
    pub label: &'a str,
    pub ip: &'a str,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    pub kind: Option<&'a str>,
    pub id: Option<i64>,
    pub label: Option<&'a str>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<i64>,
    pub target_label: Option<String>,
    pub ip: String,
    pub detail: String,
}

pub async fn record<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    actor: Actor<'_>,
    action: &str,
    target: Target<'_>,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (agency_id, at, actor_kind, actor_id, actor_label, action, \
         target_kind, target_id, target_label, ip, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(agency_id)
    .bind(Timestamp::now())
    .bind(actor.kind)
    .bind(actor.id)
    .bind(actor.label)
    .bind(action)
    .bind(target.kind)
    .bind(target.id)
    .bind(target.label)
    .bind(actor.ip)
    .bind(detail)
    .execute(db)
    .await
    .map(|_| ())
}

/// Filters for the audit view; empty fields match everything.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
}

/// The newest entries first, `limit` at a time.
pub async fn list<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "SELECT id, at, actor_kind, actor_id, actor_label, action, target_kind, target_id, \
         target_label, ip, detail FROM audit_log WHERE agency_id = $1 \
         AND ($2 = '' OR action = $2) AND ($3 = '' OR lower(actor_label) LIKE $4) \
         ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6",
    )
    .bind(agency_id)
    .bind(&filter.action)
    .bind(&filter.actor)
    .bind(format!("%{}%", filter.actor.to_lowercase()))
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}
