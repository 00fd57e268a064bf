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
    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
        .await
        .expect("seed");
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

    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
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

#[tokio::test]
async fn large_seed_fills_every_agency_once_and_its_users_sign_in() {
    use portal_server::demo::large::{self, Shape};

    let mut agencies = TestApp::demo_agencies();
    let acme_text =
        std::fs::read_to_string(crate::support::repo_root().join("config/agencies/acme.toml"))
            .expect("acme.toml");
    agencies.insert(
        "small-01".into(),
        crate::support::agency(&acme_text.replace("slug = \"acme\"", "slug = \"small-01\"")),
    );
    let app = TestApp::with_agencies(agencies).await;
    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
        .await
        .expect("demo");
    let (acme, small) = (app.agency_id("acme"), app.agency_id("small-01"));
    let tables = [
        "clients",
        "worksites",
        "workers",
        "portal_users",
        "timesheets",
    ];
    let mut demo = Vec::new();
    for table in tables {
        demo.push(count(&app, table, acme).await);
    }
    let big = Shape {
        clients: 12,
        workers: 30,
        portal_users: 500,
        timesheets: 3_000,
        days: 40,
    };
    let small_shape = Shape {
        clients: 3,
        workers: 6,
        portal_users: 20,
        timesheets: 200,
        days: 10,
    };
    let hash = portal_server::auth::passwords::hash(portal_server::demo::DEMO_PASSWORD)
        .await
        .expect("hash");
    for _ in 0..2 {
        large::seed(&app.state, &hash, big, small_shape)
            .await
            .expect("large seed");
        let wanted = [
            big.clients,
            big.clients,
            big.workers,
            big.portal_users,
            big.timesheets,
        ];
        for ((table, before), added) in tables.iter().zip(&demo).zip(wanted) {
            assert_eq!(
                count(&app, table, acme).await,
                before + added as i64,
                "acme {table}"
            );
        }
        let wanted = [3, 3, 6, 20, 200];
        for (table, n) in tables.iter().zip(wanted) {
            assert_eq!(count(&app, table, small).await, n, "small-01 {table}");
        }
    }
    // The kept totals follow the bulk inserts.
    let counted: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(sheets), 0) AS BIGINT) FROM timesheet_day_totals WHERE agency_id = $1",
    )
    .bind(small)
    .fetch_one(&app.state.db().pool)
    .await
    .expect("totals");
    assert_eq!(counted, 200);

    // user0 is active with the demo password and sees only client 0's timesheets: row `g`
    // goes to client g % 12 and worker g % 30, so client 0 has workers 0, 6, 12, … only.
    let mut browser = app.browser();
    let signed_in = browser
        .sign_in(
            "acme",
            "portal",
            "user0@client0.example",
            portal_server::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let page = browser.get("/acme/portal/timesheets").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Worker00006"), "{}", page.body);
    assert!(
        !page.body.contains("Worker00001"),
        "another client's rows: {}",
        page.body
    );
    // Invited users never chose a password.
    let refused = app
        .browser()
        .sign_in(
            "acme",
            "portal",
            "user1@client1.example",
            portal_server::demo::DEMO_PASSWORD,
        )
        .await;
    assert_ne!(refused.status, 303);
}
