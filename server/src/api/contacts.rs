//! `/api/v1/{agency}/clients/{id}/contacts`: the people at a client.

use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};

/// The path of one contact.
pub const ONE: &str = "/api/v1/{agency}/clients/{id}/contacts/{contact}";

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
