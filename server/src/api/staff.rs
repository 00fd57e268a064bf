//! `/api/v1/{agency}/staff`: the agency's team — list, invite, change role, deactivate and
//! reactivate, under the same rules as the Team page (the last active admin stays).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};
use crate::auth::api_tokens::ApiClient;
use crate::db::staff_users;
use crate::error::{AppError, AppResult};
use crate::mail::Queued;
use crate::staff::{self as team, InviteInput};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    let team = staff_users::list(&state.db().pool, client.agency.id).await?;
    Ok(Json(json!({ "staff": team })).into_response())
}

async fn one(state: &AppState, client: &ApiClient, id: i64) -> AppResult<Response> {
    let found = staff_users::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(found).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    one(&state, &client, id).await
}

/// Invites a team member; they get an email with a link to choose their password (unless
/// the portal is disabled: `invitation_sent` says which).
pub async fn invite(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<InviteInput>,
) -> AppResult<Response> {
    let inviter = client.token.name.clone();
    let (id, queued) =
        team::invite(&state, &client.agency, &input, client.actor(), &inviter).await?;
    let found = staff_users::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut body = serde_json::to_value(found).map_err(anyhow::Error::from)?;
    body["invitation_sent"] = json!(queued != Queued::PortalDisabled);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// What may change about a team member; absent fields stay as they are.
#[derive(Debug, Deserialize)]
pub struct StaffChange {
    #[serde(default)]
    role: Option<String>,
    /// `false` deactivates (ending their sessions), `true` reactivates.
    #[serde(default)]
    active: Option<bool>,
}

pub async fn change(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<StaffChange>,
) -> AppResult<Response> {
    staff_users::get(&state.db().pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(role) = &input.role {
        team::change_role(&state, &client.agency, id, role, client.actor()).await?;
    }
    if let Some(active) = input.active {
        team::set_active(&state, &client.agency, id, active, client.actor(), None).await?;
    }
    one(&state, &client, id).await
}

pub(crate) fn openapi() -> Value {
    let one = &["agency", "id"];
    json!({
        "paths": {
            "/api/v1/{agency}/staff": {
                "get": operation("The agency's team", "staff", &["agency"], None,
                    Success::json(200, "Every team member, by name", json!({
                        "type": "object", "required": ["staff"],
                        "properties": { "staff": { "type": "array", "items": schema("StaffMember") } }
                    })), &[]),
                "post": operation("Invite a team member (emailed a link to choose a password)", "staff", &["agency"],
                    Some(schema("StaffInvite")),
                    Success::json(201, "The invited member, with `invitation_sent`", schema("StaffMember")), &[422]),
            },
            "/api/v1/{agency}/staff/{id}": {
                "get": operation("One team member", "staff", one, None,
                    Success::json(200, "The team member", schema("StaffMember")), &[404]),
                "patch": operation("Change a member's role, or deactivate / reactivate them", "staff", one,
                    Some(schema("StaffChange")),
                    Success::json(200, "The changed member", schema("StaffMember")), &[404, 409, 422]),
            },
        },
        "components": {
            "schemas": {
                "StaffMember": {
                    "type": "object",
                    "required": ["id", "email", "name", "role", "status"],
                    "properties": {
                        "id": { "type": "integer" },
                        "agency_id": { "type": "integer" },
                        "email": { "type": "string" },
                        "name": { "type": "string" },
                        "role": { "enum": ["admin", "staff"] },
                        "status": { "enum": ["invited", "active", "deactivated"] },
                        "must_change_password": { "type": "boolean" },
                        "last_login_at": { "type": ["string", "null"], "format": "date-time" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "invitation_sent": { "type": "boolean", "description": "Only in the answer to an invitation" }
                    }
                },
                "StaffInvite": {
                    "type": "object",
                    "required": ["name", "email", "role"],
                    "properties": {
                        "name": { "type": "string", "maxLength": 200 },
                        "email": { "type": "string", "format": "email" },
                        "role": { "enum": ["admin", "staff"] }
                    }
                },
                "StaffChange": {
                    "type": "object",
                    "properties": {
                        "role": { "enum": ["admin", "staff"] },
                        "active": { "type": "boolean", "description": "false deactivates and ends their sessions; true reactivates" }
                    }
                }
            }
        }
    })
}
