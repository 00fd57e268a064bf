//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, assembled from one fragment per
//! API module. Each module exposes `pub(crate) fn openapi() -> serde_json::Value` returning
//! `{"paths": {...}, "components": {"schemas": {...}}}`; [`FRAGMENTS`] lists them. A path or
//! schema name defined twice is an error (and a failing test), never a silent overwrite.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::AppError;

/// A module's name and the function that describes its routes.
pub(crate) type Fragment = (&'static str, fn() -> Value);

/// Every module's fragment, by module name. Add a module's `openapi` here with its routes.
pub(crate) const FRAGMENTS: &[Fragment] = &[
    ("api", super::openapi),
    ("clients", super::clients::openapi),
    ("worksites", super::worksites::openapi),
    ("contacts", super::contacts::openapi),
    ("staff", super::staff::openapi),
    ("portal-users", super::portal_users::openapi),
    ("feed", super::feed::openapi),
    ("changes", super::changes::openapi),
    ("settings", super::settings::openapi),
    ("workspace", super::workspace::openapi),
];

/// Why fragments could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("path {path} is described by both {first} and {second}")]
    DuplicatePath {
        path: String,
        first: String,
        second: String,
    },
    #[error("schema {name} is defined by both {first} and {second}")]
    DuplicateSchema {
        name: String,
        first: String,
        second: String,
    },
    #[error("fragment {0} is not an object with `paths` and `components` object of objects")]
    Malformed(String),
}

/// Merges `fragments` into one OpenAPI 3.1 document.
pub fn merge(fragments: &[(&str, Value)]) -> Result<Value, MergeError> {
    let mut paths = Map::new();
    // Components by section (`schemas`, `responses`, …); the security scheme is the merger's.
    let mut components: Map<String, Value> = Map::new();
    let mut path_owner: Vec<(String, String)> = Vec::new();
    let mut component_owner: Vec<(String, String)> = Vec::new();
    for (module, fragment) in fragments {
        let malformed = || MergeError::Malformed((*module).to_owned());
        let own_paths = match fragment.get("paths") {
            None => Map::new(),
            Some(value) => value.as_object().cloned().ok_or_else(malformed)?,
        };
        let own_components = match fragment.get("components") {
            None => Map::new(),
            Some(value) => value.as_object().cloned().ok_or_else(malformed)?,
        };
        for (path, item) in own_paths {
            if let Some((_, first)) = path_owner.iter().find(|(p, _)| *p == path) {
                return Err(MergeError::DuplicatePath {
                    path,
                    first: first.clone(),
                    second: (*module).to_owned(),
                });
            }
            path_owner.push((path.clone(), (*module).to_owned()));
            paths.insert(path, item);
        }
        for (section, items) in own_components {
            let items = items.as_object().cloned().ok_or_else(malformed)?;
            for (name, item) in items {
                // Schemas are named plainly in errors; other sections with their section.
                let key = if section == "schemas" {
                    name.clone()
                } else {
                    format!("{section}/{name}")
                };
                if let Some((_, first)) = component_owner.iter().find(|(n, _)| *n == key) {
                    return Err(MergeError::DuplicateSchema {
                        name: key,
                        first: first.clone(),
                        second: (*module).to_owned(),
                    });
                }
                component_owner.push((key, (*module).to_owned()));
                if let Value::Object(into) = components
                    .entry(section.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    into.insert(name, item);
                }
            }
        }
    }
    components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()));
    components.insert(
        "securitySchemes".into(),
        json!({ "bearer": { "type": "http", "scheme": "bearer", "description": "An agency API token" } }),
    );
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Portal API",
            "version": "1",
            "description": "The JSON API for an agency's back-office systems. Every call names the agency in the path and sends one of its API tokens (`Authorization: Bearer portal_…`, created by an admin under API tokens); a token works only for its own agency, and every change is written to the agency's audit log. Errors are problem objects (RFC 9457); refused input answers 422 with a message per field."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": components,
    }))
}

/// The document of this build, merged once.
pub fn document() -> Result<&'static Value, &'static MergeError> {
    static DOCUMENT: OnceLock<Result<Value, MergeError>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let fragments: Vec<(&str, Value)> = FRAGMENTS
                .iter()
                .map(|(name, fragment)| (*name, fragment()))
                .collect();
            merge(&fragments)
        })
        .as_ref()
}

/// `GET /api/v1/openapi.json` (no token needed: it describes, it does not reveal).
pub async fn serve() -> Response {
    match document() {
        Ok(document) => Json(document).into_response(),
        Err(err) => AppError::Internal(anyhow::anyhow!("OpenAPI document: {err}")).into_response(),
    }
}

// ---- helpers for fragments ----

/// `{"$ref": "#/components/schemas/NAME"}`.
pub(crate) fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The success answer of an operation.
pub(crate) struct Success {
    status: u16,
    description: &'static str,
    body: Option<Value>,
}

impl Success {
    pub(crate) fn json(status: u16, description: &'static str, body: Value) -> Self {
        Self {
            status,
            description,
            body: Some(body),
        }
    }

    pub(crate) fn empty(status: u16, description: &'static str) -> Self {
        Self {
            status,
            description,
            body: None,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed",
        401 => "No valid API token",
        403 => "The token belongs to another agency",
        404 => "No such resource in this agency",
        409 => "The resource's state forbids this; `detail` says why",
        422 => "Refused input; `errors` has a message per field",
        _ => "Error",
    }
}

/// One operation: path parameters (all integers except `agency`), an optional JSON request
/// body, the success answer and the problems it may answer besides 401/403 (always listed
/// for operations under an agency).
pub(crate) fn operation(
    summary: &str,
    tag: &str,
    params: &[&str],
    body: Option<Value>,
    success: Success,
    problems: &[u16],
) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|name| {
            let kind = if *name == "agency" {
                "string"
            } else {
                "integer"
            };
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": kind } })
        })
        .collect();
    let mut responses = Map::new();
    let mut answer = json!({ "description": success.description });
    if let Some(body) = success.body {
        answer["content"] = json!({ "application/json": { "schema": body } });
    }
    responses.insert(success.status.to_string(), answer);
    let guarded = params.contains(&"agency");
    let standard: &[u16] = if guarded { &[401, 403] } else { &[] };
    for status in standard.iter().chain(problems) {
        responses.insert(
            status.to_string(),
            json!({
                "description": reason(*status),
                "content": { "application/problem+json": { "schema": schema("Problem") } }
            }),
        );
    }
    let mut op = json!({
        "summary": summary,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body } } });
    }
    op
}

/// Query parameters for an operation, each `(name, JSON schema, description)`.
pub(crate) fn with_query(mut op: Value, query: &[(&str, Value, &str)]) -> Value {
    if let Some(list) = op["parameters"].as_array_mut() {
        for (name, schema, description) in query {
            list.push(json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description }));
        }
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_documents_every_served_route() {
        let document = document().expect("fragments merge");
        assert_eq!(document["openapi"], "3.1.0");
        let text = serde_json::to_string(document).expect("serialises");
        let parsed: Value = serde_json::from_str(&text).expect("parses");
        assert!(parsed["info"]["title"].is_string());
        let served = super::super::served();
        assert!(served.len() > 20, "the route table lists the API");
        for (method, path) in &served {
            assert!(
                document["paths"][path][method].is_object(),
                "{method} {path} is served but not documented"
            );
        }
        // And nothing is documented that is not served.
        for (path, item) in document["paths"].as_object().expect("paths") {
            let operations = item.as_object().expect("path item").keys().filter(|key| {
                // A path item's other fields are shared by its operations.
                !matches!(
                    key.as_str(),
                    "parameters" | "summary" | "description" | "servers"
                )
            });
            for method in operations {
                assert!(
                    served.iter().any(|(m, p)| m == method && p == path),
                    "{method} {path} is documented but not served"
                );
            }
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let document = document().expect("fragments merge");
        let text = serde_json::to_string(document).expect("serialises");
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(
                document["components"]["schemas"][name].is_object(),
                "schema {name} is referenced but not defined"
            );
        }
    }

    #[test]
    fn a_path_or_schema_defined_twice_is_refused() {
        let a =
            json!({ "paths": { "/x": { "get": {} } }, "components": { "schemas": { "X": {} } } });
        let b = json!({ "paths": { "/x": { "post": {} } } });
        let c = json!({ "paths": { "/y": {} }, "components": { "schemas": { "X": {} } } });
        assert_eq!(
            merge(&[("a", a.clone()), ("b", b)]),
            Err(MergeError::DuplicatePath {
                path: "/x".into(),
                first: "a".into(),
                second: "b".into()
            })
        );
        assert_eq!(
            merge(&[("a", a.clone()), ("c", c)]),
            Err(MergeError::DuplicateSchema {
                name: "X".into(),
                first: "a".into(),
                second: "c".into()
            })
        );
        assert_eq!(
            merge(&[("bad", json!({ "paths": [] }))]),
            Err(MergeError::Malformed("bad".into()))
        );
        assert!(merge(&[("a", a)]).is_ok());
    }
}
