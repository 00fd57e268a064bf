//! What a client has that the API treats alike — its worksites and its contacts
//! ([`ClientPart`]): listed, shown, added, replaced and removed under
//! `/api/v1/{agency}/clients/{id}/…`, each change through the operation the manage pages use.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::api_tokens::ApiClient;
use crate::clients::{ClientPart, Removal};
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// `GET …/clients/{id}/<part>`.
pub async fn list<P: ClientPart>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    clients::get(pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = P::list(pool, client.agency.id, id).await?;
    Ok(Json(json!({ P::PLURAL: rows })).into_response())
}

async fn one<P: ClientPart>(
    state: &AppState,
    client: &ApiClient,
    id: i64,
    part: i64,
) -> AppResult<Response> {
    let found = P::get(&state.db().pool, client.agency.id, id, part)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(found).into_response())
}

/// `GET …/clients/{id}/<part>/{part id}`.
pub async fn show<P: ClientPart>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, part)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    one::<P>(&state, &client, id, part).await
}

/// `POST …/clients/{id}/<part>`: 201 with the new one.
pub async fn add<P: ClientPart>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<P::Input>,
) -> AppResult<Response> {
    let part = P::save(&state, &client.agency, id, None, &input, client.actor())
        .await?
        .ok_or(AppError::NotFound)?;
    let created = one::<P>(&state, &client, id, part).await?;
    Ok((StatusCode::CREATED, created).into_response())
}

/// `PUT …/clients/{id}/<part>/{part id}`.
pub async fn replace<P: ClientPart>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, part)): Path<(String, i64, i64)>,
    Json(input): Json<P::Input>,
) -> AppResult<Response> {
    P::save(
        &state,
        &client.agency,
        id,
        Some(part),
        &input,
        client.actor(),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    one::<P>(&state, &client, id, part).await
}

/// `DELETE …/clients/{id}/<part>/{part id}`: 204, or 409 while something refers to it.
pub async fn delete<P: ClientPart>(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, part)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    match P::remove(&state, &client.agency, id, part, client.actor()).await? {
        Removal::Removed => Ok(StatusCode::NO_CONTENT.into_response()),
        Removal::NotFound => Err(AppError::NotFound),
        Removal::InUse(why) => Err(AppError::Conflict(why.into())),
    }
}
