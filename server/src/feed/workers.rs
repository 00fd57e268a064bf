//! Workers by external id: `first_name`, `last_name`, `email`, `recruiter_email`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::Fields;
use super::record::{self, Kind, Record};
use super::{Entity, Upserted};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Workers;

const SHOWN: &[(&str, Kind)] = &[
    ("first_name", Kind::Text),
    ("last_name", Kind::Text),
    ("email", Kind::Text),
    ("recruiter_email", Kind::Text),
    ("created_at", Kind::Time),
    ("updated_at", Kind::Time),
];

impl Entity for Workers {
    const KIND: &'static str = "worker";
    const PLURAL: &'static str = "workers";

    async fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Upserted> {
        let mut fields = Fields::new(row);
        let first_name = fields.required_text("first_name", "first name", 100);
        let last_name = fields.required_text("last_name", "last name", 100);
        let email = fields.email("email", "email address");
        let recruiter_email = fields.email("recruiter_email", "recruiter's email address");
        fields.finish()?;
        let label = format!("{first_name} {last_name}");
        let record = Record {
            table: "workers",
            created_at: true,
            updated_at: true,
            columns: vec![
                ("first_name", first_name.into()),
                ("last_name", last_name.into()),
                ("email", email.into()),
                ("recruiter_email", recruiter_email.into()),
            ],
        };
        let (id, outcome) = record::upsert(conn, agency_id, external_id, &record).await?;
        Ok(Upserted { id, outcome, label })
    }

    async fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> AppResult<Option<Value>> {
        let row = record::show(conn, agency_id, external_id, "workers", SHOWN).await?;
        Ok(row.map(Value::Object))
    }
}
