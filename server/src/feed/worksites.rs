//! Worksites by external id: `client` (its external id), `name`, `address`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Checked, Entity};
use crate::db::records::{Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Worksites;

impl Entity for Worksites {
    const KIND: &'static str = "worksite";
    const PLURAL: &'static str = "worksites";
    const TABLE: &'static str = "worksites";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("client_id", Kind::Int),
        ("name", Kind::Text),
        ("address", Kind::Text),
        ("created_at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        _external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let client = fields
            .reference(conn, agency_id, "client", Reference::Client, true)
            .await?;
        let name = fields.required_text("name", "worksite name", 200);
        let address = fields.text("address", "address", 500);
        fields.finish()?;
        let record = Record {
            table: Self::TABLE,
            created_at: true,
            updated_at: false,
            columns: vec![
                ("client_id", client.into()),
                ("name", name.clone().into()),
                ("address", address.into()),
            ],
        };
        Ok(Checked {
            record,
            label: name,
        })
    }
}
