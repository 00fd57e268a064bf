//! Invoices to clients, at charge rates.

use sqlx::{AnyConnection, AnyExecutor};

use super::Timestamp;

#[derive(Debug)]
pub struct NewInvoiceLine<'a> {
    pub description: &'a str,
    pub quantity_hundredths: i64,
    pub unit_price_cents: i64,
}

impl NewInvoiceLine<'_> {
    pub fn amount_cents(&self) -> i64 {
        (self.quantity_hundredths * self.unit_price_cents + 50) / 100
    }
}

#[derive(Debug)]
pub struct NewInvoice<'a> {
    pub client_id: i64,
    pub number: &'a str,
    pub issued_on: &'a str,
    pub due_on: &'a str,
    /// `open`, `paid` or `void`.
    pub status: &'a str,
    pub lines: &'a [NewInvoiceLine<'a>],
}

/// Creates an invoice with its lines; the total is the sum of the lines.
pub async fn create(
    conn: &mut AnyConnection,
    agency_id: i64,
    new: &NewInvoice<'_>,
) -> sqlx::Result<i64> {
    let total: i64 = new.lines.iter().map(NewInvoiceLine::amount_cents).sum();
    let now = Timestamp::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO invoices (agency_id, client_id, number, issued_on, due_on, status, \
         total_cents, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         RETURNING id",
    )
    .bind(agency_id)
    .bind(new.client_id)
    .bind(new.number)
    .bind(new.issued_on)
    .bind(new.due_on)
    .bind(new.status)
    .bind(total)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (position, line) in (1_i64..).zip(new.lines) {
        sqlx::query(
            "INSERT INTO invoice_lines (agency_id, invoice_id, position, description, \
             quantity_hundredths, unit_price_cents, amount_cents) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(agency_id)
        .bind(id)
        .bind(position)
        .bind(line.description)
        .bind(line.quantity_hundredths)
        .bind(line.unit_price_cents)
        .bind(line.amount_cents())
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// An invoice as its client sees it. `status` is as stored; `overdue` is worked out from
/// `due_on` by the page.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InvoiceInfo {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub number: String,
    pub issued_on: String,
    pub due_on: String,
    pub status: String,
    pub total_cents: i64,
    pub pdf_document_id: Option<i64>,
}

const INFO_COLUMNS: &str = "i.id, i.client_id, c.name AS client_name, i.number, i.issued_on, \
     i.due_on, i.status, i.total_cents, i.pdf_document_id FROM invoices i \
     JOIN clients c ON c.id = i.client_id";

/// The clients' invoices (void ones left out), newest first.
pub async fn list_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    limit: i64,
) -> sqlx::Result<Vec<InvoiceInfo>> {
    let sql = format!(
        "SELECT {INFO_COLUMNS} WHERE i.agency_id = $1 AND i.client_id IN ({}) \
         AND i.status <> 'void' ORDER BY i.issued_on DESC, i.id DESC LIMIT {limit}",
        super::scope::client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
}

pub async fn get_for_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
    id: i64,
) -> sqlx::Result<Option<InvoiceInfo>> {
    let sql = format!(
        "SELECT {INFO_COLUMNS} WHERE i.agency_id = $1 AND i.id = $2 AND i.client_id IN ({})",
        super::scope::client_list(client_ids)
    );
    super::scope::one(db, sql, agency_id, id).await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_price_cents: i64,
    pub amount_cents: i64,
}

pub async fn lines<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    invoice_id: i64,
) -> sqlx::Result<Vec<InvoiceLine>> {
    sqlx::query_as(
        "SELECT description, quantity_hundredths, unit_price_cents, amount_cents \
         FROM invoice_lines WHERE agency_id = $1 AND invoice_id = $2 ORDER BY position, id",
    )
    .bind(agency_id)
    .bind(invoice_id)
    .fetch_all(db)
    .await
}

/// A stored invoice line as the data feed compares and shows it: description, quantity in
/// hundredths, unit price and amount in cents.
pub type Line = (String, i64, i64, i64);

/// The invoice's lines in order, for the data feed.
pub async fn stored_lines(
    conn: &mut AnyConnection,
    agency_id: i64,
    invoice_id: i64,
) -> sqlx::Result<Vec<Line>> {
    sqlx::query_as(
        "SELECT description, quantity_hundredths, unit_price_cents, amount_cents \
         FROM invoice_lines WHERE agency_id = $1 AND invoice_id = $2 ORDER BY position",
    )
    .bind(agency_id)
    .bind(invoice_id)
    .fetch_all(&mut *conn)
    .await
}

/// Replaces the invoice's lines with `lines`, numbered from 1.
pub async fn replace_lines(
    conn: &mut AnyConnection,
    agency_id: i64,
    invoice_id: i64,
    lines: &[Line],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM invoice_lines WHERE agency_id = $1 AND invoice_id = $2")
        .bind(agency_id)
        .bind(invoice_id)
        .execute(&mut *conn)
        .await?;
    for (position, (description, quantity, unit_price, amount)) in (1_i64..).zip(lines) {
        sqlx::query(
            "INSERT INTO invoice_lines (agency_id, invoice_id, position, description, \
             quantity_hundredths, unit_price_cents, amount_cents) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(agency_id)
        .bind(invoice_id)
        .bind(position)
        .bind(description)
        .bind(quantity)
        .bind(unit_price)
        .bind(amount)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Marks the invoice changed now (its lines or its PDF changed).
pub async fn touch(conn: &mut AnyConnection, agency_id: i64, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE invoices SET updated_at = $1 WHERE agency_id = $2 AND id = $3")
        .bind(Timestamp::now())
        .bind(agency_id)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// The invoice with this external id: its id, client, number and PDF document, if any.
pub async fn pdf_of(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
) -> sqlx::Result<Option<(i64, i64, String, Option<i64>)>> {
    sqlx::query_as(
        "SELECT id, client_id, number, pdf_document_id FROM invoices \
         WHERE agency_id = $1 AND external_id = $2",
    )
    .bind(agency_id)
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await
}

/// Points the invoice at its PDF document.
pub async fn set_pdf(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
    document_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE invoices SET pdf_document_id = $1 WHERE agency_id = $2 AND id = $3")
        .bind(document_id)
        .bind(agency_id)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}
