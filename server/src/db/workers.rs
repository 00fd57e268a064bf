//! The agency's workers (temps, technicians) whose time the client approves.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Default)]
pub struct NewWorker<'a> {
    pub external_id: Option<&'a str>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    /// Who at the agency looks after this worker; told of approvals and rejections.
    pub recruiter_email: &'a str,
}

#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewWorker<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO workers (agency_id, external_id, first_name, last_name, email, \
         recruiter_email, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.external_id)
    .bind(new.first_name.trim())
    .bind(new.last_name.trim())
    .bind(crate::email::normalize(new.email))
    .bind(crate::email::normalize(new.recruiter_email))
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}
