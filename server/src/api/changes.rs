//! What changed in the portal, for the back-office to sync without webhooks:
//! `GET /api/v1/{agency}/timesheets?updated_since=…` and `…/work-requests?updated_since=…`,
//! then `?cursor=…` from each answer's `next` until `has_more` is false. Keep the last
//! `cursor` and start the next sync from it. See [`crate::feed::sync`] for the ordering.
//!
//! Token-only: timesheets carry pay rates.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::api_tokens::ApiClient;
use crate::error::AppResult;
use crate::feed::sync::{self, Cursor, Page};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct SyncQuery {
    updated_since: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn answer(client: &ApiClient, path: &str, key: &str, page: Page, limit: Option<i64>) -> Response {
    let cursor = page.next.to_text();
    let mut next = format!("/api/v1/{}/{path}?cursor={cursor}", client.agency.slug);
    if let Some(limit) = limit {
        next.push_str(&format!("&limit={limit}"));
    }
    Json(json!({
        key: page.rows, "cursor": cursor, "has_more": page.has_more, "next": next,
    }))
    .into_response()
}

pub async fn timesheets(
    state: State<AppState>,
    client: ApiClient,
    query: Query<SyncQuery>,
) -> AppResult<Response> {
    changes(state, client, query, "timesheets").await
}

pub async fn work_requests(
    state: State<AppState>,
    client: ApiClient,
    query: Query<SyncQuery>,
) -> AppResult<Response> {
    changes(state, client, query, "work-requests").await
}

async fn changes(
    State(state): State<AppState>,
    client: ApiClient,
    Query(query): Query<SyncQuery>,
    path: &str,
) -> AppResult<Response> {
    let after = Cursor::from_query(query.cursor.as_deref(), query.updated_since.as_deref())?;
    let mut conn = state.db().pool.acquire().await?;
    let agency_id = client.agency.id;
    let (page, key) = if path == "timesheets" {
        let page = sync::timesheets(&mut conn, agency_id, after, query.limit).await?;
        (page, "timesheets")
    } else {
        let page = sync::work_requests(&mut conn, agency_id, after, query.limit).await?;
        (page, "work_requests")
    };
    Ok(answer(&client, path, key, page, query.limit))
}

/// This module's endpoints as an OpenAPI 3.1 fragment.
pub(crate) fn openapi() -> serde_json::Value {
    let parameters = json!([
        { "name": "updated_since", "in": "query", "schema": { "type": "string" },
          "description": "RFC 3339 time or Unix seconds (inclusive). Ignored when cursor is given." },
        { "name": "cursor", "in": "query", "schema": { "type": "string" },
          "description": "The cursor of the previous answer." },
        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": sync::MAX_LIMIT, "default": sync::DEFAULT_LIMIT } },
    ]);
    let description = format!(
        "Rows in (updated_at, id) order. Follow `next` while `has_more`; keep `cursor` for the next sync. \
         Changes younger than {} seconds wait for the next call, so rows sharing a second are never skipped. \
         Includes pay rates: API tokens only.",
        sync::SETTLE_SECONDS
    );
    let page = |key: &str, item: &str| {
        json!({ "type": "object", "properties": {
            key: { "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } },
            "cursor": { "type": "string" }, "has_more": { "type": "boolean" }, "next": { "type": "string" },
        } })
    };
    let answer = |key: &str, item: &str| {
        json!({ "200": { "description": "A page of changed rows.", "content": { "application/json": { "schema": page(key, item) } } },
                "400": { "$ref": "#/components/responses/Problem" } })
    };
    let decider = json!({ "type": ["object", "null"], "properties": {
        "id": { "type": "integer" }, "name": { "type": "string" }, "email": { "type": "string" } } });
    json!({
        "paths": {
            "/api/v1/{agency}/timesheets": { "get": {
                "summary": "Timesheets changed since a time: status, decision, rejection reason, history",
                "description": description, "parameters": parameters,
                "responses": answer("timesheets", "TimesheetChange"),
            } },
            "/api/v1/{agency}/work-requests": { "get": {
                "summary": "Work requests filed or changed since a time, with their updates",
                "description": description, "parameters": parameters,
                "responses": answer("work_requests", "WorkRequestChange"),
            } },
        },
        "components": { "schemas": {
            "TimesheetChange": { "type": "object", "properties": {
                "id": { "type": "integer" }, "external_id": { "type": ["string", "null"] },
                "worker": { "type": ["string", "null"] }, "client": { "type": ["string", "null"] },
                "worksite": { "type": ["string", "null"] }, "work_date": { "type": "string", "format": "date" },
                "start_time": { "type": "string" }, "end_time": { "type": "string" },
                "break_minutes": { "type": "integer" }, "minutes_worked": { "type": "integer" },
                "charge_rate_cents": { "type": "integer" }, "charge_amount_cents": { "type": "integer" },
                "pay_rate_cents": { "type": "integer" },
                "status": { "enum": ["pending", "approved", "rejected"] },
                "rejection_reason": { "type": ["string", "null"] }, "decided_by": decider,
                "decided_by_staff": { "type": ["string", "null"], "description": "The team member's email when the agency decided for the client" },
                "decision_note": { "type": ["string", "null"], "description": "The evidence staff gave when they decided for the client" },
                "decided_at": { "type": ["string", "null"], "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "events": { "type": "array", "items": { "type": "object", "properties": {
                    "action": { "type": "string" }, "actor_kind": { "type": "string" },
                    "actor_name": { "type": "string" }, "reason": { "type": ["string", "null"] },
                    "at": { "type": "string", "format": "date-time" } } } },
            } },
            "WorkRequestChange": { "type": "object", "properties": {
                "id": { "type": "integer" }, "client": { "type": ["string", "null"] },
                "worksite": { "type": ["string", "null"] }, "filed_by": decider,
                "title": { "type": "string" }, "description": { "type": "string" },
                "needed_by": { "type": ["string", "null"] }, "workers_needed": { "type": ["integer", "null"] },
                "urgency": { "enum": ["low", "normal", "high", "urgent"] },
                "status": { "enum": ["new", "acknowledged", "scheduled", "done", "declined"] },
                "scheduled_for": { "type": ["string", "null"], "format": "date" },
                "assigned_to": { "type": ["string", "null"], "description": "The team member's email" },
                "updated_at": { "type": "string", "format": "date-time" },
                "updates": { "type": "array", "items": { "type": "object", "properties": {
                    "author_kind": { "enum": ["staff", "portal", "system"] },
                    "author_name": { "type": "string" }, "body": { "type": "string" },
                    "status": { "type": ["string", "null"] },
                    "internal": { "type": "boolean", "description": "A note among the agency's staff, never shown to the client" },
                    "at": { "type": "string", "format": "date-time" } } } },
            } },
        } },
    })
}
