//! `/api/v1/{agency}/settings`: the settings an admin edits on the settings page.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openapi::{Success, operation, schema};
use crate::agency_settings::{
    ABSOLUTE_HOURS_RANGE, APPROVAL_DEADLINE_RANGE, IDLE_MINUTES_RANGE, PASSWORD_MIN_RANGE,
    SettingsInput, apply, current,
};
use crate::auth::api_tokens::ApiClient;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn show(State(state): State<AppState>, client: ApiClient) -> AppResult<Response> {
    Ok(Json(current(&state, &client.agency).await?).into_response())
}

/// Replaces every value at once (validated and audited like the page).
pub async fn replace(
    State(state): State<AppState>,
    client: ApiClient,
    Json(input): Json<SettingsInput>,
) -> AppResult<Response> {
    apply(&state, &client.agency, &input, client.actor(), None).await?;
    Ok(Json(current(&state, &client.agency).await?).into_response())
}

pub(crate) fn openapi() -> Value {
    let range = |(lo, hi): (i64, i64)| json!({ "type": "integer", "minimum": lo, "maximum": hi });
    json!({
        "paths": {
            "/api/v1/{agency}/settings": {
                "get": operation("The agency's settings in force", "settings", &["agency"], None,
                    Success::json(200, "The settings", schema("AgencySettings")), &[]),
                "put": operation("Replace the agency's settings", "settings", &["agency"], Some(schema("AgencySettings")),
                    Success::json(200, "The settings now in force", schema("AgencySettings")), &[422]),
            },
        },
        "components": {
            "schemas": {
                "AgencySettings": {
                    "type": "object",
                    "description": "Values saved here win over the agency's configuration file, which wins over portal.toml and the built-in defaults.",
                    "required": ["portal_enabled", "password_min_length", "require_mfa_staff", "require_mfa_portal",
                        "session_idle_minutes", "session_absolute_hours", "work_request_recipients"],
                    "properties": {
                        "portal_enabled": { "type": "boolean", "description": "Portal users can sign in and portal email is sent" },
                        "password_min_length": range(PASSWORD_MIN_RANGE),
                        "require_mfa_staff": { "type": "boolean" },
                        "require_mfa_portal": { "type": "boolean" },
                        "session_idle_minutes": range(IDLE_MINUTES_RANGE),
                        "session_absolute_hours": range(ABSOLUTE_HOURS_RANGE),
                        "approval_deadline_days": {
                            "type": "integer", "minimum": APPROVAL_DEADLINE_RANGE.0, "maximum": APPROVAL_DEADLINE_RANGE.1, "default": 3,
                            "description": "Days a client has to decide a timesheet (from its work date) before the staff home counts it overdue"
                        },
                        "work_request_recipients": { "type": "array", "items": { "type": "integer" }, "description": "Staff ids emailed about new work requests" }
                    }
                }
            }
        }
    })
}
