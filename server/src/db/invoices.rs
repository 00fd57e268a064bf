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
