//! Email waiting to be delivered.

use sqlx::AnyConnection;

use super::Timestamp;

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
