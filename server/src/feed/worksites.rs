//! Worksites by external id: `client` (its external id), `name`, `address`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::record::{self, Kind, Record};
use super::{Entity, Upserted};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Worksites;

const SHOWN: &[(&str, Kind)] = &[
    ("client_id", Kind::Int),
    ("name", Kind::Text),
    ("address", Kind::Text),
    ("created_at", Kind::Time),
];

impl Entity for Worksites {
    const KIND: &'static str = "worksite";
    const PLURAL: &'static str = "worksites";

    async fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Upserted> {
        let mut fields = Fields::new(row);
        let client = fields
            .reference(conn, agency_id, "client", Reference::Client, true)
            .await?;
        let name = fields.required_text("name", "worksite name", 200);
        let address = fields.text("address", "address", 500);
        fields.finish()?;
        let record = Record {
            table: "worksites",
            created_at: true,
            updated_at: false,
            columns: vec![
                ("client_id", client.into()),
                ("name", name.clone().into()),
                ("address", address.into()),
            ],
        };
        let (id, outcome) = record::upsert(conn, agency_id, external_id, &record).await?;
        Ok(Upserted {
            id,
            outcome,
            label: name,
        })
    }

    async fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> AppResult<Option<Value>> {
        let row = record::show(conn, agency_id, external_id, "worksites", SHOWN).await?;
        Ok(row.map(Value::Object))
    }
}
