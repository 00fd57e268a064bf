//! Clock events by external id: `worker`, `client`, `worksite` (external ids), `kind`
//! (`in` or `out`) and `at` (RFC 3339 or Unix seconds). They feed the portal's "on site now".

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Checked, Entity};
use crate::db::Timestamp;
use crate::db::records::{Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct ClockEvents;

impl Entity for ClockEvents {
    const KIND: &'static str = "clock event";
    const PLURAL: &'static str = "clock-events";
    const TABLE: &'static str = "clock_events";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("worker_id", Kind::Int),
        ("client_id", Kind::Int),
        ("worksite_id", Kind::Int),
        ("kind", Kind::Text),
        ("at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        _external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let worker = fields
            .reference(conn, agency_id, "worker", Reference::Worker, true)
            .await?;
        let (client, worksite) = fields.client_and_worksite(conn, agency_id).await?;
        let kind = fields.choice("kind", "kind", &["in", "out"], "");
        if kind.is_empty() {
            fields.errors.add("kind", "Enter the kind: in or out.");
        }
        let at = fields.instant("at", "time");
        fields.finish()?;
        let label = format!("clock-{kind} at {}", Timestamp(at));
        let record = Record {
            table: Self::TABLE,
            created_at: false,
            updated_at: false,
            columns: vec![
                ("worker_id", worker.into()),
                ("client_id", client.into()),
                ("worksite_id", worksite.into()),
                ("kind", kind.into()),
                ("at", at.into()),
            ],
        };
        Ok(Checked { record, label })
    }
}
