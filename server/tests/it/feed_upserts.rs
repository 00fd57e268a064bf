//! Idempotent upserts by external id for every kind of feed row, and their field errors.

use axum::http::StatusCode;
use portal_server::db::timesheets::TimesheetStatus;
use serde_json::{Value, json};

use crate::feed_support::{decide, decider, put, seed_references, send, shift, token};
use crate::support::TestApp;

#[tokio::test]
async fn workers_are_created_left_alone_when_unchanged_and_updated() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let body = json!({ "first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com" });
    let created = put(
        &app,
        &token,
        "acme",
        "workers",
        "W-1",
        body.clone(),
        "created",
    )
    .await;
    assert_eq!(created["row"]["email"], "ada@example.com");
    assert_eq!(created["external_id"], "W-1");

    // The same body again changes nothing: no new audit entry, the same updated_at.
    sqlx::query("UPDATE workers SET updated_at = 1000 WHERE external_id = 'W-1'")
        .execute(&app.state.db().pool)
        .await
        .expect("age the row");
    let again = put(&app, &token, "acme", "workers", "W-1", body, "unchanged").await;
    assert_eq!(again["id"], created["id"]);
    assert_eq!(again["row"]["updated_at"], "1970-01-01T00:16:40Z");

    let changed = json!({ "first_name": "Ada", "last_name": "King", "email": "ada@example.com" });
    let updated = put(&app, &token, "acme", "workers", "W-1", changed, "updated").await;
    assert_eq!(updated["row"]["last_name"], "King");
    assert_ne!(updated["row"]["updated_at"], "1970-01-01T00:16:40Z");

    let (shown, row) = send(
        &app,
        "GET",
        "/api/v1/acme/workers/by-external-id/W-1",
        &token,
        None,
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(row["last_name"], "King");
    let (missing, _) = send(
        &app,
        "GET",
        "/api/v1/acme/workers/by-external-id/W-2",
        &token,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let actions = app.audit_actions("acme").await;
    let feed: Vec<&String> = actions.iter().filter(|a| a.starts_with("worker")).collect();
    assert_eq!(feed, ["worker created", "worker updated"]);
    let actor: String =
        sqlx::query_scalar("SELECT actor_kind FROM audit_log WHERE action = 'worker created'")
            .fetch_one(&app.state.db().pool)
            .await
            .expect("audit");
    assert_eq!(actor, "api");
}

/// Dates the reports could not add weeks to (the calendar's ends) are refused at the door.
#[tokio::test]
async fn a_date_outside_the_supported_years_is_refused() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    for date in ["9999-12-31", "1899-12-31", "3000-01-01"] {
        let mut body = crate::feed_support::shift();
        body["work_date"] = json!(date);
        let path = "/api/v1/acme/timesheets/by-external-id/T-edge";
        let (response, problem) = send(&app, "PUT", path, &token, Some(body)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{date}");
        assert_eq!(
            problem["errors"]["work_date"], "The work date must be in the years 1900 to 2999.",
            "{date}"
        );
    }
}

#[tokio::test]
async fn every_field_problem_is_reported_by_name() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let body = json!({
        "worker": "W-404", "client": "C1", "worksite": "S2", "work_date": "02/11/2026",
        "start_time": "8am", "end_time": "16:30", "break_minutes": -5,
        "charge_rate_cents": "lots", "shoe_size": 9,
    });
    let path = "/api/v1/acme/timesheets/by-external-id/T1";
    let (response, problem) = send(&app, "PUT", path, &token, Some(body)).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    assert_eq!(response.header("content-type"), "application/problem+json");
    let errors = &problem["errors"];
    assert_eq!(
        errors["worker"],
        "There is no worker with the external id \"W-404\"."
    );
    assert_eq!(
        errors["worksite"],
        "This worksite belongs to another client."
    );
    assert_eq!(
        errors["work_date"],
        "The work date must be a date like 2026-11-02."
    );
    assert_eq!(
        errors["start_time"],
        "The start time must be a 24-hour time like 08:30."
    );
    assert_eq!(
        errors["break_minutes"],
        "The break in minutes must be between 0 and 1440."
    );
    assert_eq!(
        errors["charge_rate_cents"],
        "The charge rate must be a whole number."
    );
    assert_eq!(errors["pay_rate_cents"], "Enter the pay rate.");
    assert_eq!(errors["shoe_size"], "This field is not known here.");

    let (bad_id, problem) = send(
        &app,
        "PUT",
        "/api/v1/acme/workers/by-external-id/%20padded",
        &token,
        Some(json!({ "first_name": "A", "last_name": "B" })),
    )
    .await;
    assert_eq!(bad_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"]["external_id"].is_string());

    let (not_json, _) = send(&app, "PUT", path, &token, Some(json!([1, 2]))).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timesheets")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_time_whose_hour_overflows_in_minutes_is_a_field_problem() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let mut body = shift();
    // A whole number of hours, but more minutes than an i64 holds.
    body["start_time"] = json!("5740532069107236817:00");
    let path = "/api/v1/acme/timesheets/by-external-id/T1";
    let (response, problem) = send(&app, "PUT", path, &token, Some(body)).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    assert!(problem["errors"]["start_time"].is_string(), "{problem}");
}

#[tokio::test]
async fn timesheets_check_computed_values_and_follow_the_approval_state() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let path = "/api/v1/acme/timesheets/by-external-id/T1";

    let mut wrong = shift();
    wrong["minutes_worked"] = json!(510);
    wrong["charge_amount_cents"] = json!(1);
    let (response, problem) = send(&app, "PUT", path, &token, Some(wrong)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["minutes_worked"],
        "From 08:00 to 16:30 less a 30-minute break is 480 minutes."
    );
    assert_eq!(
        problem["errors"]["charge_amount_cents"],
        "480 minutes at 2550 cents an hour is 20400 cents."
    );

    let mut right = shift();
    right["minutes_worked"] = json!(480);
    right["charge_amount_cents"] = json!(20400);
    let created = put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        right.clone(),
        "created",
    )
    .await;
    let row = &created["row"];
    assert_eq!(
        (
            row["minutes_worked"].as_i64(),
            row["charge_amount_cents"].as_i64()
        ),
        (Some(480), Some(20400))
    );
    assert_eq!(row["pay_rate_cents"], 1800);
    assert_eq!(row["status"], "pending");
    put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        right.clone(),
        "unchanged",
    )
    .await;
    let id = created["id"].as_i64().unwrap_or_default();

    // A rejected timesheet that the agency corrects goes back to pending.
    let user = decider(&app, "acme").await;
    let rejected = TimesheetStatus::Rejected;
    assert!(decide(&app, "acme", (user, id), rejected, Some("Wrong day")).await);
    put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        right.clone(),
        "unchanged",
    )
    .await;
    let mut corrected = right.clone();
    corrected["work_date"] = json!("2026-11-03");
    let resubmitted = put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        corrected.clone(),
        "updated",
    )
    .await;
    assert_eq!(resubmitted["row"]["status"], "pending");
    assert_eq!(resubmitted["row"]["rejection_reason"], Value::Null);
    let actions: Vec<&str> = resubmitted["row"]["events"]
        .as_array()
        .map(|events| events.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["submitted", "rejected", "resubmitted"]);

    // An approved one is locked.
    assert!(decide(&app, "acme", (user, id), TimesheetStatus::Approved, None).await);
    put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        corrected,
        "unchanged",
    )
    .await;
    let (locked, problem) = send(&app, "PUT", path, &token, Some(right)).await;
    assert_eq!(locked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["status"]
            .as_str()
            .unwrap_or_default()
            .contains("approved")
    );
}

/// (plural, first body, changed body) for the kinds not covered above.
fn other_kinds() -> Vec<(&'static str, Value, Value)> {
    let line =
        json!({ "description": "Labour", "quantity_hundredths": 800, "unit_price_cents": 2550 });
    vec![
        (
            "clock-events",
            json!({ "worker": "W1", "client": "C1", "worksite": "S1", "kind": "in", "at": "2026-11-02T08:00:00Z" }),
            json!({ "worker": "W1", "client": "C1", "worksite": "S1", "kind": "in", "at": "2026-11-02T08:05:00Z" }),
        ),
        (
            "invoices",
            json!({ "client": "C1", "number": "INV-1", "issued_on": "2026-11-01", "due_on": "2026-11-30", "lines": [line], "total_cents": 20400 }),
            json!({ "client": "C1", "number": "INV-1", "issued_on": "2026-11-01", "due_on": "2026-11-30", "lines": [line, line] }),
        ),
        (
            "jobs",
            json!({ "client": "C1", "worksite": "S1", "number": "J-1", "title": "Fix boiler" }),
            json!({ "client": "C1", "worksite": "S1", "number": "J-1", "title": "Fix boiler", "status": "completed" }),
        ),
        (
            "quotes",
            json!({ "client": "C1", "number": "Q-1", "title": "New boiler", "total_cents": 250_000 }),
            json!({ "client": "C1", "number": "Q-1", "title": "New boiler", "total_cents": 240_000, "valid_until": "2026-12-31" }),
        ),
        (
            "worksites",
            json!({ "client": "C1", "name": "Depot" }),
            json!({ "client": "C1", "name": "Depot", "address": "1 Dock Road" }),
        ),
        (
            "clients",
            json!({ "name": "Fabrikam" }),
            json!({ "name": "Fabrikam", "portal_enabled": false }),
        ),
    ]
}

#[tokio::test]
async fn every_other_kind_is_created_kept_and_updated_by_external_id() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    for (plural, first, changed) in other_kinds() {
        let created = put(
            &app,
            &token,
            "acme",
            plural,
            "X-1",
            first.clone(),
            "created",
        )
        .await;
        put(&app, &token, "acme", plural, "X-1", first, "unchanged").await;
        let updated = put(
            &app,
            &token,
            "acme",
            plural,
            "X-1",
            changed.clone(),
            "updated",
        )
        .await;
        assert_eq!(updated["id"], created["id"], "{plural}");
        put(&app, &token, "acme", plural, "X-1", changed, "unchanged").await;
    }
    let (_, invoice) = send(
        &app,
        "GET",
        "/api/v1/acme/invoices/by-external-id/X-1",
        &token,
        None,
    )
    .await;
    assert_eq!(invoice["total_cents"], 40800);
    assert_eq!(invoice["lines"].as_array().map(Vec::len), Some(2));
    let (_, event) = send(
        &app,
        "GET",
        "/api/v1/acme/clock-events/by-external-id/X-1",
        &token,
        None,
    )
    .await;
    assert_eq!(event["at"], "2026-11-02T08:05:00Z");
}

#[tokio::test]
async fn invoice_lines_and_totals_are_checked_per_line() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let body = json!({
        "client": "C1", "number": "INV-2", "issued_on": "2026-11-30", "due_on": "2026-11-01",
        "status": "late", "total_cents": 5,
        "lines": [
            { "description": "Labour", "quantity_hundredths": 150, "unit_price_cents": 1000, "amount_cents": 1500 },
            { "description": "", "quantity_hundredths": "x", "unit_price_cents": 100, "amount_cents": 7 },
            "not a line",
        ],
    });
    let (response, problem) = send(
        &app,
        "PUT",
        "/api/v1/acme/invoices/by-external-id/I-2",
        &token,
        Some(body),
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &problem["errors"];
    assert_eq!(errors["lines[1].description"], "Enter the description.");
    assert_eq!(
        errors["lines[1].quantity_hundredths"],
        "The quantity must be a whole number."
    );
    assert_eq!(errors["lines[2]"], "Send each line as an object.");
    assert_eq!(errors["due_on"], "The due date is before the issue date.");
    assert_eq!(
        errors["status"],
        "The status must be one of: open, paid, void."
    );
    assert!(
        errors["total_cents"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The lines add up to")
    );
    assert!(errors.get("lines[0].amount_cents").is_none());
}
