//! The JSON API for agencies' back-office systems: `/api/v1/{agency}/…` with an API token,
//! and its OpenAPI document at `/api/v1/openapi.json`.
//!
//! Routes are declared once, in [`table`]: the router is built from it and the OpenAPI test
//! checks every route in it against the document, so an undocumented route fails a test.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::api_tokens::ApiClient;
use crate::clients::Worksites;
use crate::contacts::Contacts;
use crate::state::AppState;

mod changes;
mod client_parts;
mod clients;
mod contacts;
mod feed;
pub mod openapi;
pub mod portal_users;
mod settings;
mod staff;
mod worksites;
mod workspace;

pub fn routes() -> Router<AppState> {
    table().router
}

/// The API's routes as `(method, path)`, lower-case methods, axum path syntax (which is
/// also OpenAPI's).
pub fn served() -> Vec<(String, String)> {
    table().served
}

/// The router and the list of what it serves, built together.
struct RouteTable {
    router: Router<AppState>,
    served: Vec<(String, String)>,
}

impl RouteTable {
    fn new() -> Self {
        Self {
            router: Router::new(),
            served: Vec::new(),
        }
    }

    fn at<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("no method filter for {method}"));
        self.router = self.router.route(path, on(filter, handler));
        self.served
            .push((method.as_str().to_lowercase(), path.to_owned()));
        self
    }
}

fn table() -> RouteTable {
    RouteTable::new()
        .at(Method::GET, "/api/v1/openapi.json", openapi::serve)
        .at(Method::GET, "/api/v1/{agency}/token", token)
        .at(Method::GET, "/api/v1/{agency}/clients", clients::list)
        .at(Method::POST, "/api/v1/{agency}/clients", clients::add)
        .at(Method::GET, "/api/v1/{agency}/clients/{id}", clients::show)
        .at(
            Method::PUT,
            "/api/v1/{agency}/clients/{id}",
            clients::replace,
        )
        .at(
            Method::DELETE,
            "/api/v1/{agency}/clients/{id}",
            clients::delete,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/clients/{id}/archive",
            clients::archive,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/clients/{id}/restore",
            clients::restore,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/clients/{id}/worksites",
            client_parts::list::<Worksites>,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/clients/{id}/worksites",
            client_parts::add::<Worksites>,
        )
        .at(Method::GET, worksites::ONE, client_parts::show::<Worksites>)
        .at(
            Method::PUT,
            worksites::ONE,
            client_parts::replace::<Worksites>,
        )
        .at(
            Method::DELETE,
            worksites::ONE,
            client_parts::delete::<Worksites>,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/clients/{id}/contacts",
            client_parts::list::<Contacts>,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/clients/{id}/contacts",
            client_parts::add::<Contacts>,
        )
        .at(Method::GET, contacts::ONE, client_parts::show::<Contacts>)
        .at(
            Method::PUT,
            contacts::ONE,
            client_parts::replace::<Contacts>,
        )
        .at(
            Method::DELETE,
            contacts::ONE,
            client_parts::delete::<Contacts>,
        )
        .at(Method::GET, "/api/v1/{agency}/staff", staff::list)
        .at(Method::POST, "/api/v1/{agency}/staff", staff::invite)
        .at(Method::GET, "/api/v1/{agency}/staff/{id}", staff::show)
        .at(Method::PATCH, "/api/v1/{agency}/staff/{id}", staff::change)
        .at(Method::GET, "/api/v1/{agency}/settings", settings::show)
        .at(Method::PUT, "/api/v1/{agency}/settings", settings::replace)
        .at(
            Method::GET,
            "/api/v1/{agency}/portal-users",
            portal_users::list,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users",
            portal_users::create,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/bulk",
            portal_users::bulk,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/import",
            portal_users::import,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/portal-users/export",
            portal_users::export,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/portal-users/{id}",
            portal_users::show,
        )
        .at(
            Method::PUT,
            "/api/v1/{agency}/portal-users/{id}",
            portal_users::update,
        )
        .at(
            Method::DELETE,
            "/api/v1/{agency}/portal-users/{id}",
            portal_users::delete,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/deactivate",
            portal_users::deactivate,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/reactivate",
            portal_users::reactivate,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/sign-out",
            portal_users::sign_out,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/password",
            portal_users::set_password,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/reset-link",
            portal_users::reset_link,
        )
        .at(
            Method::POST,
            "/api/v1/{agency}/portal-users/{id}/resend",
            portal_users::resend,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/timesheets",
            changes::timesheets,
        )
        .at(
            Method::GET,
            "/api/v1/{agency}/work-requests",
            changes::work_requests,
        )
        .workspace()
        .feed()
}

/// Which agency and token a request authenticates as: a first call to check a set-up.
async fn token(client: ApiClient) -> Json<Value> {
    Json(json!({
        "agency": { "slug": client.agency.slug, "name": client.agency.config.display_name },
        "token": { "name": client.token.name, "prefix": client.token.prefix },
    }))
}

/// This module's part of the OpenAPI document: the token check, the document itself, and
/// the schemas every module shares (problems).
pub(crate) fn openapi() -> Value {
    use openapi::{Success, operation};
    let token = json!({
        "type": "object",
        "required": ["agency", "token"],
        "properties": {
            "agency": { "type": "object", "properties": { "slug": { "type": "string" }, "name": { "type": "string" } } },
            "token": { "type": "object", "properties": { "name": { "type": "string" }, "prefix": { "type": "string" } } }
        }
    });
    let mut document = operation(
        "This document (OpenAPI 3.1)",
        "meta",
        &[],
        None,
        Success::json(200, "The OpenAPI document", json!({ "type": "object" })),
        &[],
    );
    document["security"] = json!([]);
    json!({
        "paths": {
            "/api/v1/openapi.json": { "get": document },
            "/api/v1/{agency}/token": {
                "get": operation(
                    "Which agency and token the request authenticates as",
                    "meta",
                    &["agency"],
                    None,
                    Success::json(200, "The agency and token", token),
                    &[],
                )
            }
        },
        "components": {
            "schemas": {
                "Problem": {
                    "type": "object",
                    "description": "An error (RFC 9457). `errors` holds a message per field when the input was refused (422).",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "errors": { "type": ["object", "null"], "additionalProperties": { "type": "string" } }
                    }
                }
            }
        }
    })
}
