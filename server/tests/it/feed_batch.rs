//! Batch endpoints: thousands of rows in one request, a result per row, bad rows skipped.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::feed_support::{seed_references, send, shift, token};
use crate::support::TestApp;

#[tokio::test]
async fn a_batch_applies_good_rows_and_reports_bad_ones_in_order() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let mut late = shift();
    late["external_id"] = json!("T2");
    late["start_time"] = json!("22:00");
    late["end_time"] = json!("06:00");
    let mut unknown_worker = shift();
    unknown_worker["external_id"] = json!("T3");
    unknown_worker["worker"] = json!("W-404");
    let mut first = shift();
    first["external_id"] = json!("T1");
    let rows = json!([first, late, unknown_worker, "not a row", { "work_date": "2026-11-02" }]);
    let path = "/api/v1/acme/timesheets/batch";
    let (response, answer) = send(&app, "POST", path, &token, Some(json!({ "rows": rows }))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let statuses: Vec<&str> = answer["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        statuses,
        ["created", "created", "invalid", "invalid", "invalid"]
    );
    assert_eq!(
        answer["results"][2]["errors"]["worker"],
        "There is no worker with the external id \"W-404\"."
    );
    assert_eq!(
        answer["results"][3]["errors"]["row"],
        "Send each row as a JSON object."
    );
    assert_eq!(
        answer["results"][4]["errors"]["external_id"],
        "Enter the external id."
    );
    assert_eq!(
        answer["summary"],
        json!({ "created": 2, "updated": 0, "unchanged": 0, "invalid": 3 })
    );

    // The same batch again: the good rows are unchanged, the bad ones still reported.
    let (_, again) = send(&app, "POST", path, &token, Some(json!({ "rows": rows }))).await;
    assert_eq!(
        again["summary"],
        json!({ "created": 0, "updated": 0, "unchanged": 2, "invalid": 3 })
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timesheets")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count");
    assert_eq!(count, 2);
}

#[tokio::test]
async fn thousands_of_rows_go_in_one_request_and_too_many_are_refused() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let rows: Vec<Value> = (0..2000)
        .map(|i| json!({ "external_id": format!("W{i}"), "first_name": "Temp", "last_name": format!("Worker {i}") }))
        .collect();
    let path = "/api/v1/acme/workers/batch";
    let (response, answer) = send(&app, "POST", path, &token, Some(json!({ "rows": rows }))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(answer["summary"]["created"], 2000);
    assert_eq!(answer["results"][1999]["external_id"], "W1999");

    let too_many: Vec<Value> = (0..5001)
        .map(|i| json!({ "external_id": i.to_string() }))
        .collect();
    let (refused, problem) = send(
        &app,
        "POST",
        path,
        &token,
        Some(json!({ "rows": too_many })),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("at most 5000"), "{problem}");
    let (shapeless, _) = send(&app, "POST", path, &token, Some(json!({ "items": [] }))).await;
    assert_eq!(shapeless.status, StatusCode::BAD_REQUEST);
}

/// Batches from several back-office connections at once: each waits for the database's write
/// lock instead of failing (on SQLite a transaction that read before writing would otherwise be
/// refused at once when another committed in between).
#[tokio::test]
async fn concurrent_batches_all_land() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let path = "/api/v1/acme/timesheets/batch";
    let batches = (0..8).map(|batch| {
        let rows: Vec<Value> = (0..25)
            .map(|n| {
                let mut row = shift();
                row["external_id"] = json!(format!("B{batch}-{n}"));
                row
            })
            .collect();
        let (app, token) = (&app, &token);
        async move { send(app, "POST", path, token, Some(json!({ "rows": rows }))).await }
    });
    for (response, answer) in futures::future::join_all(batches).await {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(answer["summary"]["created"], 25, "{}", response.body);
    }
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM timesheets WHERE external_id LIKE 'B%'")
            .fetch_one(&app.state.db().pool)
            .await
            .expect("count");
    assert_eq!(count, 200);
}
