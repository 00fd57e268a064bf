//! Helpers for the data-feed tests: tokens, JSON calls, and the rows most tests refer to.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::db::timesheets::{self, TimesheetStatus};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

pub async fn token(app: &TestApp, slug: &str) -> String {
    let agency = app.state.agency(slug).expect("agency");
    portal_server::auth::api_tokens::create(&app.state, &agency, "Back office", None)
        .await
        .expect("token")
}

/// Sends `body` (JSON) with the token; returns the response and its JSON.
pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (TestResponse, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes());
    send_bytes(app, method, path, token, "application/json", bytes).await
}

/// Sends raw bytes with a content type (file uploads).
pub async fn send_bytes(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: Option<Vec<u8>>,
) -> (TestResponse, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let response = app.request(request).await;
    let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response, json)
}

/// PUTs a row by external id and checks the outcome.
pub async fn put(
    app: &TestApp,
    token: &str,
    slug: &str,
    plural: &str,
    external_id: &str,
    body: Value,
    expected: &str,
) -> Value {
    let path = format!("/api/v1/{slug}/{plural}/by-external-id/{external_id}");
    let (response, answer) = send(app, "PUT", &path, token, Some(body)).await;
    let status = if expected == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    assert_eq!(response.status, status, "{path}: {}", response.body);
    assert_eq!(answer["status"], expected, "{path}: {}", response.body);
    answer
}

/// Client `C1` with worksite `S1`, client `C2` with worksite `S2`, and worker `W1`.
pub async fn seed_references(app: &TestApp, token: &str, slug: &str) {
    for (client, name) in [("C1", "Northwind"), ("C2", "Contoso")] {
        put(
            app,
            token,
            slug,
            "clients",
            client,
            json!({ "name": name }),
            "created",
        )
        .await;
    }
    for (site, client) in [("S1", "C1"), ("S2", "C2")] {
        let body = json!({ "client": client, "name": format!("Site {site}") });
        put(app, token, slug, "worksites", site, body, "created").await;
    }
    let worker =
        json!({ "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com" });
    put(app, token, slug, "workers", "W1", worker, "created").await;
}

/// A valid timesheet body for worker W1 at client C1, site S1: 08:00–16:30 less 30 minutes.
pub fn shift() -> Value {
    json!({
        "worker": "W1", "client": "C1", "worksite": "S1", "work_date": "2026-11-02",
        "start_time": "08:00", "end_time": "16:30", "break_minutes": 30,
        "charge_rate_cents": 2550, "pay_rate_cents": 1800,
    })
}

/// Moves a row's `updated_at` into the past, where a sync sees it.
pub async fn set_updated_at(app: &TestApp, table: &str, id: i64, at: i64) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET updated_at = $1 WHERE id = $2"
    )))
    .bind(at)
    .bind(id)
    .execute(&app.state.db().pool)
    .await
    .expect("set updated_at");
}

/// A portal user of another client of `slug`, who decides timesheets directly in the tests
/// below, as the portal would.
pub async fn decider(app: &TestApp, slug: &str) -> i64 {
    let client = app.client(slug, "Other client").await;
    app.portal_user(slug, "pat@northwind.example", None, client, false)
        .await
}

/// Decides a timesheet as the `decider`; false when it was decided already.
pub async fn decide(
    app: &TestApp,
    slug: &str,
    (user, id): (i64, i64),
    status: TimesheetStatus,
    reason: Option<&str>,
) -> bool {
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    timesheets::decide(
        &mut conn,
        app.agency_id(slug),
        id,
        status,
        (user, "Pat Client"),
        reason,
    )
    .await
    .expect("decide")
}
