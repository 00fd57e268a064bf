//! The demo data set signed in as its portal users, for the portal's tests.

use axum::http::StatusCode;
use portal_server::db::timesheets::{self, NewTimesheet};
use portal_server::demo::DEMO_PASSWORD;

use crate::support::{Browser, TestApp, TestResponse};

/// A fresh app with both demo agencies seeded.
pub async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
        .await
        .expect("seed");
    app
}

/// A browser signed in to `agency`'s portal as `email` (demo password).
pub async fn signed_in<'a>(app: &'a TestApp, agency: &str, email: &str) -> Browser<'a> {
    signed_in_to(app, agency, "portal", email).await
}

/// A browser signed in to `agency`'s manage area as staff member `email` (demo password).
pub async fn signed_in_staff<'a>(app: &'a TestApp, agency: &str, email: &str) -> Browser<'a> {
    signed_in_to(app, agency, "manage", email).await
}

async fn signed_in_to<'a>(app: &'a TestApp, agency: &str, area: &str, email: &str) -> Browser<'a> {
    let mut browser = app.browser();
    let response = browser.sign_in(agency, area, email, DEMO_PASSWORD).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{email} signs in");
    browser
}

/// One id from a query with one `$1` (the agency id).
pub async fn id(app: &TestApp, agency: &str, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(app.agency_id(agency))
        .fetch_one(&app.state.db().pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// The id of a client of `agency` by name.
pub async fn client_id(app: &TestApp, agency: &str, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND name = $2")
        .bind(app.agency_id(agency))
        .bind(name)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("client")
}

/// A timesheet's status.
pub async fn status(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM timesheets WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("status")
}

/// A pending timesheet of a client.
pub async fn pending_of(app: &TestApp, agency: &str, client: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT t.id FROM timesheets t JOIN clients c ON c.id = t.client_id \
         WHERE t.agency_id = $1 AND c.name = $2 AND t.status = 'pending' ORDER BY t.id",
    )
    .bind(app.agency_id(agency))
    .bind(client)
    .fetch_all(&app.state.db().pool)
    .await
    .expect("pending")
}

/// "Approve all pending shown" on `agency`'s list of pending timesheets.
pub async fn approve_all_pending_shown(browser: &mut Browser<'_>, agency: &str) -> TestResponse {
    browser
        .submit(
            &format!("/{agency}/portal/timesheets?status=pending"),
            &format!("/{agency}/portal/timesheets/approve"),
            &[("scope", "shown"), ("status", "pending")],
        )
        .await
}

/// A pending Northwind timesheet with a 30-minute break, as the agency's back office sends.
pub async fn northwind_shift(app: &TestApp, start: &str, end: &str) -> i64 {
    let northwind = client_id(app, "acme", "Northwind Manufacturing").await;
    let agency = app.agency_id("acme");
    let worker: i64 = sqlx::query_scalar("SELECT id FROM workers WHERE agency_id = $1 LIMIT 1")
        .bind(agency)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("worker");
    let shift = NewTimesheet {
        external_id: None,
        client_id: northwind,
        worksite_id: None,
        worker_id: worker,
        work_date: "2026-11-02",
        start_time: start,
        end_time: end,
        break_minutes: 30,
        charge_rate_cents: 2450,
        pay_rate_cents: 1575,
    };
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    timesheets::create(&mut conn, agency, &shift)
        .await
        .expect("timesheet")
}
