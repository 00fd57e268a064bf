//! `/api/v1/{agency}/clients/{id}/contacts`: the people at a client.

use serde_json::{Value, json};
use sqlx::AnyPool;

use super::client_parts::ClientPart;
use super::openapi::{Success, operation, schema};
use crate::agency::Agency;
use crate::contacts::{ContactInput, remove, save};
use crate::db::audit::Actor;
use crate::db::contacts;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The path of one contact.
pub const ONE: &str = "/api/v1/{agency}/clients/{id}/contacts/{contact}";

/// A client's contacts.
#[derive(Debug)]
pub struct Contacts;

impl ClientPart for Contacts {
    const PLURAL: &'static str = "contacts";
    type Row = contacts::Contact;
    type Input = ContactInput;

    async fn list(pool: &AnyPool, agency_id: i64, client_id: i64) -> sqlx::Result<Vec<Self::Row>> {
        contacts::for_client(pool, agency_id, client_id).await
    }

    async fn get(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
        id: i64,
    ) -> sqlx::Result<Option<Self::Row>> {
        contacts::get(pool, agency_id, client_id, id).await
    }

    async fn save(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: Option<i64>,
        input: &ContactInput,
        actor: Actor<'_>,
    ) -> AppResult<Option<i64>> {
        save(state, agency, client_id, id, input, actor).await
    }

    async fn remove(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: i64,
        actor: Actor<'_>,
    ) -> AppResult<()> {
        if remove(state, agency, client_id, id, actor).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

pub(crate) fn openapi() -> Value {
    let all = &["agency", "id"];
    let one = &["agency", "id", "contact"];
    json!({
        "paths": {
            "/api/v1/{agency}/clients/{id}/contacts": {
                "get": operation("A client's contacts", "contacts", all, None,
                    Success::json(200, "The contacts, by last name", json!({
                        "type": "object", "required": ["contacts"],
                        "properties": { "contacts": { "type": "array", "items": schema("Contact") } }
                    })), &[404]),
                "post": operation("Add a contact", "contacts", all, Some(schema("ContactInput")),
                    Success::json(201, "The new contact", schema("Contact")), &[404, 422]),
            },
            ONE: {
                "get": operation("One contact", "contacts", one, None,
                    Success::json(200, "The contact", schema("Contact")), &[404]),
                "put": operation("Replace a contact's details", "contacts", one, Some(schema("ContactInput")),
                    Success::json(200, "The changed contact", schema("Contact")), &[404, 422]),
                "delete": operation("Remove a contact", "contacts", one, None,
                    Success::empty(204, "Removed"), &[404]),
            },
        },
        "components": {
            "schemas": {
                "Contact": {
                    "type": "object",
                    "required": ["id", "client_id", "first_name", "last_name", "title", "email", "phone"],
                    "properties": {
                        "id": { "type": "integer" },
                        "client_id": { "type": "integer" },
                        "worksite_id": { "type": ["integer", "null"] },
                        "worksite_name": { "type": ["string", "null"] },
                        "portal_user_id": { "type": ["integer", "null"] },
                        "portal_user_email": { "type": ["string", "null"] },
                        "first_name": { "type": "string" },
                        "last_name": { "type": "string" },
                        "title": { "type": "string" },
                        "email": { "type": "string" },
                        "phone": { "type": "string" }
                    }
                },
                "ContactInput": {
                    "type": "object",
                    "required": ["first_name", "last_name"],
                    "properties": {
                        "first_name": { "type": "string", "maxLength": 100 },
                        "last_name": { "type": "string", "maxLength": 100 },
                        "title": { "type": "string", "maxLength": 100 },
                        "email": { "type": "string", "format": "email" },
                        "phone": { "type": "string", "maxLength": 40 },
                        "worksite_id": { "type": ["integer", "null"], "description": "One of the client's worksites" },
                        "portal_user_id": { "type": ["integer", "null"], "description": "A portal login that sees the client" }
                    }
                }
            }
        }
    })
}
