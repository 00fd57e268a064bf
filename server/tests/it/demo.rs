//! The demo data set.

use portal_server::db;

use crate::support::TestApp;

async fn count(app: &TestApp, table: &str, agency_id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE agency_id = $1"
    )))
    .bind(agency_id)
    .fetch_one(&app.state.db().pool)
    .await
    .expect("count")
}

#[tokio::test]
async fn demo_seed_fills_both_agencies_once() {
    let app = TestApp::spawn().await;
    portal_server::demo::seed(&app.state).await.expect("seed");
    let acme = app.state.agency("acme").expect("acme").id;
    let brightfix = app.state.agency("brightfix").expect("brightfix").id;
    let mut before = Vec::new();
    for table in [
        "staff_users",
        "clients",
        "worksites",
        "portal_users",
        "workers",
        "timesheets",
        "clock_events",
        "invoices",
        "documents",
        "work_requests",
        "jobs",
        "quotes",
    ] {
        let (a, b) = (
            count(&app, table, acme).await,
            count(&app, table, brightfix).await,
        );
        assert!(a + b > 0, "{table} is empty");
        before.push((table, a, b));
    }
    assert!(count(&app, "jobs", brightfix).await > 0);
    assert_eq!(
        count(&app, "jobs", acme).await,
        0,
        "jobs belong to the field-service agency"
    );

    // Every timesheet status appears, and decided ones have history.
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT status FROM timesheets WHERE agency_id = $1 ORDER BY status",
    )
    .bind(acme)
    .fetch_all(&app.state.db().pool)
    .await
    .expect("statuses");
    assert_eq!(statuses, ["approved", "pending", "rejected"]);

    portal_server::demo::seed(&app.state)
        .await
        .expect("second seed");
    for (table, a, b) in before {
        assert_eq!(count(&app, table, acme).await, a, "{table} changed");
        assert_eq!(count(&app, table, brightfix).await, b, "{table} changed");
    }
    let staff = db::staff_users::list(&app.state.db().pool, acme)
        .await
        .expect("staff");
    assert!(
        staff
            .iter()
            .any(|s| s.email == "admin@acme-staffing.example" && s.role == "admin")
    );
}
