//! `/api/v1/{agency}/clients/{id}/worksites`: a client's worksites.

use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};

/// The path of one worksite.
pub const ONE: &str = "/api/v1/{agency}/clients/{id}/worksites/{worksite}";

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
