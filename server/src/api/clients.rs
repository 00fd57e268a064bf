//! `/api/v1/{agency}/clients`: the same client rules as the manage area, for back-office
//! systems.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::auth::api_tokens::ApiClient;
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::manage::clients::{ClientInput, change, create};

pub async fn list(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    let rows = clients::search(&state.db().pool, client.agency.id, "", true).await?;
    Ok(Json(serde_json::json!({ "clients": rows })).into_response())
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
