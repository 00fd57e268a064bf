//! `GET …?updated_since=` with cursors: portal decisions and work requests flow back to the
//! back-office, in a stable order, without losing rows that share a timestamp.

use axum::http::StatusCode;
use portal_server::db::timesheets::{self, TimesheetStatus};
use portal_server::db::work_requests::{self, NewWorkRequest, Status};
use serde_json::{Value, json};

use crate::feed_support::{put, seed_references, send, set_updated_at, shift, token};
use crate::support::TestApp;

/// Every page from `first` on, following `next`; returns the external ids (or ids) in order
/// and the last cursor.
async fn follow(app: &TestApp, token: &str, first: &str, key: &str) -> (Vec<Value>, String) {
    let mut path = first.to_owned();
    let mut seen = Vec::new();
    loop {
        let (response, page) = send(app, "GET", &path, token, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        seen.extend(page[key].as_array().cloned().unwrap_or_default());
        path = page["next"].as_str().unwrap_or_default().to_owned();
        if page["has_more"] != true {
            return (seen, page["cursor"].as_str().unwrap_or_default().to_owned());
        }
    }
}

#[tokio::test]
async fn a_sync_pages_through_ties_and_picks_up_later_decisions() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let answer = put(
            &app,
            &token,
            "acme",
            "timesheets",
            &format!("T{n}"),
            shift(),
            "created",
        )
        .await;
        ids.push(answer["id"].as_i64().unwrap_or_default());
    }
    // Three rows share one second, two share the next: pages of two cut through the ties.
    let base = 1_790_000_000;
    for (n, id) in ids.iter().enumerate() {
        set_updated_at(&app, "timesheets", *id, base + i64::from(n >= 3)).await;
    }
    let first = "/api/v1/acme/timesheets?updated_since=2026-09-21T00:00:00Z&limit=2";
    let (rows, cursor) = follow(&app, &token, first, "timesheets").await;
    let order: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["external_id"].as_str())
        .collect();
    assert_eq!(order, ["T1", "T2", "T3", "T4", "T5"]);
    assert_eq!(rows[0]["pay_rate_cents"], 1800);
    assert_eq!(rows[0]["worker"], "W1");
    assert_eq!(rows[0]["events"][0]["action"], "submitted");

    // Nothing new: the same cursor comes back with no rows.
    let (rows, same) = follow(
        &app,
        &token,
        &format!("/api/v1/acme/timesheets?cursor={cursor}"),
        "timesheets",
    )
    .await;
    assert!(rows.is_empty());
    assert_eq!(same, cursor);

    // A client rejects T2; the change is held back until it settles, then read with its
    // reason, decider and history.
    let agency = app.agency_id("acme");
    let client = app.client("acme", "Portal client").await;
    let user = app
        .portal_user("acme", "pat@northwind.example", None, client, false)
        .await;
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    timesheets::decide(
        &mut conn,
        agency,
        ids[1],
        TimesheetStatus::Rejected,
        (user, "Pat Client"),
        Some("Not on site that day"),
    )
    .await
    .expect("reject");
    let next = format!("/api/v1/acme/timesheets?cursor={cursor}");
    let (fresh, _) = follow(&app, &token, &next, "timesheets").await;
    assert!(fresh.is_empty(), "a change of this very second waits");
    set_updated_at(&app, "timesheets", ids[1], base + 10).await;
    let (changed, _) = follow(&app, &token, &next, "timesheets").await;
    assert_eq!(changed.len(), 1);
    let row = &changed[0];
    assert_eq!(row["external_id"], "T2");
    assert_eq!(row["status"], "rejected");
    assert_eq!(row["rejection_reason"], "Not on site that day");
    assert_eq!(row["decided_by"]["email"], "pat@northwind.example");
    assert!(row["decided_at"].is_string());
    assert_eq!(row["events"][1]["reason"], "Not on site that day");

    // Unix seconds work as well; an inclusive bound.
    let (rows, _) = follow(
        &app,
        &token,
        &format!("/api/v1/acme/timesheets?updated_since={}", base + 1),
        "timesheets",
    )
    .await;
    let order: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["external_id"].as_str())
        .collect();
    assert_eq!(order, ["T4", "T5", "T2"]);
    let (bad, _) = send(
        &app,
        "GET",
        "/api/v1/acme/timesheets?updated_since=yesterday",
        &token,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let (bad, _) = send(
        &app,
        "GET",
        "/api/v1/acme/timesheets?cursor=abc",
        &token,
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn work_requests_filed_in_the_portal_are_read_back() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let client: i64 = sqlx::query_scalar("SELECT id FROM clients WHERE external_id = 'C1'")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("client");
    let user = app
        .portal_user("acme", "sam@northwind.example", None, client, false)
        .await;
    let new = NewWorkRequest {
        client_id: client,
        worksite_id: None,
        portal_user_id: Some(user),
        title: "Two forklift drivers",
        description: "Night shift next week",
        needed_by: Some("2026-11-09"),
        workers_needed: Some(2),
        urgency: "high",
        status: Status::New,
    };
    let id = work_requests::create(&app.state.db().pool, app.agency_id("acme"), &new)
        .await
        .expect("request");
    set_updated_at(&app, "work_requests", id, 1_790_000_000).await;
    let (rows, _) = follow(
        &app,
        &token,
        "/api/v1/acme/work-requests?updated_since=0",
        "work_requests",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["client"], "C1");
    assert_eq!(rows[0]["title"], "Two forklift drivers");
    assert_eq!(rows[0]["filed_by"]["email"], "sam@northwind.example");
    assert_eq!(rows[0]["workers_needed"], 2);
    assert_eq!(rows[0]["updates"], json!([]));
}
