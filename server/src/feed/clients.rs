//! Clients by external id, so the back-office can name them in every other row:
//! `name`, `email`, `phone`, `address`, `notes`, `portal_enabled`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::Fields;
use super::{Checked, Entity};
use crate::db::clients;
use crate::db::records::{self as record, Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Clients;

impl Entity for Clients {
    const KIND: &'static str = "client";
    const PLURAL: &'static str = "clients";
    const TABLE: &'static str = "clients";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("name", Kind::Text),
        ("email", Kind::Text),
        ("phone", Kind::Text),
        ("address", Kind::Text),
        ("notes", Kind::Text),
        ("portal_enabled", Kind::Int),
        ("archived_at", Kind::Time),
        ("updated_at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let name = fields.required_text("name", "company name", 200);
        let email = fields.email("email", "email address");
        let phone = fields.text("phone", "phone number", 40);
        let address = fields.text("address", "address", 500);
        let notes = fields.text("notes", "notes", 4000);
        let portal_enabled = fields.flag("portal_enabled", "portal switch", true);
        if !name.is_empty() {
            let current = record::id_of(conn, Self::TABLE, agency_id, external_id).await?;
            if clients::name_taken(&mut *conn, agency_id, &name, current).await? {
                fields
                    .errors
                    .add("name", "Another client already has this name.");
            }
        }
        fields.finish()?;
        let record = Record {
            table: Self::TABLE,
            created_at: true,
            updated_at: true,
            columns: vec![
                ("name", name.clone().into()),
                ("email", email.into()),
                ("phone", phone.into()),
                ("address", address.into()),
                ("notes", notes.into()),
                ("portal_enabled", i64::from(portal_enabled).into()),
            ],
        };
        Ok(Checked {
            record,
            label: name,
        })
    }
}
