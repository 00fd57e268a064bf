//! `/api/v1/{agency}/clients/{id}/worksites`: a client's worksites.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};
use crate::auth::api_tokens::ApiClient;
use crate::clients::{Removal, WORKSITE_IN_USE, WorksiteInput, remove_worksite, save_worksite};
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The path of one worksite.
pub const ONE: &str = "/api/v1/{agency}/clients/{id}/worksites/{worksite}";

pub async fn list(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    clients::get(pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = clients::worksites(pool, client.agency.id, id).await?;
    Ok(Json(json!({ "worksites": rows })).into_response())
}

async fn one(state: &AppState, client: &ApiClient, id: i64, worksite: i64) -> AppResult<Response> {
    let found = clients::worksite(&state.db().pool, client.agency.id, id, worksite)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(found).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    one(&state, &client, id, worksite).await
}

pub async fn add(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<WorksiteInput>,
) -> AppResult<Response> {
    let worksite = save_worksite(&state, &client.agency, id, None, &input, client.actor())
        .await?
        .ok_or(AppError::NotFound)?;
    let created = one(&state, &client, id, worksite).await?;
    Ok((StatusCode::CREATED, created).into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
    Json(input): Json<WorksiteInput>,
) -> AppResult<Response> {
    save_worksite(
        &state,
        &client.agency,
        id,
        Some(worksite),
        &input,
        client.actor(),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    one(&state, &client, id, worksite).await
}

/// 204, or 409 while something refers to the worksite.
pub async fn delete(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    match remove_worksite(&state, &client.agency, id, worksite, client.actor()).await? {
        Removal::Removed => Ok(StatusCode::NO_CONTENT.into_response()),
        Removal::NotFound => Err(AppError::NotFound),
        Removal::InUse => Err(AppError::Conflict(WORKSITE_IN_USE.into())),
    }
}

pub(crate) fn openapi() -> Value {
    let all = &["agency", "id"];
    let one = &["agency", "id", "worksite"];
    json!({
        "paths": {
            "/api/v1/{agency}/clients/{id}/worksites": {
                "get": operation("A client's worksites", "worksites", all, None,
                    Success::json(200, "The worksites, by name", json!({
                        "type": "object", "required": ["worksites"],
                        "properties": { "worksites": { "type": "array", "items": schema("Worksite") } }
                    })), &[404]),
                "post": operation("Add a worksite", "worksites", all, Some(schema("WorksiteInput")),
                    Success::json(201, "The new worksite", schema("Worksite")), &[404, 422]),
            },
            ONE: {
                "get": operation("One worksite", "worksites", one, None,
                    Success::json(200, "The worksite", schema("Worksite")), &[404]),
                "put": operation("Rename or move a worksite", "worksites", one, Some(schema("WorksiteInput")),
                    Success::json(200, "The changed worksite", schema("Worksite")), &[404, 422]),
                "delete": operation("Remove a worksite nothing refers to", "worksites", one, None,
                    Success::empty(204, "Removed"), &[404, 409]),
            },
        },
        "components": {
            "schemas": {
                "Worksite": {
                    "type": "object",
                    "required": ["id", "client_id", "name", "address"],
                    "properties": {
                        "id": { "type": "integer" },
                        "client_id": { "type": "integer" },
                        "name": { "type": "string" },
                        "address": { "type": "string" }
                    }
                },
                "WorksiteInput": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": { "type": "string", "maxLength": 200 },
                        "address": { "type": "string", "maxLength": 500 }
                    }
                }
            }
        }
    })
}
