//! The agency's workspace over the API, with the pages' data and actions: what needs
//! attention, a timesheet with its pay rate, margin and history (decide for the client,
//! correct a rejected one), pay-period locks, a work request with every update (reply,
//! internal note, assignment), and who is on site.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};
use crate::attention;
use crate::auth::Author;
use crate::auth::api_tokens::ApiClient;
use crate::db::agency_timesheets::{self as sheets, AgencyTimesheet};
use crate::db::clock_events;
use crate::db::timesheets as client_sheets;
use crate::db::work_requests::{self, Audience};
use crate::error::{AppError, AppResult};
use crate::on_site::by_site;
use crate::state::AppState;
use crate::timesheets::{self as operations, CorrectionInput, DecisionInput, LockInput};
use crate::work_requests::{self as requests, JobInput, ReplyInput};

impl super::RouteTable {
    /// The workspace's routes.
    pub(super) fn workspace(self) -> Self {
        use axum::http::Method;
        let get = Method::GET;
        let post = Method::POST;
        self.at(get.clone(), "/api/v1/{agency}/attention", attention)
            .at(get.clone(), "/api/v1/{agency}/timesheets/{id}", timesheet)
            .at(
                post.clone(),
                "/api/v1/{agency}/timesheets/{id}/decide",
                decide,
            )
            .at(
                post.clone(),
                "/api/v1/{agency}/timesheets/{id}/correct",
                correct,
            )
            .at(get.clone(), "/api/v1/{agency}/timesheet-locks", locks)
            .at(post.clone(), "/api/v1/{agency}/timesheet-locks", lock)
            .at(
                Method::DELETE,
                "/api/v1/{agency}/timesheet-locks/{id}",
                unlock,
            )
            .at(
                get.clone(),
                "/api/v1/{agency}/work-requests/{id}",
                work_request,
            )
            .at(
                post.clone(),
                "/api/v1/{agency}/work-requests/{id}/reply",
                reply,
            )
            .at(
                post.clone(),
                "/api/v1/{agency}/work-requests/{id}/notes",
                note,
            )
            .at(post.clone(), "/api/v1/{agency}/work-requests/{id}/job", job)
            .at(post, "/api/v1/{agency}/work-requests/{id}/assign", assign)
            .at(get.clone(), "/api/v1/{agency}/on-site", on_site)
            .at(get, "/api/v1/{agency}/clients/{id}/documents", documents)
            .at(
                Method::DELETE,
                "/api/v1/{agency}/clients/{id}/documents/{document}",
                withdraw_document,
            )
    }
}

fn author(client: &ApiClient) -> Author<'_> {
    Author {
        actor: client.actor(),
        name: &client.agency.config.display_name,
    }
}

/// `GET /api/v1/{agency}/attention`.
pub async fn attention(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    Ok(Json(attention::gather(&state, &client.agency).await?).into_response())
}

async fn timesheet_json(
    state: &AppState,
    client: &ApiClient,
    sheet: AgencyTimesheet,
) -> AppResult<Response> {
    let history = client_sheets::history(&state.db().pool, client.agency.id, sheet.id).await?;
    let mut body = serde_json::to_value(&sheet).map_err(anyhow::Error::from)?;
    body["margin_cents"] = json!(sheet.margin_cents());
    body["history"] = serde_json::to_value(history).map_err(anyhow::Error::from)?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/{agency}/timesheets/{id}`.
pub async fn timesheet(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let sheet = operations::find(&state, &client.agency, id).await?;
    timesheet_json(&state, &client, sheet).await
}

/// `POST /api/v1/{agency}/timesheets/{id}/decide`.
pub async fn decide(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<DecisionInput>,
) -> AppResult<Response> {
    let sheet =
        operations::decide_for_client(&state, &client.agency, author(&client), id, &input).await?;
    timesheet_json(&state, &client, sheet).await
}

/// `POST /api/v1/{agency}/timesheets/{id}/correct`.
pub async fn correct(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<CorrectionInput>,
) -> AppResult<Response> {
    let sheet = operations::correct(&state, &client.agency, author(&client), id, &input).await?;
    timesheet_json(&state, &client, sheet).await
}

/// `GET /api/v1/{agency}/timesheet-locks`.
pub async fn locks(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    let locks = sheets::locks(&state.db().pool, client.agency.id).await?;
    Ok(Json(json!({ "locks": locks })).into_response())
}

/// `POST /api/v1/{agency}/timesheet-locks`.
pub async fn lock(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<LockInput>,
) -> AppResult<Response> {
    let id = operations::lock(&state, &client.agency, author(&client), &input).await?;
    let locks = sheets::locks(&state.db().pool, client.agency.id).await?;
    let made = locks
        .into_iter()
        .find(|l| l.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// `DELETE /api/v1/{agency}/timesheet-locks/{id}`.
pub async fn unlock(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    operations::unlock(&state, &client.agency, author(&client), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn request_json(state: &AppState, client: &ApiClient, id: i64) -> AppResult<Response> {
    let pool = &state.db().pool;
    let request = work_requests::get(pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let updates = work_requests::updates(pool, client.agency.id, id, Audience::Staff).await?;
    let mut body = serde_json::to_value(request).map_err(anyhow::Error::from)?;
    body["updates"] = serde_json::to_value(updates).map_err(anyhow::Error::from)?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/{agency}/work-requests/{id}`.
pub async fn work_request(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    request_json(&state, &client, id).await
}

/// `POST /api/v1/{agency}/work-requests/{id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<ReplyInput>,
) -> AppResult<Response> {
    requests::reply(&state, &client.agency, author(&client), id, &input).await?;
    request_json(&state, &client, id).await
}

#[derive(Debug, Deserialize)]
pub struct NoteInput {
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/{agency}/work-requests/{id}/notes`.
pub async fn note(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<NoteInput>,
) -> AppResult<Response> {
    requests::note(&state, &client.agency, author(&client), id, &input.note).await?;
    request_json(&state, &client, id).await
}

/// `POST /api/v1/{agency}/work-requests/{id}/job`: the request becomes a scheduled job.
pub async fn job(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<JobInput>,
) -> AppResult<Response> {
    let job = requests::make_job(&state, &client.agency, author(&client), id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "job_id": job }))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AssignInput {
    /// A team member's id; `null` for nobody.
    assigned_to: Option<i64>,
}

/// `POST /api/v1/{agency}/work-requests/{id}/assign`.
pub async fn assign(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
    Json(input): Json<AssignInput>,
) -> AppResult<Response> {
    requests::assign(
        &state,
        &client.agency,
        author(&client),
        id,
        input.assigned_to,
    )
    .await?;
    request_json(&state, &client, id).await
}

/// `GET /api/v1/{agency}/clients/{id}/documents`: what is shared with a client (without the
/// files; the feed's document routes put and fetch those).
pub async fn documents(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    crate::db::clients::get(pool, client.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let shared = crate::db::documents::list_for_clients(pool, client.agency.id, &[id]).await?;
    Ok(Json(json!({ "documents": shared })).into_response())
}

/// `DELETE /api/v1/{agency}/clients/{id}/documents/{document}`: withdraws a shared file.
pub async fn withdraw_document(
    State(state): State<AppState>,
    client: ApiClient,
    Path((_, id, document)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    crate::documents::withdraw(&state, &client.agency, client.actor(), id, document).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/{agency}/on-site`.
pub async fn on_site(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    let rows = clock_events::on_site_everywhere(&state.db().pool, client.agency.id).await?;
    let total = rows.len();
    Ok(Json(json!({ "total": total, "sites": by_site(rows) })).into_response())
}

pub(crate) fn openapi() -> Value {
    let id = &["agency", "id"];
    let text = |description: &str| json!({ "type": "string", "description": description });
    let nullable = |kind: &str| json!({ "type": [kind, "null"] });
    json!({
        "paths": {
            "/api/v1/{agency}/attention": {
                "get": operation("What needs the agency's attention now, in total and per client", "workspace", &["agency"], None,
                    Success::json(200, "The figures of the staff home", schema("Attention")), &[]),
            },
            "/api/v1/{agency}/timesheets/{id}": {
                "get": operation("A timesheet with its pay rate, margin and history", "workspace", id, None,
                    Success::json(200, "The timesheet", schema("AgencyTimesheet")), &[404]),
            },
            "/api/v1/{agency}/timesheets/{id}/decide": {
                "post": operation("Approve or reject a pending timesheet on the client's behalf, with the evidence", "workspace", id,
                    Some(json!({ "type": "object", "required": ["status", "note"], "properties": {
                        "status": { "enum": ["approved", "rejected"] },
                        "note": text("How the client gave its decision (for a rejection, its reason); at most 1000 characters"),
                    } })),
                    Success::json(200, "The timesheet as decided", schema("AgencyTimesheet")), &[404, 409, 422]),
            },
            "/api/v1/{agency}/timesheets/{id}/correct": {
                "post": operation("Correct a rejected timesheet; it goes back to the client as pending", "workspace", id,
                    Some(json!({ "type": "object", "required": ["start_time", "end_time", "note"], "properties": {
                        "start_time": text("HH:MM"), "end_time": text("HH:MM; earlier than the start means past midnight"),
                        "break_minutes": text("Minutes, 0 to 1440 (a number as text; empty is 0)"),
                        "note": text("What changed and why, shown to the client"),
                    } })),
                    Success::json(200, "The corrected timesheet", schema("AgencyTimesheet")), &[404, 409, 422]),
            },
            "/api/v1/{agency}/timesheet-locks": {
                "get": operation("Weeks locked for payroll, newest first", "workspace", &["agency"], None,
                    Success::json(200, "The locks", json!({ "type": "object", "properties": {
                        "locks": { "type": "array", "items": schema("TimesheetLock") } } })), &[]),
                "post": operation("Lock a week for payroll (one client or every client)", "workspace", &["agency"],
                    Some(json!({ "type": "object", "required": ["week"], "properties": {
                        "week": text("Any day of the week, YYYY-MM-DD"),
                        "client_id": text("A client's id; empty for every client"),
                    } })),
                    Success::json(201, "The lock", schema("TimesheetLock")), &[409, 422]),
            },
            "/api/v1/{agency}/timesheet-locks/{id}": {
                "delete": operation("Unlock a week", "workspace", id, None,
                    Success::empty(204, "Unlocked"), &[404]),
            },
            "/api/v1/{agency}/work-requests/{id}": {
                "get": operation("A work request with every update, internal notes included", "workspace", id, None,
                    Success::json(200, "The request", schema("AgencyWorkRequest")), &[404]),
            },
            "/api/v1/{agency}/work-requests/{id}/reply": {
                "post": operation("Reply to the client: a message, a new status, or both (the client is emailed)", "workspace", id,
                    Some(json!({ "type": "object", "properties": {
                        "status": { "enum": ["", "acknowledged", "scheduled", "done", "declined"] },
                        "scheduled_for": text("YYYY-MM-DD; required with `scheduled`"),
                        "message": text("At most 4000 characters; required with `declined`"),
                    } })),
                    Success::json(200, "The request", schema("AgencyWorkRequest")), &[404, 422]),
            },
            "/api/v1/{agency}/work-requests/{id}/notes": {
                "post": operation("Add an internal note (never shown to the client)", "workspace", id,
                    Some(json!({ "type": "object", "required": ["note"], "properties": { "note": text("At most 4000 characters") } })),
                    Success::json(200, "The request", schema("AgencyWorkRequest")), &[404, 422]),
            },
            "/api/v1/{agency}/work-requests/{id}/job": {
                "post": operation("Make the request a scheduled field-service job the client sees (the request moves to scheduled, the client is told)", "workspace", id,
                    Some(json!({ "type": "object", "required": ["number", "scheduled_on"], "properties": {
                        "number": text("The job's number, unique in the agency; at most 50 characters"),
                        "scheduled_on": text("YYYY-MM-DD"),
                    } })),
                    Success::json(201, "The job's id", json!({ "type": "object", "properties": { "job_id": { "type": "integer" } } })), &[404, 422]),
            },
            "/api/v1/{agency}/work-requests/{id}/assign": {
                "post": operation("Assign the request to a team member, or to nobody", "workspace", id,
                    Some(json!({ "type": "object", "required": ["assigned_to"], "properties": { "assigned_to": nullable("integer") } })),
                    Success::json(200, "The request", schema("AgencyWorkRequest")), &[404, 422]),
            },
            "/api/v1/{agency}/clients/{id}/documents": {
                "get": operation("The documents shared with a client, newest first (without their files)", "workspace", id, None,
                    Success::json(200, "The documents", json!({ "type": "object", "properties": {
                        "documents": { "type": "array", "items": { "type": "object", "properties": {
                            "id": { "type": "integer" }, "title": { "type": "string" }, "file_name": { "type": "string" },
                            "mime_type": { "type": "string" }, "size_bytes": { "type": "integer" },
                            "created_at": { "type": "string", "format": "date-time" } } } } } })), &[404]),
            },
            "/api/v1/{agency}/clients/{id}/documents/{document}": {
                "delete": operation("Withdraw a document from the client's portal", "workspace", &["agency", "id", "document"], None,
                    Success::empty(204, "Withdrawn"), &[404]),
            },
            "/api/v1/{agency}/on-site": {
                "get": operation("Who is clocked in now at every client, per worksite", "workspace", &["agency"], None,
                    Success::json(200, "The sites", json!({ "type": "object", "properties": {
                        "total": { "type": "integer" }, "sites": { "type": "array", "items": { "type": "object" } } } })), &[]),
            },
        },
        "components": { "schemas": {
            "Attention": { "type": "object", "description": "Timesheets waiting (pending, overdue past `deadline`, rejected), open work requests, people on site, stale invitations and failed emails; `clients` lists the clients most in need first",
                "properties": {
                    "deadline_days": { "type": "integer" }, "deadline": { "type": "string", "format": "date" },
                    "timesheets": { "type": "object" }, "requests": { "type": "object" },
                    "by_urgency": { "type": "array" }, "on_site": { "type": "integer" },
                    "stale_invitations": { "type": "integer" }, "failed_emails": { "type": "integer" },
                    "clients": { "type": "array", "items": { "type": "object" } }, "clients_waiting": { "type": "integer" },
                } },
            "AgencyTimesheet": { "type": "object", "properties": {
                "id": { "type": "integer" }, "external_id": nullable("string"), "client_id": { "type": "integer" },
                "client_name": { "type": "string" }, "worker_name": { "type": "string" }, "work_date": { "type": "string", "format": "date" },
                "start_time": { "type": "string" }, "end_time": { "type": "string" }, "break_minutes": { "type": "integer" },
                "minutes_worked": { "type": "integer" }, "charge_rate_cents": { "type": "integer" }, "charge_amount_cents": { "type": "integer" },
                "pay_rate_cents": { "type": "integer" }, "pay_amount_cents": { "type": "integer" }, "margin_cents": { "type": "integer" },
                "status": { "enum": ["pending", "approved", "rejected"] }, "rejection_reason": nullable("string"),
                "decided_by_name": nullable("string"), "decided_by_staff_name": nullable("string"), "decision_note": nullable("string"),
                "locked": { "type": "boolean", "description": "In a week locked for payroll" },
                "history": { "type": "array", "items": { "type": "object" } },
            } },
            "TimesheetLock": { "type": "object", "properties": {
                "id": { "type": "integer" }, "client_id": nullable("integer"), "client_name": nullable("string"),
                "week_start": { "type": "string", "format": "date" }, "week_end": { "type": "string", "format": "date" },
                "locked_by_name": { "type": "string" }, "locked_at": { "type": "string", "format": "date-time" },
            } },
            "AgencyWorkRequest": { "type": "object", "properties": {
                "id": { "type": "integer" }, "client_id": { "type": "integer" }, "client_name": { "type": "string" },
                "title": { "type": "string" }, "description": { "type": "string" },
                "status": { "enum": ["new", "acknowledged", "scheduled", "done", "declined"] },
                "scheduled_for": nullable("string"), "assigned_to": nullable("integer"), "assigned_name": nullable("string"),
                "urgency": { "enum": ["low", "normal", "high", "urgent"] },
                "updates": { "type": "array", "items": { "type": "object", "properties": {
                    "author_kind": { "type": "string" }, "author_name": { "type": "string" }, "body": { "type": "string" },
                    "status": nullable("string"), "internal": { "type": "boolean" }, "at": { "type": "string", "format": "date-time" } } } },
            } },
        } },
    })
}
