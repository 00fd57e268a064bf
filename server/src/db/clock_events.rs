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
