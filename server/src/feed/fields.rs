//! Reading one row's named values — a JSON object, or a CSV record turned into one — with a
//! problem per field. Numbers may come as JSON numbers or as text (CSV); an empty text is the
//! same as a missing value.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;

use crate::error::AppResult;
use crate::forms::FieldErrors;

#[derive(Debug)]
pub struct Fields<'a> {
    row: &'a Map<String, Value>,
    read: Vec<&'static str>,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(row: &'a Map<String, Value>) -> Self {
        Self {
            row,
            read: vec!["external_id"],
            errors: FieldErrors::default(),
        }
    }

    /// The raw value, `None` when missing, null or empty text.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.read.push(name);
        match self.row.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(value) => Some(value),
        }
    }

    /// Text of at most `max` characters, trimmed; empty when missing, and when refused for a
    /// NUL character (so no check run before [`Fields::finish`] sends it to the database).
    pub fn text(&mut self, name: &'static str, label: &str, max: usize) -> String {
        match self.raw(name) {
            None => String::new(),
            Some(Value::String(text)) => {
                self.errors.at_most(name, label, text, max);
                if text.contains('\0') {
                    return String::new();
                }
                text.trim().to_owned()
            }
            Some(_) => {
                self.errors.add(name, format!("The {label} must be text."));
                String::new()
            }
        }
    }

    /// Text that must be there.
    pub fn required_text(&mut self, name: &'static str, label: &str, max: usize) -> String {
        let text = self.text(name, label, max);
        if text.is_empty() {
            self.errors.add(name, format!("Enter the {label}."));
        }
        text
    }

    /// An optional email address, lower-cased.
    pub fn email(&mut self, name: &'static str, label: &str) -> String {
        let text = self.text(name, label, 254);
        self.errors.optional_email(name, &text);
        text.to_lowercase()
    }

    /// A whole number within `min..=max`, `None` when missing.
    pub fn int(&mut self, name: &'static str, label: &str, min: i64, max: i64) -> Option<i64> {
        let number = match self.raw(name)? {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.errors.add(
                    name,
                    format!("The {label} must be between {min} and {max}."),
                );
                None
            }
            None => {
                self.errors
                    .add(name, format!("The {label} must be a whole number."));
                None
            }
        }
    }

    /// A whole number that must be there.
    pub fn required_int(&mut self, name: &'static str, label: &str, min: i64, max: i64) -> i64 {
        if self.row.get(name).is_none_or(is_blank) {
            self.read.push(name);
            self.errors.add(name, format!("Enter the {label}."));
            return 0;
        }
        self.int(name, label, min, max).unwrap_or_default()
    }

    /// A yes/no value (`true`/`false`, `1`/`0`, `yes`/`no`), `default` when missing.
    pub fn flag(&mut self, name: &'static str, label: &str, default: bool) -> bool {
        let value = match self.raw(name) {
            None => return default,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(Value::Number(number)) => match number.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Some(Value::String(text)) => match text.trim().to_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            Some(_) => None,
        };
        value.unwrap_or_else(|| {
            self.errors
                .add(name, format!("The {label} must be true or false."));
            default
        })
    }

    /// A calendar date `YYYY-MM-DD`, `None` when missing.
    pub fn date(&mut self, name: &'static str, label: &str) -> Option<String> {
        let text = self.text(name, label, 10);
        if text.is_empty() {
            return None;
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let Ok(date) = time::Date::parse(&text, format) else {
            self.errors
                .add(name, format!("The {label} must be a date like 2026-11-02."));
            return None;
        };
        let years = crate::dates::YEARS;
        if !years.contains(&date.year()) {
            self.errors.add(
                name,
                format!(
                    "The {label} must be in the years {} to {}.",
                    years.start(),
                    years.end()
                ),
            );
            return None;
        }
        Some(text)
    }

    /// A date that must be there.
    pub fn required_date(&mut self, name: &'static str, label: &str) -> String {
        let missing = self.row.get(name).is_none_or(is_blank);
        let date = self.date(name, label);
        if missing {
            self.errors.add(name, format!("Enter the {label}."));
        }
        date.unwrap_or_default()
    }

    /// A time of day `HH:MM` (24-hour) that must be there.
    pub fn time_of_day(&mut self, name: &'static str, label: &str) -> String {
        let text = self.required_text(name, label, 5);
        let valid = text.len() == 5
            && text.as_bytes()[2] == b':'
            && text[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && text[3..].parse::<u8>().is_ok_and(|m| m < 60);
        if !text.is_empty() && !valid {
            self.errors.add(
                name,
                format!("The {label} must be a 24-hour time like 08:30."),
            );
        }
        text
    }

    /// One of `allowed`, or `default` when missing.
    pub fn choice(
        &mut self,
        name: &'static str,
        label: &str,
        allowed: &[&str],
        default: &str,
    ) -> String {
        let text = self.text(name, label, 40);
        if text.is_empty() {
            return default.to_owned();
        }
        if !allowed.contains(&text.as_str()) {
            self.errors.add(
                name,
                format!("The {label} must be one of: {}.", allowed.join(", ")),
            );
        }
        text
    }

    /// An instant: RFC 3339 text or Unix seconds; must be there.
    pub fn instant(&mut self, name: &'static str, label: &str) -> i64 {
        let Some(value) = self.raw(name) else {
            self.errors.add(name, format!("Enter the {label}."));
            return 0;
        };
        match parse_instant(value) {
            Some(seconds) => seconds,
            None => {
                self.errors.add(
                    name,
                    format!(
                        "The {label} must be an RFC 3339 time like 2026-11-02T08:00:00Z or Unix seconds."
                    ),
                );
                0
            }
        }
    }

    /// A list of objects (invoice lines), each read by `read` with its index.
    pub fn objects(&mut self, name: &'static str) -> Option<&'a Vec<Value>> {
        match self.raw(name) {
            Some(Value::Array(items)) => Some(items),
            Some(_) => {
                self.errors.add(name, "Send a list.");
                None
            }
            None => None,
        }
    }

    /// A reference by external id to a row of the agency's `table` (`clients`, `workers`,
    /// `worksites`); `None` when missing or unknown (a problem when `required` or unknown).
    pub async fn reference(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        agency_id: i64,
        name: &'static str,
        table: Reference,
        required: bool,
    ) -> AppResult<Option<i64>> {
        let label = table.label();
        let external_id = self.text(name, &format!("{label} external id"), 100);
        if external_id.is_empty() {
            if required {
                self.errors
                    .add(name, format!("Enter the {label}'s external id."));
            }
            return Ok(None);
        }
        let id = crate::db::records::id_of(conn, table.table(), agency_id, &external_id).await?;
        if id.is_none() {
            self.errors.add(
                name,
                format!("There is no {label} with the external id {external_id:?}."),
            );
        }
        Ok(id)
    }

    /// Reads `client` and optional `worksite` references; the worksite must be the client's.
    pub async fn client_and_worksite(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        agency_id: i64,
    ) -> AppResult<(i64, Option<i64>)> {
        let client = self
            .reference(conn, agency_id, "client", Reference::Client, true)
            .await?;
        let worksite = self
            .reference(conn, agency_id, "worksite", Reference::Worksite, false)
            .await?;
        if let (Some(client), Some(worksite)) = (client, worksite) {
            let owner = crate::db::clients::worksite_owner(&mut *conn, agency_id, worksite).await?;
            if owner != Some(client) {
                self.errors
                    .add("worksite", "This worksite belongs to another client.");
            }
        }
        Ok((client.unwrap_or_default(), worksite))
    }

    /// Problems as an error, including fields nobody reads (a typo would otherwise be
    /// silently dropped).
    pub fn finish(self) -> AppResult<()> {
        self.into_errors().into_result()
    }

    /// Every problem found, for rows nested in another (invoice lines).
    pub fn into_errors(mut self) -> FieldErrors {
        for key in self.row.keys() {
            if !self.read.contains(&key.as_str()) {
                self.errors.add(key, "This field is not known here.");
            }
        }
        self.errors
    }
}

/// What a row may refer to by external id.
#[derive(Debug, Clone, Copy)]
pub enum Reference {
    Client,
    Worker,
    Worksite,
}

impl Reference {
    fn table(self) -> &'static str {
        match self {
            Self::Client => "clients",
            Self::Worker => "workers",
            Self::Worksite => "worksites",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Worker => "worker",
            Self::Worksite => "worksite",
        }
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// RFC 3339 text or Unix seconds (a number or digits).
pub fn parse_instant(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>().ok().or_else(|| {
                time::OffsetDateTime::parse(text, &Rfc3339)
                    .ok()
                    .map(time::OffsetDateTime::unix_timestamp)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::AppError;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn csv_text_and_json_numbers_read_alike() {
        let from_csv = row(json!({ "minutes": "90", "day": "2026-11-02", "at": "08:05" }));
        let mut fields = Fields::new(&from_csv);
        assert_eq!(fields.int("minutes", "minutes", 0, 100), Some(90));
        assert_eq!(fields.date("day", "day").as_deref(), Some("2026-11-02"));
        assert_eq!(fields.time_of_day("at", "start"), "08:05");
        assert!(fields.finish().is_ok());

        let bad = row(json!({ "minutes": "ninety", "day": "2/11/2026", "at": "8am", "typo": 1 }));
        let mut fields = Fields::new(&bad);
        fields.int("minutes", "minutes", 0, 100);
        fields.date("day", "day");
        fields.time_of_day("at", "start");
        let Err(AppError::Invalid(errors)) = fields.finish() else {
            panic!("expected field errors");
        };
        assert_eq!(
            errors.get("minutes"),
            Some("The minutes must be a whole number.")
        );
        assert!(errors.get("day").is_some() && errors.get("at").is_some());
        assert_eq!(errors.get("typo"), Some("This field is not known here."));
    }

    #[test]
    fn instants_are_rfc3339_or_unix_seconds() {
        assert_eq!(parse_instant(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(parse_instant(&json!("1700000000")), Some(1_700_000_000));
        assert_eq!(
            parse_instant(&json!("2023-11-14T22:13:20Z")),
            Some(1_700_000_000)
        );
        assert_eq!(parse_instant(&json!("yesterday")), None);
    }
}
