//! Bulk invite from CSV (page and API) and the user report export.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::db::portal_users;
use serde_json::Value;

use crate::portal_users::admin;
use crate::support::TestApp;

/// A file with a row of every kind: fine, invalid email, duplicate of an existing user,
/// duplicate within the file, unknown company, unknown role, no company for a one-client role,
/// a name too long, and a partner over all clients.
fn faulty_csv() -> String {
    let long = "x".repeat(101);
    format!(
        "Email,First Name,Last Name,Company,Role\n\
         new@northwind.example,New,Person,northwind,\n\
         not-an-email,Bad,Email,Northwind,\n\
         taken@northwind.example,Tak,En,Northwind,\n\
         NEW@northwind.example,Again,Person,Northwind,\n\
         who@nowhere.example,Who,Ever,Nowhere Ltd,\n\
         role@northwind.example,Ro,Le,Northwind,emperor\n\
         lost@northwind.example,Lo,St,,Customer Supervisor\n\
         long@northwind.example,{long},Name,Northwind,\n\
         partner@group.example,Pa,Rtner,,partner\n\
         \n"
    )
}

fn faults(report: &Value) -> Vec<(i64, String, String)> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap_or_default(),
                r["outcome"].as_str().unwrap_or_default().to_owned(),
                r["fault"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn api_import(app: &TestApp, token: &str, query: &str, csv: String) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/acme/portal-users/import?{query}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(Body::from(csv))
        .expect("request");
    let response = app.request(request).await;
    (
        response.status,
        serde_json::from_str(&response.body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_kind_of_faulty_row_is_skipped_with_its_reason() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user("acme", "taken@northwind.example", None, client, false)
        .await;
    let agency = app.agency("acme");
    let token = portal_server::auth::api_tokens::create(&app.state, &agency, "Import", None)
        .await
        .expect("token");
    let (status, dry) = api_import(
        &app,
        &token,
        "dry_run=true&role=customer-supervisor",
        faulty_csv(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let expected = [
        (2, "would_create", ""),
        (3, "skipped", "invalid_email"),
        (4, "skipped", "duplicate_email"),
        (5, "skipped", "duplicate_email"),
        (6, "skipped", "unknown_company"),
        (7, "skipped", "unknown_role"),
        (8, "skipped", "missing_company"),
        (9, "skipped", "invalid"),
        (10, "would_create", ""),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(l, o, f)| (*l, (*o).to_owned(), (*f).to_owned()))
        .collect();
    assert_eq!(faults(&dry), expected);
    assert_eq!(dry["would_create"], 2);
    let pool = &app.state.db().pool;
    let agency_id = app.agency_id("acme");
    assert_eq!(
        portal_users::count(pool, agency_id).await.expect("count"),
        1
    );
    assert!(app.outbox_for("new@northwind.example").await.is_empty());

    let (_, done) = api_import(&app, &token, "role=customer-supervisor", faulty_csv()).await;
    assert_eq!(done["created"], 2);
    assert_eq!(done["skipped"], 7);
    assert_eq!(
        portal_users::count(pool, agency_id).await.expect("count"),
        3
    );
    assert_eq!(app.outbox_for("new@northwind.example").await[0].0, "invite");
    assert_eq!(app.outbox_for("partner@group.example").await.len(), 1);

    let (status, problem) = api_import(&app, &token, "", "name\nAnn\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["file"]
            .as_str()
            .is_some_and(|m| m.contains("email"))
    );
}

#[tokio::test]
async fn rows_are_reported_on_their_lines_of_the_file() {
    let app = TestApp::spawn().await;
    app.client("acme", "Northwind").await;
    let agency = app.agency("acme");
    let token = portal_server::auth::api_tokens::create(&app.state, &agency, "Import", None)
        .await
        .expect("token");
    // Blank lines are skipped, and a quoted cell may span lines: neither shifts the count.
    let csv = "email,notes,company\n\
               \n\
               ann@northwind.example,\"two\nlines\",Northwind\n\
               \n\
               not-an-email,,Northwind\n";
    let (status, report) = api_import(
        &app,
        &token,
        "dry_run=true&role=customer-supervisor",
        csv.into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let expected = vec![
        (3, "would_create".to_owned(), String::new()),
        (6, "skipped".to_owned(), "invalid_email".to_owned()),
    ];
    assert_eq!(faults(&report), expected);
}

#[tokio::test]
async fn the_upload_form_previews_then_invites() {
    let app = TestApp::spawn().await;
    app.client("acme", "Northwind").await;
    let mut admin = admin(&app).await;
    let page = "/acme/manage/portal-users/import";
    let csv = "email,company\nann@northwind.example,Northwind\nbad,Northwind\n";
    let preview = admin
        .submit(
            page,
            page,
            &[
                ("csv", csv),
                ("role", "customer-supervisor"),
                ("dry_run", "on"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .body
            .contains("Dry run: 1 would be invited, 1 skipped"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("Skipped: invalid email"));
    assert!(
        preview.body.contains("ann@northwind.example,Northwind"),
        "the rows are kept"
    );
    let pool = &app.state.db().pool;
    assert_eq!(
        portal_users::count(pool, app.agency_id("acme"))
            .await
            .expect("count"),
        0
    );
    let done = admin
        .submit(page, page, &[("csv", csv), ("role", "customer-supervisor")])
        .await;
    assert!(done.body.contains("1 invited, 1 skipped"), "{}", done.body);
    assert_eq!(
        portal_users::count(pool, app.agency_id("acme"))
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn the_user_report_exports_the_filtered_list() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "ann@northwind.example",
        Some("lantern-harbour-orbit"),
        client,
        false,
    )
    .await;
    app.portal_user("acme", "bo@northwind.example", None, client, false)
        .await;
    let mut admin = admin(&app).await;
    let csv = admin
        .get("/acme/manage/portal-users/export?format=csv&status=invited")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(
        csv.header("content-disposition")
            .contains("portal-users.csv")
    );
    assert!(csv.body.contains("bo@northwind.example"), "{}", csv.body);
    assert!(!csv.body.contains("ann@northwind.example"), "filtered out");
    assert!(csv.body.contains("Customer Supervisor"), "the role's label");
    let xlsx = admin
        .get("/acme/manage/portal-users/export?format=xlsx")
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(
        xlsx.header("content-disposition")
            .contains("portal-users.xlsx")
    );
    let list = admin.get("/acme/manage/portal-users").await;
    assert!(
        list.body.contains("format=xlsx"),
        "the list offers the formats"
    );
    let unknown = admin
        .get("/acme/manage/portal-users/export?format=pdf")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}
