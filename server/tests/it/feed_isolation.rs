//! A token of one agency never reads or writes another agency's rows, whatever ids it sends.

use axum::http::StatusCode;
use serde_json::json;

use crate::feed_support::{put, seed_references, send, send_bytes, set_updated_at, shift, token};
use crate::support::TestApp;

#[tokio::test]
async fn agencies_never_see_or_touch_each_others_rows() {
    let app = TestApp::spawn().await;
    let acme = token(&app, "acme").await;
    let brightfix = token(&app, "brightfix").await;
    seed_references(&app, &acme, "acme").await;
    let timesheet = put(&app, &acme, "acme", "timesheets", "T1", shift(), "created").await;
    set_updated_at(
        &app,
        "timesheets",
        timesheet["id"].as_i64().unwrap_or_default(),
        1_790_000_000,
    )
    .await;
    let line =
        json!({ "description": "Labour", "quantity_hundredths": 100, "unit_price_cents": 100 });
    let invoice = json!({ "client": "C1", "number": "INV-1", "issued_on": "2026-11-01", "due_on": "2026-11-30", "lines": [line] });
    put(&app, &acme, "acme", "invoices", "I1", invoice, "created").await;

    // Acme's token at brightfix's path is refused outright.
    let (refused, _) = send(
        &app,
        "GET",
        "/api/v1/brightfix/workers/by-external-id/W1",
        &acme,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (refused, _) = send(
        &app,
        "PUT",
        "/api/v1/brightfix/workers/by-external-id/W1",
        &acme,
        Some(json!({ "first_name": "X", "last_name": "Y" })),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Brightfix's own token cannot read acme's external ids …
    for path in [
        "/api/v1/brightfix/workers/by-external-id/W1",
        "/api/v1/brightfix/timesheets/by-external-id/T1",
        "/api/v1/brightfix/invoices/by-external-id/I1",
        "/api/v1/brightfix/clients/by-external-id/C1",
    ] {
        let (missing, _) = send(&app, "GET", path, &brightfix, None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
    }
    // … nor refer to acme's client, worker or worksite …
    let (response, problem) = send(
        &app,
        "PUT",
        "/api/v1/brightfix/timesheets/by-external-id/T1",
        &brightfix,
        Some(shift()),
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"]["worker"].is_string() && problem["errors"]["client"].is_string());
    // … nor attach a PDF to acme's invoice, nor see acme's changes.
    let (missing, _) = send_bytes(
        &app,
        "PUT",
        "/api/v1/brightfix/invoices/by-external-id/I1/pdf",
        &brightfix,
        "application/pdf",
        Some(b"%PDF-1.4\n".to_vec()),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let (_, page) = send(
        &app,
        "GET",
        "/api/v1/brightfix/timesheets?updated_since=0",
        &brightfix,
        None,
    )
    .await;
    assert_eq!(page["timesheets"], json!([]));

    // The same external ids in brightfix are brightfix's own rows.
    seed_references(&app, &brightfix, "brightfix").await;
    let theirs = put(
        &app,
        &brightfix,
        "brightfix",
        "timesheets",
        "T1",
        shift(),
        "created",
    )
    .await;
    assert_ne!(theirs["id"], timesheet["id"]);
    let (_, ours) = send(
        &app,
        "GET",
        "/api/v1/acme/timesheets/by-external-id/T1",
        &acme,
        None,
    )
    .await;
    assert_eq!(ours["id"], timesheet["id"]);
    assert!(ours["client_id"].as_i64().is_some());

    // Without a token nothing answers.
    let (anonymous, _) = send(
        &app,
        "GET",
        "/api/v1/acme/timesheets?updated_since=0",
        "nope",
        None,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_portal_session_reaches_no_feed_endpoint_and_no_pay_rate() {
    const SENTINEL_PAY_RATE: i64 = 987_654;
    let app = TestApp::spawn().await;
    let acme = token(&app, "acme").await;
    seed_references(&app, &acme, "acme").await;
    let mut body = shift();
    body["pay_rate_cents"] = json!(SENTINEL_PAY_RATE);
    let created = put(&app, &acme, "acme", "timesheets", "T1", body, "created").await;
    set_updated_at(
        &app,
        "timesheets",
        created["id"].as_i64().unwrap_or_default(),
        1_790_000_000,
    )
    .await;
    let client: i64 = sqlx::query_scalar("SELECT id FROM clients WHERE external_id = 'C1'")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("client");
    let password = "lantern-harbour-orbit";
    app.portal_user(
        "acme",
        "pat@northwind.example",
        Some(password),
        client,
        false,
    )
    .await;
    let mut portal = app.browser();
    portal
        .sign_in("acme", "portal", "pat@northwind.example", password)
        .await;
    for path in [
        "/api/v1/acme/timesheets?updated_since=0",
        "/api/v1/acme/timesheets/by-external-id/T1",
        "/api/v1/acme/work-requests?updated_since=0",
    ] {
        let response = portal.get(path).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            !response.body.contains(&SENTINEL_PAY_RATE.to_string()),
            "{path}"
        );
    }
    // The agency's own token does get it.
    let (_, page) = send(
        &app,
        "GET",
        "/api/v1/acme/timesheets?updated_since=0",
        &acme,
        None,
    )
    .await;
    assert_eq!(page["timesheets"][0]["pay_rate_cents"], SENTINEL_PAY_RATE);
}
