//! Clock-ins and clock-outs: who is on site now.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug)]
pub struct NewClockEvent {
    pub worker_id: i64,
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub clock_in: bool,
    pub at: Timestamp,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewClockEvent,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO clock_events (agency_id, worker_id, client_id, worksite_id, kind, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(agency_id)
    .bind(new.worker_id)
    .bind(new.client_id)
    .bind(new.worksite_id)
    .bind(if new.clock_in { "in" } else { "out" })
    .bind(new.at)
    .fetch_one(db)
    .await
}

/// A worker whose last clock event at a client is a clock-in: on site now.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OnSite {
    pub worker_id: i64,
    pub worker_name: String,
    pub client_id: i64,
    pub client_name: String,
    pub worksite_id: Option<i64>,
    pub worksite_name: Option<String>,
    pub since: Timestamp,
}

/// Who is clocked in at the clients, by client, worksite then name.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn on_site<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<OnSite>> {
    let scope = format!(
        "AND e.client_id IN ({})",
        super::scope::client_list(client_ids)
    );
    super::scope::all(db, on_site_sql(&scope), agency_id).await
}

/// Who is clocked in at any of the agency's clients (the manage side).
pub async fn on_site_everywhere<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
) -> sqlx::Result<Vec<OnSite>> {
    super::scope::all(db, on_site_sql(""), agency_id).await
}

fn on_site_sql(scope: &str) -> String {
    format!(
        "SELECT e.worker_id, w.first_name || ' ' || w.last_name AS worker_name, e.client_id, \
         c.name AS client_name, e.worksite_id, s.name AS worksite_name, e.at AS since \
         FROM clock_events e JOIN workers w ON w.id = e.worker_id \
         JOIN clients c ON c.id = e.client_id LEFT JOIN worksites s ON s.id = e.worksite_id \
         WHERE e.agency_id = $1 {scope} AND e.kind = 'in' \
         AND NOT EXISTS (SELECT 1 FROM clock_events later WHERE later.agency_id = e.agency_id \
           AND later.client_id = e.client_id AND later.worker_id = e.worker_id \
           AND (later.at > e.at OR (later.at = e.at AND later.id > e.id))) \
         ORDER BY c.name, s.name, w.last_name, w.first_name"
    )
}
