//! `/api/v1/{agency}/clients`: the same client rules as the manage area, for back-office
//! systems.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openapi::{Success, operation, schema, with_query};
use crate::auth::api_tokens::ApiClient;
use crate::clients::{ClientInput, ListQuery, change, create, listing};
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// `GET /api/v1/{agency}/clients?q=&status=&sort=&dir=&page=&size=`: one page of clients
/// (every status unless `status` says otherwise), with the total.
pub async fn list(
    State(state): State<AppState>,
    client: ApiClient,
    Query(mut query): Query<ListQuery>,
) -> AppResult<Response> {
    if query.status.is_none() {
        query.status = Some("all".into());
    }
    let (_, page, found) = listing(&state, &client.agency, &query).await?;
    Ok(Json(json!({
        "clients": found.clients,
        "total": found.total,
        "page": page.number,
        "size": page.size,
    }))
    .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let found = clients::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(found).into_response())
}

pub async fn add(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<ClientInput>,
) -> AppResult<Response> {
    let id = create(&state, &client.agency, &input, client.actor()).await?;
    let created = clients::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<ClientInput>,
) -> AppResult<Response> {
    if !change(&state, &client.agency, id, &input, client.actor()).await? {
        return Err(AppError::NotFound);
    }
    let changed = clients::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(changed).into_response())
}

/// `DELETE …/clients/{id}`: 204, or 409 naming the data the client still has.
pub async fn delete(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    crate::clients::delete(&state, &client.agency, id, client.actor()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn archive(
    state: State<AppState>,
    client: ApiClient,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_archived(state, client, path, true).await
}

pub async fn restore(
    state: State<AppState>,
    client: ApiClient,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_archived(state, client, path, false).await
}

async fn set_archived(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    archived: bool,
) -> AppResult<Response> {
    if !crate::clients::archive(&state, &client.agency, id, archived, client.actor()).await? {
        return Err(AppError::NotFound);
    }
    let changed = clients::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(changed).into_response())
}

pub(crate) fn openapi() -> Value {
    let one = &["agency", "id"];
    let list = with_query(
        operation(
            "List clients: search, filter by status, sort and page",
            "clients",
            &["agency"],
            None,
            Success::json(
                200,
                "One page of clients and the total",
                schema("ClientPage"),
            ),
            &[],
        ),
        &[
            (
                "q",
                json!({ "type": "string" }),
                "Part of the name, email or phone, any case",
            ),
            (
                "status",
                json!({ "enum": ["active", "portal-off", "archived", "all"], "default": "all" }),
                "Which clients",
            ),
            (
                "sort",
                json!({ "enum": ["name", "email", "phone", "worksites", "portal_users", "created"], "default": "name" }),
                "Order by",
            ),
            (
                "dir",
                json!({ "enum": ["asc", "desc"], "default": "asc" }),
                "Direction",
            ),
            (
                "page",
                json!({ "type": "integer", "minimum": 1, "default": 1 }),
                "Page number",
            ),
            (
                "size",
                json!({ "enum": [10, 25, 50, 100], "default": 25 }),
                "Clients per page",
            ),
        ],
    );
    json!({
        "paths": {
            "/api/v1/{agency}/clients": {
                "get": list,
                "post": operation("Add a client", "clients", &["agency"], Some(schema("ClientInput")),
                    Success::json(201, "The new client", schema("Client")), &[422]),
            },
            "/api/v1/{agency}/clients/{id}": {
                "get": operation("One client", "clients", one, None,
                    Success::json(200, "The client", schema("Client")), &[404]),
                "put": operation("Replace a client's details", "clients", one, Some(schema("ClientInput")),
                    Success::json(200, "The changed client", schema("Client")), &[404, 422]),
                "delete": operation("Delete a client without data (archive one with data)", "clients", one, None,
                    Success::empty(204, "Deleted"), &[404, 409]),
            },
            "/api/v1/{agency}/clients/{id}/archive": {
                "post": operation("Archive a client: hidden from lists and the portal, history kept", "clients", one, None,
                    Success::json(200, "The archived client", schema("Client")), &[404]),
            },
            "/api/v1/{agency}/clients/{id}/restore": {
                "post": operation("Restore an archived client", "clients", one, None,
                    Success::json(200, "The restored client", schema("Client")), &[404]),
            },
        },
        "components": {
            "schemas": {
                "Client": {
                    "type": "object",
                    "required": ["id", "name", "email", "phone", "address", "portal_enabled", "notes", "created_at"],
                    "properties": {
                        "id": { "type": "integer" },
                        "name": { "type": "string" },
                        "email": { "type": "string", "description": "Lower-cased; may be empty" },
                        "phone": { "type": "string" },
                        "address": { "type": "string" },
                        "portal_enabled": { "type": "boolean" },
                        "notes": { "type": "string" },
                        "archived_at": { "type": ["string", "null"], "format": "date-time" },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "ClientSummary": {
                    "allOf": [schema("Client"), {
                        "type": "object",
                        "properties": { "worksites": { "type": "integer" }, "portal_users": { "type": "integer" } }
                    }]
                },
                "ClientPage": {
                    "type": "object",
                    "required": ["clients", "total", "page", "size"],
                    "properties": {
                        "clients": { "type": "array", "items": schema("ClientSummary") },
                        "total": { "type": "integer" },
                        "page": { "type": "integer" },
                        "size": { "type": "integer" }
                    }
                },
                "ClientInput": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": { "type": "string", "maxLength": 200, "description": "Unique within the agency, any case" },
                        "email": { "type": "string", "format": "email" },
                        "phone": { "type": "string", "maxLength": 40 },
                        "address": { "type": "string", "maxLength": 500 },
                        "notes": { "type": "string", "maxLength": 4000 },
                        "portal_enabled": { "type": "boolean", "default": false }
                    }
                }
            }
        }
    })
}
