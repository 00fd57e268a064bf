//! Field-service quotes by external id: `client` (external id), `number`, `title`, `status`,
//! `total_cents`, `valid_until`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Checked, Entity};
use crate::db::records::{Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Quotes;

const STATUSES: &[&str] = &["draft", "sent", "accepted", "declined", "expired"];

impl Entity for Quotes {
    const KIND: &'static str = "quote";
    const PLURAL: &'static str = "quotes";
    const TABLE: &'static str = "quotes";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("client_id", Kind::Int),
        ("number", Kind::Text),
        ("title", Kind::Text),
        ("status", Kind::Text),
        ("total_cents", Kind::Int),
        ("valid_until", Kind::Text),
        ("updated_at", Kind::Time),
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
        let number = fields.required_text("number", "quote number", 50);
        let title = fields.required_text("title", "title", 200);
        let status = fields.choice("status", "status", STATUSES, "sent");
        let total_cents = fields.required_int("total_cents", "total", 0, i64::MAX / 2);
        let valid_until = fields.date("valid_until", "valid-until date");
        fields.finish()?;
        let record = Record {
            table: Self::TABLE,
            created_at: true,
            updated_at: true,
            columns: vec![
                ("client_id", client.into()),
                ("number", number.clone().into()),
                ("title", title.into()),
                ("status", status.into()),
                ("total_cents", total_cents.into()),
                ("valid_until", valid_until.into()),
            ],
        };
        Ok(Checked {
            record,
            label: number,
        })
    }
}
