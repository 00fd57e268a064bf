//! Field-service jobs by external id: `client`, `worksite` (external ids), `number`, `title`,
//! `description`, `status`, `scheduled_on`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::Fields;
use super::{Checked, Entity};
use crate::db::records::{Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Jobs;

const STATUSES: &[&str] = &["scheduled", "in-progress", "completed", "cancelled"];

impl Entity for Jobs {
    const KIND: &'static str = "job";
    const PLURAL: &'static str = "jobs";
    const TABLE: &'static str = "jobs";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("client_id", Kind::Int),
        ("worksite_id", Kind::Int),
        ("number", Kind::Text),
        ("title", Kind::Text),
        ("description", Kind::Text),
        ("status", Kind::Text),
        ("scheduled_on", Kind::Text),
        ("updated_at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        _external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let (client, worksite) = fields.client_and_worksite(conn, agency_id).await?;
        let number = fields.required_text("number", "job number", 50);
        let title = fields.required_text("title", "title", 200);
        let description = fields.text("description", "description", 4000);
        let status = fields.choice("status", "status", STATUSES, "scheduled");
        let scheduled_on = fields.date("scheduled_on", "scheduled date");
        fields.finish()?;
        let record = Record {
            table: Self::TABLE,
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
        Ok(Checked {
            record,
            label: number,
        })
    }
}
