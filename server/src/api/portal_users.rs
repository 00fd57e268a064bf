//! `/api/v1/{agency}/portal-users…`: the portal-user rules of the manage area for back-office
//! systems. A token acts for the agency, as an admin does; every change is audited under the
//! token's name. Field problems come back as a problem object with `errors` per field.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::api_tokens::ApiClient;
use crate::auth::passwords;
use crate::db::portal_users;
use crate::error::{AppError, AppResult, ErrorInfo};
use crate::mail::Queued;
use crate::portal_users::pages::{FormatQuery, ListQuery};
use crate::portal_users::{
    self as rules, Granter, NewUserInput, PortalUserInput, RESENDS_PER_HOUR, Sent,
};
use crate::portal_users::{export as report, import as csv_import};
use crate::state::AppState;

/// A user with the clients they are linked to.
async fn user_json(state: &AppState, client: &ApiClient, id: i64) -> AppResult<Value> {
    let user = rules::find(state, &client.agency, id).await?;
    let clients = portal_users::client_ids(&state.db().pool, client.agency.id, id).await?;
    let mut value = serde_json::to_value(&user).map_err(anyhow::Error::from)?;
    value["client_ids"] = json!(clients);
    Ok(value)
}

/// `GET …/portal-users?q=&status=&sort=&dir=&page=&size=&after=&before=&at=`.
pub async fn list(
    State(state): State<AppState>,
    client: ApiClient,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let listing = portal_users::list(
        state.db(),
        client.agency.id,
        &query.filter(),
        i64::from(query.page().size),
        query.seek(),
    )
    .await?;
    let page = query.shown_page(&listing);
    Ok(Json(json!({
        "total": listing.total, "more": listing.more, "page": page.number, "size": page.size,
        "users": listing.users,
    }))
    .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    Ok(Json(user_json(&state, &client, id).await?).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<NewUserInput>,
) -> AppResult<Response> {
    let granter = Granter::agency_admin();
    let created = rules::create(&state, &client.agency, &granter, &input, client.actor()).await?;
    let mut body = user_json(&state, &client, created.id).await?;
    body["email_sent"] = json!(matches!(created.email, Some(Queued::Yes(_))));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<PortalUserInput>,
) -> AppResult<Response> {
    let granter = Granter::agency_admin();
    rules::change(&state, &client.agency, &granter, id, &input, client.actor()).await?;
    Ok(Json(user_json(&state, &client, id).await?).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    rules::find(&state, &client.agency, id).await?;
    rules::delete(&state, &client.agency, &[id], client.actor()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn deactivate(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    rules::set_active(&state, &client.agency, id, false, client.actor()).await?;
    Ok(Json(user_json(&state, &client, id).await?).into_response())
}

pub async fn reactivate(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    rules::set_active(&state, &client.agency, id, true, client.actor()).await?;
    Ok(Json(user_json(&state, &client, id).await?).into_response())
}

/// `POST …/{id}/sign-out`: ends every session of the user; answers how many ended.
pub async fn sign_out(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let ended = rules::sign_out_everywhere(&state, &client.agency, id, client.actor()).await?;
    Ok(Json(json!({ "sessions_ended": ended })).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordInput {
    /// The new password; omitted, a passphrase is generated and returned once.
    #[serde(default)]
    password: Option<String>,
}

/// `POST …/{id}/password`: an admin-set password the user must replace at next sign-in.
pub async fn set_password(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<PasswordInput>,
) -> AppResult<Response> {
    let generated = input.password.is_none();
    let password = input
        .password
        .unwrap_or_else(passwords::generate_passphrase);
    rules::set_password(&state, &client.agency, id, &password, client.actor()).await?;
    let mut body = user_json(&state, &client, id).await?;
    if generated {
        body["password"] = json!(password);
    }
    Ok(Json(body).into_response())
}

/// A problem object for an email that was not sent.
fn not_sent(sent: Sent) -> Response {
    let (status, message) = match sent {
        Sent::Limited => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many emails to this user in the last hour (at most {RESENDS_PER_HOUR} invitations). Try again later."
            ),
        ),
        Sent::NotInvited => (
            StatusCode::CONFLICT,
            "The user has chosen a password already; send a reset link instead.".to_owned(),
        ),
        Sent::Queued(queued) => (
            StatusCode::CONFLICT,
            queued
                .notice()
                .unwrap_or(crate::mail::PORTAL_DISABLED_NOTICE)
                .to_owned(),
        ),
    };
    let mut response = status.into_response();
    response.extensions_mut().insert(ErrorInfo {
        status,
        message,
        fields: None,
    });
    response
}

fn sent(outcome: Sent) -> Response {
    match outcome {
        Sent::Queued(Queued::Yes(_)) => {
            (StatusCode::ACCEPTED, Json(json!({ "sent": true }))).into_response()
        }
        other => not_sent(other),
    }
}

pub async fn reset_link(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    Ok(sent(
        rules::send_reset_link(&state, &client.agency, id, client.actor()).await?,
    ))
}

pub async fn resend(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    Ok(sent(
        rules::resend_invitation(&state, &client.agency, id, client.actor()).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct BulkInput {
    action: String,
    ids: Vec<i64>,
}

/// `POST …/portal-users/bulk` `{"action": "delete"|"deactivate"|"resend", "ids": […]}`:
/// how many users it applied to (ids of other agencies count as not found).
pub async fn bulk(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<BulkInput>,
) -> AppResult<Response> {
    let agency = &client.agency;
    let ids = crate::forms::distinct_ids(&input.ids, crate::forms::MOST_USERS_AT_ONCE)?;
    let mut done = 0_u64;
    match input.action.as_str() {
        "delete" => done = rules::delete(&state, agency, &ids, client.actor()).await?,
        "deactivate" => {
            for &id in &ids {
                match rules::set_active(&state, agency, id, false, client.actor()).await {
                    Ok(()) => done += 1,
                    Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        "resend" => {
            for &id in &ids {
                match rules::resend_invitation(&state, agency, id, client.actor()).await {
                    Ok(Sent::Queued(Queued::Yes(_))) => done += 1,
                    Ok(_) | Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        _ => {
            let mut errors = crate::forms::FieldErrors::default();
            errors.add("action", "Use delete, deactivate or resend.");
            return Err(AppError::Invalid(errors));
        }
    }
    Ok(
        Json(json!({ "action": input.action, "requested": input.ids.len(), "done": done }))
            .into_response(),
    )
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    role: String,
}

/// `POST …/portal-users/import?dry_run=true&role=…` with a CSV body: the per-row report.
pub async fn import(
    State(state): State<AppState>,
    client: ApiClient,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| AppError::BadRequest("The CSV must be UTF-8 text.".into()))?;
    let options = csv_import::Options {
        default_role: &query.role,
        dry_run: query.dry_run,
    };
    let report = csv_import::run(
        &state,
        &client.agency,
        &Granter::agency_admin(),
        &text,
        options,
        client.actor(),
        &mut |_, _| {},
    )
    .await?;
    Ok(Json(report).into_response())
}

/// `GET …/portal-users/export?format=csv|xlsx|json&q=…`: the filtered list as a file.
pub async fn export(
    State(state): State<AppState>,
    client: ApiClient,
    Query(query): Query<ListQuery>,
    Query(format): Query<FormatQuery>,
) -> AppResult<Response> {
    let plugins = state
        .plugins()
        .for_request(&client.agency.slug)
        .ok_or(AppError::NotFound)?;
    report::download(
        &state,
        &plugins,
        &client.agency,
        query.filter(),
        &format.format,
    )
}

/// The OpenAPI 3.1 description of these endpoints: `{"paths": …, "components": {"schemas":
/// …}}`, merged into the API's document.
pub fn openapi() -> Value {
    let id =
        json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } });
    let agency =
        json!({ "name": "agency", "in": "path", "required": true, "schema": { "type": "string" } });
    let user = json!({ "$ref": "#/components/schemas/PortalUser" });
    let problem = json!({ "description": "Fields need attention", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
    let not_found = json!({ "description": "No such user in this agency" });
    let ok_user =
        json!({ "description": "The user", "content": { "application/json": { "schema": user } } });
    let action = |summary: &str| json!({ "post": { "summary": summary, "parameters": [agency, id], "responses": { "200": ok_user, "404": not_found } } });
    let emailed = |summary: &str| {
        json!({ "post": { "summary": summary, "parameters": [agency, id], "responses": {
            "202": { "description": "Queued" },
            "404": not_found,
            "409": { "description": "Not applicable (not invited, or the portal is off)" },
            "429": { "description": format!("Rate limited: at most {RESENDS_PER_HOUR} invitations per user per hour") },
        } } })
    };
    let list_params = json!([
        agency,
        { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "Part of a name, email or company" },
        { "name": "status", "in": "query", "schema": { "type": "string", "enum": ["invited", "active", "deactivated"] } },
        { "name": "sort", "in": "query", "schema": { "type": "string", "enum": ["name", "email", "company", "role", "status", "last_sign_in", "created"] } },
        { "name": "dir", "in": "query", "schema": { "type": "string", "enum": ["asc", "desc"] } },
        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1 } },
        { "name": "size", "in": "query", "schema": { "type": "integer", "enum": [10, 25, 50, 100] } },
        { "name": "after", "in": "query", "schema": { "type": "integer" }, "description": "Id of the last user of the previous page: the page starts right after them (fast at any depth); `page` then only numbers it" },
        { "name": "before", "in": "query", "schema": { "type": "integer" }, "description": "Id of the first user of the following page: the page ends right before them" },
        { "name": "at", "in": "query", "schema": { "type": "string", "enum": ["end"] }, "description": "`end`: the last page, whatever its number is by now (the answer's `page` says which); the first page when the search matches more users than it counts (`more`)" },
    ]);
    json!({
        "paths": {
            "/api/v1/{agency}/portal-users": {
                "get": { "summary": "List portal users", "parameters": list_params, "responses": { "200": { "description": "One page", "content": { "application/json": { "schema": {
                    "type": "object", "properties": { "total": { "type": "integer" }, "page": { "type": "integer" }, "size": { "type": "integer" }, "users": { "type": "array", "items": user } } } } } } } },
                "post": { "summary": "Invite or create a portal user", "parameters": [agency], "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewPortalUser" } } } },
                    "responses": { "201": ok_user, "422": problem } },
            },
            "/api/v1/{agency}/portal-users/{id}": {
                "get": { "summary": "One portal user", "parameters": [agency, id], "responses": { "200": ok_user, "404": not_found } },
                "put": { "summary": "Change a portal user", "parameters": [agency, id], "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PortalUserInput" } } } },
                    "responses": { "200": ok_user, "404": not_found, "422": problem } },
                "delete": { "summary": "Delete a portal user for good", "parameters": [agency, id], "responses": { "204": { "description": "Deleted" }, "404": not_found } },
            },
            "/api/v1/{agency}/portal-users/{id}/deactivate": action("Deactivate (ends their sessions at once)"),
            "/api/v1/{agency}/portal-users/{id}/reactivate": action("Reactivate"),
            "/api/v1/{agency}/portal-users/{id}/sign-out": { "post": { "summary": "End every session of the user (they must sign in again)", "parameters": [agency, id],
                "responses": { "200": { "description": "How many sessions ended", "content": { "application/json": { "schema": { "type": "object", "properties": { "sessions_ended": { "type": "integer" } } } } } }, "404": not_found } } },
            "/api/v1/{agency}/portal-users/{id}/password": { "post": { "summary": "Set a password they must change at next sign-in; without one, a passphrase is generated and returned",
                "parameters": [agency, id], "requestBody": { "content": { "application/json": { "schema": { "type": "object", "properties": { "password": { "type": "string" } } } } } },
                "responses": { "200": ok_user, "404": not_found, "422": problem } } },
            "/api/v1/{agency}/portal-users/{id}/reset-link": emailed("Email a password reset link"),
            "/api/v1/{agency}/portal-users/{id}/resend": emailed("Send the invitation again"),
            "/api/v1/{agency}/portal-users/bulk": { "post": { "summary": "Delete, deactivate or resend invitations to several users", "parameters": [agency],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["action", "ids"], "properties": {
                    "action": { "type": "string", "enum": ["delete", "deactivate", "resend"] }, "ids": { "type": "array", "items": { "type": "integer" } } } } } } },
                "responses": { "200": { "description": "How many users it applied to" }, "422": problem } } },
            "/api/v1/{agency}/portal-users/import": { "post": { "summary": "Invite users from CSV (columns email, first_name, last_name, company, role)",
                "parameters": [agency, { "name": "dry_run", "in": "query", "schema": { "type": "boolean" } }, { "name": "role", "in": "query", "schema": { "type": "string" }, "description": "Role of rows without one" }],
                "requestBody": { "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } },
                "responses": { "200": { "description": "A report per row", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ImportReport" } } } }, "422": problem } } },
            "/api/v1/{agency}/portal-users/export": { "get": { "summary": "The filtered list as a file in an export format the agency offers",
                "parameters": [agency, { "name": "format", "in": "query", "required": true, "schema": { "type": "string" }, "description": "csv, xlsx, json or a plugin's format" }],
                "responses": { "200": { "description": "The file, streamed" }, "400": { "description": "Unknown format" } } } },
        },
        "components": { "schemas": {
            "PortalUser": { "type": "object", "properties": {
                "id": { "type": "integer" }, "email": { "type": "string" }, "first_name": { "type": "string" }, "last_name": { "type": "string" },
                "role_id": { "type": "string" }, "all_clients": { "type": "boolean" }, "restricted_access": { "type": "boolean" },
                "status": { "type": "string", "enum": ["invited", "active", "deactivated"] }, "must_change_password": { "type": "boolean" },
                "last_login_at": { "type": ["string", "null"], "format": "date-time" }, "created_at": { "type": "string", "format": "date-time" },
                "company": { "type": "string" }, "client_count": { "type": "integer" }, "client_ids": { "type": "array", "items": { "type": "integer" } } } },
            "PortalUserInput": { "type": "object", "required": ["email", "role"], "properties": {
                "first_name": { "type": "string" }, "last_name": { "type": "string" }, "email": { "type": "string", "format": "email" },
                "role": { "type": "string", "description": "A role id of the agency's role set" },
                "company": { "type": "integer", "description": "The client of a single-client role" },
                "all_clients": { "type": "boolean", "description": "Many-client roles: every client" },
                "clients": { "type": "array", "items": { "type": "integer" }, "description": "Many-client roles: the chosen clients" },
                "restricted_access": { "type": "boolean" } } },
            "NewPortalUser": { "allOf": [ { "$ref": "#/components/schemas/PortalUserInput" }, { "type": "object", "properties": {
                "mode": { "type": "string", "enum": ["invite", "manual"] }, "password": { "type": "string" },
                "force_change": { "type": "boolean", "default": true }, "send_welcome": { "type": "boolean" }, "active": { "type": "boolean", "default": true } } } ] },
            "ImportReport": { "type": "object", "properties": {
                "dry_run": { "type": "boolean" }, "created": { "type": "integer" }, "would_create": { "type": "integer" }, "skipped": { "type": "integer" },
                "rows": { "type": "array", "items": { "type": "object", "properties": {
                    "line": { "type": "integer" }, "email": { "type": "string" }, "outcome": { "type": "string", "enum": ["created", "would_create", "skipped"] },
                    "fault": { "type": ["string", "null"], "enum": ["invalid_email", "duplicate_email", "unknown_company", "missing_company", "unknown_role", "invalid", null] },
                    "reason": { "type": "string" }, "id": { "type": ["integer", "null"] } } } } } },
        } },
    })
}
