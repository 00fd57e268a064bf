//! Invoices to clients, at charge rates.

use sqlx::AnyConnection;

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
