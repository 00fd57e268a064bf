//! The data feed over HTTP: `PUT …/{kind}/by-external-id/{id}` (idempotent upsert),
//! `GET` of the same path, and `POST …/{kind}/batch` for many rows at once. Documents and
//! invoice PDFs are uploaded as the raw request body.
//!
//! A batch runs in one transaction with a savepoint per row: a row with problems is reported
//! (`invalid`, with its field errors) and skipped, the other rows are applied, and the
//! response lists each row's result in order. A server error applies nothing.
//!
//! Every route needs the agency's API token ([`ApiClient`]); answers include pay rates, which
//! is why nothing here is reachable with a portal session.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::api_tokens::ApiClient;
use crate::error::{AppError, AppResult};
use crate::feed::clients::Clients;
use crate::feed::clock_events::ClockEvents;
use crate::feed::invoices::{self, Invoices};
use crate::feed::jobs::Jobs;
use crate::feed::quotes::Quotes;
use crate::feed::timesheets::Timesheets;
use crate::feed::workers::Workers;
use crate::feed::worksites::Worksites;
use crate::feed::{self, Entity, MAX_BATCH_ROWS, Outcome, Upserted, documents};
use crate::state::AppState;

impl super::RouteTable {
    /// The data feed's routes: files, then upserts and batches for each kind of row.
    pub(super) fn feed(self) -> Self {
        let table = self
            .at(
                Method::GET,
                "/api/v1/{agency}/documents/by-external-id/{external_id}",
                show_document,
            )
            .at(
                Method::PUT,
                "/api/v1/{agency}/documents/by-external-id/{external_id}",
                put_document,
            )
            .at(
                Method::PUT,
                "/api/v1/{agency}/invoices/by-external-id/{external_id}/pdf",
                put_invoice_pdf,
            );
        table
            .entity::<Clients>()
            .entity::<Worksites>()
            .entity::<Workers>()
            .entity::<Timesheets>()
            .entity::<ClockEvents>()
            .entity::<Invoices>()
            .entity::<Jobs>()
            .entity::<Quotes>()
    }

    fn entity<E: Entity>(self) -> Self {
        let one = format!(
            "/api/v1/{{agency}}/{}/by-external-id/{{external_id}}",
            E::PLURAL
        );
        self.at(Method::GET, &one, show::<E>)
            .at(Method::PUT, &one, upsert::<E>)
            .at(
                Method::POST,
                &format!("/api/v1/{{agency}}/{}/batch", E::PLURAL),
                batch::<E>,
            )
    }
}

fn answer(done: &Upserted, external_id: &str, row: Option<Value>) -> Response {
    let status = if done.outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = json!({
        "status": done.outcome.as_str(), "id": done.id, "external_id": external_id,
        "row": row,
    });
    (status, Json(body)).into_response()
}

async fn upsert<E: Entity>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, external_id)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let row = feed::body_object(&body)?;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let agency_id = client.agency.id;
    let done = feed::apply::<E>(&mut tx, agency_id, client.actor(), &external_id, &row).await?;
    let shown = E::show(&mut tx, agency_id, &external_id).await?;
    tx.commit().await?;
    Ok(answer(&done, &external_id, shown))
}

async fn show<E: Entity>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, external_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let mut conn = state.db().pool.acquire().await?;
    let row = E::show(&mut conn, client.agency.id, &external_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(row).into_response())
}

async fn batch<E: Entity>(
    State(state): State<AppState>,
    client: ApiClient,
    body: Bytes,
) -> AppResult<Response> {
    let (rows, faults) = feed::batch_rows(&body)?;
    let (mut results, mut summary) = feed::apply_rows::<E>(
        &state.db().pool,
        client.agency.id,
        client.actor(),
        rows,
        false,
        || {},
    )
    .await?;
    for fault in faults {
        summary.count(&fault);
        results.push(fault);
    }
    results.sort_by_key(|result| result.row);
    Ok(Json(json!({ "summary": summary, "results": results })).into_response())
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

async fn put_document(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, external_id)): Path<(String, String)>,
    Query(details): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let details: Map<String, Value> = details
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    feed::check_external_id(&external_id)?;
    let agency_id = client.agency.id;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let done = documents::upsert(
        &mut tx,
        agency_id,
        &external_id,
        &details,
        &content_type(&headers),
        &body,
    )
    .await?;
    if done.outcome != Outcome::Unchanged {
        audit_upload(&mut tx, agency_id, &client, "document", &done, &external_id).await?;
    }
    let shown = documents::show(&mut tx, agency_id, &external_id).await?;
    tx.commit().await?;
    Ok(answer(&done, &external_id, shown))
}

async fn show_document(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, external_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let mut conn = state.db().pool.acquire().await?;
    let row = documents::show(&mut conn, client.agency.id, &external_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(row).into_response())
}

async fn put_invoice_pdf(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, external_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    if content_type(&headers) != "application/pdf" {
        return Err(feed::invalid(
            "content_type",
            "Send the PDF with Content-Type: application/pdf.",
        ));
    }
    let agency_id = client.agency.id;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    let done = invoices::attach_pdf(&mut tx, agency_id, &external_id, &body).await?;
    if done.outcome != Outcome::Unchanged {
        audit_upload(&mut tx, agency_id, &client, "invoice", &done, &external_id).await?;
    }
    let shown = Invoices::show(&mut tx, agency_id, &external_id).await?;
    tx.commit().await?;
    Ok(answer(&done, &external_id, shown))
}

async fn audit_upload(
    conn: &mut sqlx::AnyConnection,
    agency_id: i64,
    client: &ApiClient,
    kind: &str,
    done: &Upserted,
    external_id: &str,
) -> AppResult<()> {
    let target = crate::db::audit::Target {
        kind: Some(kind),
        id: Some(done.id),
        label: Some(&done.label),
    };
    let action = format!("{kind} file {}", done.outcome.as_str());
    crate::db::audit::record(
        &mut *conn,
        agency_id,
        client.actor(),
        &action,
        target,
        &format!("external id {external_id}"),
    )
    .await?;
    Ok(())
}

/// A property list as JSON Schema: `(name, type, description)`; a `type` ending in `!` is
/// required.
fn object_schema(properties: &[(&str, &str, &str)]) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, kind, description) in properties {
        let (kind, needed) = match kind.strip_suffix('!') {
            Some(kind) => (kind, true),
            None => (*kind, false),
        };
        let schema = match kind {
            "date" => json!({ "type": "string", "format": "date", "description": description }),
            "instant" => json!({
                "oneOf": [{ "type": "string", "format": "date-time" }, { "type": "integer" }],
                "description": description,
            }),
            "lines" => json!({
                "type": "array", "items": { "$ref": "#/components/schemas/InvoiceLine" },
                "description": description,
            }),
            other => json!({ "type": other, "description": description }),
        };
        props.insert((*name).to_owned(), schema);
        if needed {
            required.push(*name);
        }
    }
    json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false })
}

/// The fields each kind of row takes, for the OpenAPI fragment.
fn row_schemas() -> Vec<(&'static str, &'static str, Value)> {
    let client = ("client", "string!", "The client's external id.");
    let worksite = (
        "worksite",
        "string",
        "The worksite's external id; it must belong to the client.",
    );
    vec![
        (
            "clients",
            "Client",
            object_schema(&[
                ("name", "string!", "Company name, unique in the agency."),
                ("email", "string", ""),
                ("phone", "string", ""),
                ("address", "string", ""),
                ("notes", "string", ""),
                ("portal_enabled", "boolean", "Default true."),
            ]),
        ),
        (
            "worksites",
            "Worksite",
            object_schema(&[client, ("name", "string!", ""), ("address", "string", "")]),
        ),
        (
            "workers",
            "Worker",
            object_schema(&[
                ("first_name", "string!", ""),
                ("last_name", "string!", ""),
                ("email", "string", ""),
                (
                    "recruiter_email",
                    "string",
                    "Told of approvals and rejections.",
                ),
            ]),
        ),
        (
            "timesheets",
            "Timesheet",
            object_schema(&[
                ("worker", "string!", "The worker's external id."),
                client,
                worksite,
                ("work_date", "date!", ""),
                ("start_time", "string!", "HH:MM, 24-hour."),
                (
                    "end_time",
                    "string!",
                    "HH:MM; earlier than the start means past midnight.",
                ),
                ("break_minutes", "integer", "Default 0."),
                (
                    "charge_rate_cents",
                    "integer!",
                    "Per hour, billed to the client.",
                ),
                (
                    "pay_rate_cents",
                    "integer!",
                    "Per hour, paid to the worker. Never shown to portal users.",
                ),
                (
                    "minutes_worked",
                    "integer",
                    "Optional; checked against the computed value.",
                ),
                (
                    "charge_amount_cents",
                    "integer",
                    "Optional; checked against the computed value.",
                ),
            ]),
        ),
        (
            "clock-events",
            "ClockEvent",
            object_schema(&[
                ("worker", "string!", "The worker's external id."),
                client,
                worksite,
                ("kind", "string!", "in or out."),
                ("at", "instant!", "RFC 3339 or Unix seconds."),
            ]),
        ),
        (
            "invoices",
            "Invoice",
            object_schema(&[
                client,
                ("number", "string!", ""),
                ("issued_on", "date!", ""),
                ("due_on", "date!", ""),
                ("status", "string", "open (default), paid or void."),
                ("lines", "lines!", "1 to 500 lines."),
                (
                    "total_cents",
                    "integer",
                    "Optional; checked against the sum of the lines.",
                ),
            ]),
        ),
        (
            "jobs",
            "Job",
            object_schema(&[
                client,
                worksite,
                ("number", "string!", ""),
                ("title", "string!", ""),
                ("description", "string", ""),
                (
                    "status",
                    "string",
                    "scheduled (default), in-progress, completed or cancelled.",
                ),
                ("scheduled_on", "date", ""),
            ]),
        ),
        (
            "quotes",
            "Quote",
            object_schema(&[
                client,
                ("number", "string!", ""),
                ("title", "string!", ""),
                (
                    "status",
                    "string",
                    "draft, sent (default), accepted, declined or expired.",
                ),
                ("total_cents", "integer!", ""),
                ("valid_until", "date", ""),
            ]),
        ),
    ]
}

/// This module's endpoints as an OpenAPI 3.1 fragment.
pub(crate) fn openapi() -> Value {
    let external_id = json!({
        "name": "external_id", "in": "path", "required": true,
        "schema": { "type": "string", "maxLength": 100 },
        "description": "The agency's own id for the row.",
    });
    let problem = json!({ "$ref": "#/components/responses/Problem" });
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for (plural, name, schema) in row_schemas() {
        // `…Row`: the feed's shape of a row, beside the other modules' `Client`, `Worksite`.
        let reference = format!("#/components/schemas/{name}Row");
        paths.insert(
            format!("/api/v1/{{agency}}/{plural}/by-external-id/{{external_id}}"),
            json!({
                "parameters": [external_id],
                "put": {
                    "summary": format!("Create or update a {name} by external id (idempotent)"),
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": reference } } } },
                    "responses": {
                        "201": { "$ref": "#/components/responses/Upserted" },
                        "200": { "$ref": "#/components/responses/Upserted" },
                        "422": problem, "400": problem, "401": problem, "403": problem,
                    },
                },
                "get": {
                    "summary": format!("The stored {name}"),
                    "responses": { "200": { "description": "The row, with its numeric id." }, "404": problem },
                },
            }),
        );
        paths.insert(
            format!("/api/v1/{{agency}}/{plural}/batch"),
            json!({
                "post": {
                    "summary": format!("Create or update up to {MAX_BATCH_ROWS} {plural} in one request"),
                    "description": "One transaction with a savepoint per row: invalid rows are reported and skipped, the others applied.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["rows"],
                        "properties": { "rows": { "type": "array", "maxItems": MAX_BATCH_ROWS, "items": {
                            "allOf": [{ "$ref": reference }],
                            "properties": { "external_id": { "type": "string" } },
                            "required": ["external_id"],
                        } } },
                    } } } },
                    "responses": { "200": { "$ref": "#/components/responses/BatchResult" }, "400": problem },
                },
            }),
        );
        schemas.insert(format!("{name}Row"), schema);
    }
    schemas.insert(
        "InvoiceLine".into(),
        object_schema(&[
            ("description", "string!", ""),
            ("quantity_hundredths", "integer!", "150 is 1.5."),
            ("unit_price_cents", "integer!", ""),
            (
                "amount_cents",
                "integer",
                "Optional; checked against quantity × unit price.",
            ),
        ]),
    );
    paths.insert(
        "/api/v1/{agency}/documents/by-external-id/{external_id}".into(),
        json!({
            "parameters": [external_id],
            "put": {
                "summary": "Upload a document shared with a client (the body is the file)",
                "parameters": [
                    { "name": "client", "in": "query", "required": true, "schema": { "type": "string" } },
                    { "name": "file_name", "in": "query", "required": true, "schema": { "type": "string" } },
                    { "name": "title", "in": "query", "schema": { "type": "string" } },
                ],
                "requestBody": { "required": true, "content": {
                    "application/pdf": {}, "image/png": {}, "image/jpeg": {}, "text/plain": {}, "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                } },
                "description": format!("At most {} bytes; the content must match its type.", documents::MAX_DOCUMENT_BYTES),
                "responses": { "201": { "$ref": "#/components/responses/Upserted" }, "200": { "$ref": "#/components/responses/Upserted" }, "422": problem },
            },
            "get": { "summary": "The document's details", "responses": { "200": { "description": "Details without the content." }, "404": problem } },
        }),
    );
    paths.insert(
        "/api/v1/{agency}/invoices/by-external-id/{external_id}/pdf".into(),
        json!({
            "parameters": [external_id],
            "put": {
                "summary": "Upload (or replace) an invoice's PDF",
                "description": format!("At most {} bytes; must start with %PDF-.", invoices::MAX_PDF_BYTES),
                "requestBody": { "required": true, "content": { "application/pdf": {} } },
                "responses": { "201": { "$ref": "#/components/responses/Upserted" }, "200": { "$ref": "#/components/responses/Upserted" }, "404": problem, "422": problem },
            },
        }),
    );
    json!({
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Upserted": { "description": "What happened and the stored row.", "content": { "application/json": { "schema": {
                    "type": "object", "properties": {
                        "status": { "enum": ["created", "updated", "unchanged"] }, "id": { "type": "integer" },
                        "external_id": { "type": "string" }, "row": { "type": "object" },
                    },
                } } } },
                "BatchResult": { "description": "A result per row, in order.", "content": { "application/json": { "schema": {
                    "type": "object", "properties": {
                        "summary": { "type": "object", "properties": {
                            "created": { "type": "integer" }, "updated": { "type": "integer" },
                            "unchanged": { "type": "integer" }, "invalid": { "type": "integer" },
                        } },
                        "results": { "type": "array", "items": { "type": "object", "properties": {
                            "row": { "type": "integer" }, "external_id": { "type": "string" },
                            "status": { "enum": ["created", "updated", "unchanged", "invalid"] },
                            "id": { "type": "integer" },
                            "errors": { "type": "object", "additionalProperties": { "type": "string" } },
                        } } },
                    },
                } } } },
                "Problem": { "description": "A problem object; `errors` holds a message per field.", "content": { "application/problem+json": { "schema": {
                    "type": "object", "properties": {
                        "title": { "type": "string" }, "status": { "type": "integer" },
                        "errors": { "type": "object", "additionalProperties": { "type": "string" } },
                    },
                } } } },
            },
        },
    })
}
