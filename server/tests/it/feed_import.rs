//! The manage area's CSV import: staff only, a dry-run preview, a result per row.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;

use crate::feed_support::{seed_references, token};
use crate::support::{Browser, TestApp};

const PASSWORD: &str = "lantern-harbour-orbit";

async fn staff(app: &TestApp) -> Browser<'_> {
    app.staff("acme", "sam@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "sam@acme.example", PASSWORD)
        .await;
    browser
}

const TIMESHEETS: &str = "external_id,worker,client,worksite,work_date,start_time,end_time,break_minutes,charge_rate_cents,pay_rate_cents,minutes_worked\n\
T1,W1,C1,S1,2026-11-02,08:00,16:30,30,2550,1800,480\n\
T2,W9,C1,,2026-11-02,08:00,16:30,30,2550,1800,\n\
T3,W1,C1,S2,2026-11-02,08:00,16:30,30,2550,1800,\n\
T4,W1,C1,,2 Nov 2026,8am,16:30,30,2550,1800,\n\
T5,W1,C1,,2026-11-02,08:00,16:30,30,lots,,\n\
T6,W1,C1,,2026-11-02,08:00,16:30,30,2550,1800,500\n\
T1,W1,C1,,2026-11-03,08:00,16:30,30,2550,1800,\n\
T7,W1,C1\n\
,W1,C1,,2026-11-02,08:00,16:30,30,2550,1800,\n\
T8,W1,C1,,2026-11-04,22:00,06:00,0,2550,1800,480\n";

async fn timesheet_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM timesheets")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn staff_preview_then_import_timesheets_with_a_report_per_row() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let mut browser = staff(&app).await;
    let page = browser.get("/acme/manage/import").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("aria-current=\"page\">Import</a>"),
        "the nav marks the page"
    );

    let fields = [
        ("kind", "timesheets"),
        ("csv", TIMESHEETS),
        ("dry_run", "on"),
    ];
    let preview = browser
        .submit("/acme/manage/import", "/acme/manage/import", &fields)
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = &preview.body;
    assert!(body.contains("Preview: nothing was saved"), "{body}");
    assert!(
        body.contains("2 to create, 0 to update, 0 unchanged, 8 with problems"),
        "{body}"
    );
    for problem in [
        "There is no worker with the external id &quot;W9&quot;.",
        "This worksite belongs to another client.",
        "The work date must be a date like 2026-11-02.",
        "The start time must be a 24-hour time like 08:30.",
        "The charge rate must be a whole number.",
        "Enter the pay rate.",
        "From 08:00 to 16:30 less a 30-minute break is 480 minutes.",
        "This external id is already on line 2.",
        "This line has 3 values; the header has 11 columns.",
        "Enter the external id.",
    ] {
        assert!(body.contains(problem), "missing {problem:?}");
    }
    assert_eq!(timesheet_count(&app).await, 0, "a preview saves nothing");

    let fields = [("kind", "timesheets"), ("csv", TIMESHEETS)];
    let imported = browser
        .submit("/acme/manage/import", "/acme/manage/import", &fields)
        .await;
    assert!(
        imported
            .body
            .contains("2 created, 0 updated, 0 unchanged, 8 with problems"),
        "{}",
        imported.body
    );
    assert_eq!(timesheet_count(&app).await, 2);
    let actions = app.audit_actions("acme").await;
    assert_eq!(
        actions.iter().filter(|a| *a == "timesheet created").count(),
        2
    );

    let again = browser
        .submit("/acme/manage/import", "/acme/manage/import", &fields)
        .await;
    assert!(
        again.body.contains("0 created, 0 updated, 2 unchanged"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_bad_file_is_refused_as_a_whole_and_portal_users_are_kept_out() {
    let app = TestApp::spawn().await;
    let mut browser = staff(&app).await;
    let fields = [("kind", "workers"), ("csv", "id,name\n1,Ada\n")];
    let refused = browser
        .submit("/acme/manage/import", "/acme/manage/import", &fields)
        .await;
    assert!(
        refused.body.contains("Unknown column(s): id, name."),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let fields = [("kind", "invoices"), ("csv", "external_id\n")];
    let refused = browser
        .submit("/acme/manage/import", "/acme/manage/import", &fields)
        .await;
    assert!(refused.body.contains("Choose what the file holds"));

    let anonymous = app.get("/acme/manage/import").await;
    assert_ne!(anonymous.status, StatusCode::OK);
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "pat@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    let mut portal = app.browser();
    portal
        .sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    let page = portal.get("/acme/manage/import").await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!page.body.contains("CSV text"));
}
