//! Field-service jobs carried out for a client.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug)]
pub struct NewJob<'a> {
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub number: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// `scheduled`, `in-progress`, `completed` or `cancelled`.
    pub status: &'a str,
    pub scheduled_on: Option<&'a str>,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewJob<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO jobs (agency_id, client_id, worksite_id, number, title, description, status, \
         scheduled_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.worksite_id)
    .bind(new.number)
    .bind(new.title)
    .bind(new.description)
    .bind(new.status)
    .bind(new.scheduled_on)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

/// Whether one of the agency's jobs already has this number.
pub async fn number_taken<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    number: &str,
) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE agency_id = $1 AND number = $2 LIMIT 1")
            .bind(agency_id)
            .bind(number)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JobInfo {
    pub id: i64,
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub client_name: String,
    pub worksite_name: Option<String>,
    pub number: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub scheduled_on: Option<String>,
    pub updated_at: Timestamp,
}

fn select(client_ids: &[i64], condition: &str) -> String {
    format!(
        "SELECT j.id, j.client_id, j.worksite_id, c.name AS client_name, s.name AS worksite_name, j.number, j.title, \
         j.description, j.status, j.scheduled_on, j.updated_at FROM jobs j \
         JOIN clients c ON c.id = j.client_id LEFT JOIN worksites s ON s.id = j.worksite_id \
         WHERE j.agency_id = $1 AND j.client_id IN ({}) {condition}",
        super::scope::client_list(client_ids)
    )
}

/// The clients' jobs, latest scheduled first.
pub async fn list_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<JobInfo>> {
    let sql = select(client_ids, "ORDER BY j.scheduled_on DESC, j.id DESC");
    super::scope::all(db, sql, agency_id).await
}

pub async fn get_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<JobInfo>> {
    super::scope::one(db, select(client_ids, "AND j.id = $2"), agency_id, id).await
}
