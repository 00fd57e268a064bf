//! Invoices: the list and each invoice's lines and totals (at charge rates), its status
//! (open, paid or overdue) and its PDF when the agency uploaded one.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::gate::{self, Gated};
use super::{Portal, iso, today};
use crate::db::documents;
use crate::db::invoices::{self, InvoiceInfo};
use crate::error::{AppError, AppResult};
use crate::plugins::{Permission, PluginRequest, Target};
use crate::state::AppState;

/// Most invoices the list shows.
const LIST_LIMIT: i64 = 200;

#[derive(Debug, Serialize)]
pub struct Shown {
    #[serde(flatten)]
    invoice: InvoiceInfo,
    /// `open`, `paid` or `overdue` (an open invoice past its due date).
    shown_status: &'static str,
}

/// Adds the status a client sees: open invoices past their due date are overdue.
pub fn with_status(list: Vec<InvoiceInfo>) -> Vec<Shown> {
    let today = iso(today());
    list.into_iter()
        .map(|invoice| {
            let shown_status = match invoice.status.as_str() {
                "paid" => "paid",
                "open" if invoice.due_on < today => "overdue",
                "open" => "open",
                _ => "void",
            };
            Shown {
                invoice,
                shown_status,
            }
        })
        .collect()
}

impl Gated for InvoiceInfo {
    fn client_id(&self) -> i64 {
        self.client_id
    }

    fn target(&self) -> Target {
        let attributes = vec![
            ("total".into(), self.total_cents.to_string()),
            ("issued-on".into(), self.issued_on.clone()),
        ];
        gate::target("invoice", self.id, None, attributes)
    }
}

pub async fn list(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
) -> AppResult<Response> {
    portal.require(Permission::ViewInvoices)?;
    let rows = invoices::list_for_clients(
        &state.db().pool,
        portal.agency_id(),
        &portal.scope,
        LIST_LIMIT,
    )
    .await?;
    let rows = portal
        .visible(&state, &mut plugins, Permission::ViewInvoices, rows)
        .await?;
    portal
        .render(
            &state,
            "portal/invoices.html",
            "invoices",
            context! { title => "Invoices", invoices => Serde(with_status(rows)) },
        )
        .await
}

/// The invoice `id` of the user's clients, as the role's rules let them see it.
async fn shown_invoice(
    state: &AppState,
    portal: &Portal,
    plugins: &mut PluginRequest,
    id: i64,
) -> AppResult<InvoiceInfo> {
    portal.require(Permission::ViewInvoices)?;
    let found =
        invoices::get_for_clients(&state.db().pool, portal.agency_id(), &portal.scope, id).await?;
    portal
        .visible_one(state, plugins, Permission::ViewInvoices, found)
        .await
}

pub async fn detail(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let invoice = shown_invoice(&state, &portal, &mut plugins, id).await?;
    let pool = &state.db().pool;
    let lines = invoices::lines(pool, portal.agency_id(), id).await?;
    let invoice = with_status(vec![invoice]).pop().ok_or(AppError::NotFound)?;
    portal
        .render(
            &state,
            "portal/invoice.html",
            "invoices",
            context! {
                title => format!("Invoice {}", invoice.invoice.number),
                invoice => Serde(invoice), lines => Serde(lines),
            },
        )
        .await
}

/// The invoice's PDF as the agency uploaded it (a document of the same client).
pub async fn pdf(
    State(state): State<AppState>,
    portal: Portal,
    mut plugins: PluginRequest,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let invoice = shown_invoice(&state, &portal, &mut plugins, id).await?;
    let pool = &state.db().pool;
    let document = invoice.pdf_document_id.ok_or(AppError::NotFound)?;
    let file =
        documents::file_for_clients(pool, portal.agency_id(), &[invoice.client_id], document)
            .await?
            .ok_or(AppError::NotFound)?;
    Ok(crate::downloads::download(
        &file.file_name,
        &file.mime_type,
        Body::from(file.content),
    ))
}
