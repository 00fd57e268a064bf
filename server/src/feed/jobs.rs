//! Field-service jobs by external id: `client`, `worksite` (external ids), `number`, `title`,
//! `description`, `status`, `scheduled_on`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::Fields;
use super::record::{self, Kind, Record};
use super::{Entity, Upserted};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Jobs;

const STATUSES: &[&str] = &["scheduled", "in-progress", "completed", "cancelled"];

const SHOWN: &[(&str, Kind)] = &[
    ("client_id", Kind::Int),
    ("worksite_id", Kind::Int),
    ("number", Kind::Text),
    ("title", Kind::Text),
    ("description", Kind::Text),
    ("status", Kind::Text),
    ("scheduled_on", Kind::Text),
    ("updated_at", Kind::Time),
];

impl Entity for Jobs {
    const KIND: &'static str = "job";
    const PLURAL: &'static str = "jobs";

    async fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Upserted> {
        let mut fields = Fields::new(row);
        let (client, worksite) = fields.client_and_worksite(conn, agency_id).await?;
        let number = fields.required_text("number", "job number", 50);
        let title = fields.required_text("title", "title", 200);
        let description = fields.text("description", "description", 4000);
        let status = fields.choice("status", "status", STATUSES, "scheduled");
        let scheduled_on = fields.date("scheduled_on", "scheduled date");
        fields.finish()?;
        let record = Record {
            table: "jobs",
            created_at: true,
            updated_at: true,
            columns: vec![
                ("client_id", client.into()),
                ("worksite_id", worksite.into()),
                ("number", number.clone().into()),
                ("title", title.into()),
                ("description", description.into()),
                ("status", status.into()),
                ("scheduled_on", scheduled_on.into()),
            ],
        };
        let (id, outcome) = record::upsert(conn, agency_id, external_id, &record).await?;
        Ok(Upserted {
            id,
            outcome,
            label: number,
        })
    }

    async fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> AppResult<Option<Value>> {
        let row = record::show(conn, agency_id, external_id, "jobs", SHOWN).await?;
        Ok(row.map(Value::Object))
    }
}
