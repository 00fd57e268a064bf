//! Invoices by external id: `client` (external id), `number`, `issued_on`, `due_on`, `status`
//! (`open`, `paid`, `void`), `lines` (`description`, `quantity_hundredths`,
//! `unit_price_cents`, optionally `amount_cents`), and optionally `total_cents`; sent amounts
//! are checked against the computed ones. The PDF is uploaded apart ([`attach_pdf`]).

use serde_json::{Map, Value, json};
use sqlx::AnyConnection;

use super::fields::{Fields, Reference};
use super::{Checked, Entity, Outcome, Upserted};
use crate::db::documents::{self, NewDocument};
use crate::db::invoices::{self, Line, NewInvoiceLine};
use crate::db::records::{self as record, Kind, Record};
use crate::error::{AppError, AppResult};

#[derive(Debug)]
pub struct Invoices;

/// The largest invoice PDF accepted.
pub const MAX_PDF_BYTES: usize = 10 * 1024 * 1024;
const MAX_LINES: usize = 500;

fn read_lines(fields: &mut Fields<'_>) -> Vec<Line> {
    let Some(items) = fields.objects("lines") else {
        fields.errors.add("lines", "Send at least one line.");
        return Vec::new();
    };
    if items.is_empty() || items.len() > MAX_LINES {
        fields
            .errors
            .add("lines", format!("Send 1 to {MAX_LINES} lines."));
    }
    let mut lines = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(object) = item.as_object() else {
            fields
                .errors
                .add(&format!("lines[{index}]"), "Send each line as an object.");
            continue;
        };
        let mut line = Fields::new(object);
        let description = line.required_text("description", "description", 500);
        let quantity =
            line.required_int("quantity_hundredths", "quantity", -10_000_000, 10_000_000);
        let unit_price = line.required_int(
            "unit_price_cents",
            "unit price",
            -1_000_000_000,
            1_000_000_000,
        );
        let sent_amount = line.int("amount_cents", "amount", i64::MIN / 2, i64::MAX / 2);
        let amount = NewInvoiceLine {
            description: &description,
            quantity_hundredths: quantity,
            unit_price_cents: unit_price,
        }
        .amount_cents();
        if sent_amount.is_some_and(|sent| sent != amount) {
            line.errors.add(
                "amount_cents",
                format!("{quantity} hundredths at {unit_price} cents is {amount} cents."),
            );
        }
        for (field, message) in line.into_errors().iter() {
            fields
                .errors
                .add(&format!("lines[{index}].{field}"), message);
        }
        lines.push((description, quantity, unit_price, amount));
    }
    lines
}

/// Checks an invoice and its lines.
async fn read(
    conn: &mut AnyConnection,
    agency_id: i64,
    row: &Map<String, Value>,
) -> AppResult<(Checked, Vec<Line>)> {
    let mut fields = Fields::new(row);
    let client = fields
        .reference(conn, agency_id, "client", Reference::Client, true)
        .await?;
    let number = fields.required_text("number", "invoice number", 50);
    let issued_on = fields.required_date("issued_on", "issue date");
    let due_on = fields.required_date("due_on", "due date");
    let status = fields.choice("status", "status", &["open", "paid", "void"], "open");
    let lines = read_lines(&mut fields);
    let total: i64 = lines.iter().map(|line| line.3).sum();
    let sent_total = fields.int("total_cents", "total", i64::MIN / 2, i64::MAX / 2);
    if sent_total.is_some_and(|sent| sent != total) {
        fields
            .errors
            .add("total_cents", format!("The lines add up to {total} cents."));
    }
    if !issued_on.is_empty() && !due_on.is_empty() && due_on < issued_on {
        fields
            .errors
            .add("due_on", "The due date is before the issue date.");
    }
    fields.finish()?;
    let record = Record {
        table: Invoices::TABLE,
        created_at: true,
        updated_at: true,
        columns: vec![
            ("client_id", client.into()),
            ("number", number.clone().into()),
            ("issued_on", issued_on.into()),
            ("due_on", due_on.into()),
            ("status", status.into()),
            ("total_cents", total.into()),
        ],
    };
    let checked = Checked {
        record,
        label: number,
    };
    Ok((checked, lines))
}

impl Entity for Invoices {
    const KIND: &'static str = "invoice";
    const PLURAL: &'static str = "invoices";
    const TABLE: &'static str = "invoices";
    const SHOWN: &'static [(&'static str, Kind)] = &[
        ("client_id", Kind::Int),
        ("number", Kind::Text),
        ("issued_on", Kind::Text),
        ("due_on", Kind::Text),
        ("status", Kind::Text),
        ("total_cents", Kind::Int),
        ("pdf_document_id", Kind::Int),
        ("updated_at", Kind::Time),
    ];

    async fn check(
        conn: &mut AnyConnection,
        agency_id: i64,
        _external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Checked> {
        Ok(read(conn, agency_id, row).await?.0)
    }

    /// Like every row, plus the lines: replaced when they differ, which counts as a change.
    async fn upsert(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
        row: &Map<String, Value>,
    ) -> AppResult<Upserted> {
        let (Checked { record, label }, lines) = read(conn, agency_id, row).await?;
        let (id, mut outcome) = record::upsert(conn, agency_id, external_id, &record)
            .await
            .map_err(super::unique_as_invalid)?;
        if invoices::stored_lines(conn, agency_id, id).await? != lines {
            invoices::replace_lines(conn, agency_id, id, &lines).await?;
            if outcome == Outcome::Unchanged {
                invoices::touch(conn, agency_id, id).await?;
                outcome = Outcome::Updated;
            }
        }
        Ok(Upserted { id, outcome, label })
    }

    async fn show(
        conn: &mut AnyConnection,
        agency_id: i64,
        external_id: &str,
    ) -> AppResult<Option<Value>> {
        let Some(mut row) =
            record::show(conn, agency_id, external_id, Self::TABLE, Self::SHOWN).await?
        else {
            return Ok(None);
        };
        let id = row.get("id").and_then(Value::as_i64).unwrap_or_default();
        let lines: Vec<Value> = invoices::stored_lines(conn, agency_id, id)
            .await?
            .into_iter()
            .map(|(description, quantity, unit_price, amount)| {
                json!({
                    "description": description, "quantity_hundredths": quantity,
                    "unit_price_cents": unit_price, "amount_cents": amount,
                })
            })
            .collect();
        row.insert("lines".into(), Value::Array(lines));
        Ok(Some(Value::Object(row)))
    }
}

/// Stores an invoice's PDF (replacing an earlier one) as a document of the invoice's client.
/// Refuses what is too large or not a PDF; `NotFound` when the agency has no such invoice.
pub async fn attach_pdf(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
    content: &[u8],
) -> AppResult<Upserted> {
    super::documents::check_content("application/pdf", content, MAX_PDF_BYTES, "pdf")?;
    let (id, client_id, number, current) = invoices::pdf_of(conn, agency_id, external_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let label = format!("{number} PDF");
    if let Some(document) = current {
        let stored = documents::content(&mut *conn, agency_id, document).await?;
        if stored.as_deref() == Some(content) {
            return Ok(Upserted {
                id,
                outcome: Outcome::Unchanged,
                label,
            });
        }
    }
    let title = format!("Invoice {number}");
    let file_name = format!("invoice-{}.pdf", file_safe(&number));
    let new = NewDocument {
        client_id,
        title: &title,
        file_name: &file_name,
        mime_type: "application/pdf",
        content,
    };
    let document = documents::create(&mut *conn, agency_id, &new).await?;
    invoices::set_pdf(&mut *conn, agency_id, id, document).await?;
    invoices::touch(conn, agency_id, id).await?;
    if let Some(old) = current {
        documents::delete(&mut *conn, agency_id, old).await?;
    }
    let outcome = if current.is_some() {
        Outcome::Updated
    } else {
        Outcome::Created
    };
    Ok(Upserted { id, outcome, label })
}

/// Letters, digits, `-` and `_` of an invoice number, for a file name.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
