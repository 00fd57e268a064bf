//! The JSON API for agencies' back-office systems: `/api/v1/{agency}/…` with an API token.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::api_tokens::ApiClient;

mod changes;
mod clients;
mod feed;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{agency}/token", get(token))
        .route(
            "/api/v1/{agency}/clients",
            get(clients::list).post(clients::add),
        )
        .route(
            "/api/v1/{agency}/clients/{id}",
            get(clients::show).put(clients::replace),
        )
        .route("/api/v1/{agency}/timesheets", get(changes::timesheets))
        .route(
            "/api/v1/{agency}/work-requests",
            get(changes::work_requests),
        )
        .merge(feed::routes())
}

/// Which agency and token a request authenticates as: a first call to check a set-up.
async fn token(client: ApiClient) -> Json<Value> {
    Json(json!({
        "agency": { "slug": client.agency.slug, "name": client.agency.config.display_name },
        "token": { "name": client.token.name, "prefix": client.token.prefix },
    }))
}

/// The data feed's part of the OpenAPI document (paths and components merged from each
/// module's fragment).
pub fn feed_openapi() -> Value {
    let mut merged = json!({ "paths": {}, "components": { "schemas": {}, "responses": {} } });
    for fragment in [feed::openapi(), changes::openapi()] {
        for (section, target) in [
            ("/paths", "/paths"),
            ("/components/schemas", "/components/schemas"),
            ("/components/responses", "/components/responses"),
        ] {
            let Some(Value::Object(items)) = fragment.pointer(section).cloned() else {
                continue;
            };
            if let Some(Value::Object(into)) = merged.pointer_mut(target) {
                into.extend(items);
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_document_names_every_endpoint_and_resolves_its_references() {
        let document = feed_openapi();
        let paths = document["paths"].as_object().cloned().unwrap_or_default();
        for path in [
            "/api/v1/{agency}/workers/by-external-id/{external_id}",
            "/api/v1/{agency}/timesheets/batch",
            "/api/v1/{agency}/invoices/by-external-id/{external_id}/pdf",
            "/api/v1/{agency}/documents/by-external-id/{external_id}",
            "/api/v1/{agency}/timesheets",
            "/api/v1/{agency}/work-requests",
        ] {
            assert!(paths.contains_key(path), "missing {path}");
        }
        let text = document.to_string();
        for reference in text.split("\"$ref\":\"#/").skip(1) {
            let pointer = format!("/{}", reference.split('"').next().unwrap_or_default());
            assert!(
                document.pointer(&pointer).is_some(),
                "unresolved reference {pointer}"
            );
        }
    }
}
