//! Workers by external id: `first_name`, `last_name`, `email`, `recruiter_email`.

use serde_json::{Map, Value};
use sqlx::AnyConnection;

use super::fields::Fields;
use super::{Checked, Entity};
use crate::db::records::{Kind, Record};
use crate::error::AppResult;

#[derive(Debug)]
pub struct Workers;

impl Entity for Workers {
    const KIND: &'static str = "worker";
    const PLURAL: &'static str = "workers";
    const TABLE: &'static str = "workers";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("first_name", Kind::Text),
        ("last_name", Kind::Text),
        ("email", Kind::Text),
        ("recruiter_email", Kind::Text),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
    ];

    async fn check(
        _conn: &mut AnyConnection,
        _agency_id: i64,
        _external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        let mut fields = Fields::new(row);
        let first_name = fields.required_text("first_name", "first name", 100);
        let last_name = fields.required_text("last_name", "last name", 100);
        let email = fields.email("email", "email address");
        let recruiter_email = fields.email("recruiter_email", "recruiter's email address");
        fields.finish()?;
        let label = format!("{first_name} {last_name}");
        let record = Record {
            table: Self::TABLE,
            created_at: true,
            updated_at: true,
            columns: vec![
                ("first_name", first_name.into()),
                ("last_name", last_name.into()),
                ("email", email.into()),
                ("recruiter_email", recruiter_email.into()),
            ],
        };
        Ok(Checked { record, label })
    }
}
