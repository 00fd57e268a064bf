//! `/api/v1/{agency}/clients/{id}/worksites`: a client's worksites.

use serde_json::{Value, json};
use sqlx::AnyPool;

use super::client_parts::ClientPart;
use super::openapi::{Success, operation, schema};
use crate::agency::Agency;
use crate::clients::{Removal, WORKSITE_IN_USE, WorksiteInput, remove_worksite, save_worksite};
use crate::db::audit::Actor;
use crate::db::clients;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The path of one worksite.
pub const ONE: &str = "/api/v1/{agency}/clients/{id}/worksites/{worksite}";

/// A client's worksites.
#[derive(Debug)]
pub struct Worksites;

impl ClientPart for Worksites {
    const PLURAL: &'static str = "worksites";
    type Row = clients::Worksite;
    type Input = WorksiteInput;

    async fn list(pool: &AnyPool, agency_id: i64, client_id: i64) -> sqlx::Result<Vec<Self::Row>> {
        clients::worksites(pool, agency_id, client_id).await
    }

    async fn get(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
        id: i64,
    ) -> sqlx::Result<Option<Self::Row>> {
        clients::worksite(pool, agency_id, client_id, id).await
    }

    async fn save(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: Option<i64>,
        input: &WorksiteInput,
        actor: Actor<'_>,
    ) -> AppResult<Option<i64>> {
        save_worksite(state, agency, client_id, id, input, actor).await
    }

    /// 409 while something refers to the worksite.
    async fn remove(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: i64,
        actor: Actor<'_>,
    ) -> AppResult<()> {
        match remove_worksite(state, agency, client_id, id, actor).await? {
            Removal::Removed => Ok(()),
            Removal::NotFound => Err(AppError::NotFound),
            Removal::InUse => Err(AppError::Conflict(WORKSITE_IN_USE.into())),
        }
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
