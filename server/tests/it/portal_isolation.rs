//! A portal user never reaches another client's or another agency's data by changing ids in
//! URLs, forms or query strings: the answer is 404 and nothing changes.

use axum::http::StatusCode;

use crate::portal_support::{client_id, demo_app, id, pending_of, signed_in, status};
use crate::support::csrf_token;

#[tokio::test]
async fn other_clients_ids_are_not_found() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let contoso_sheet = pending_of(&app, "acme", "Contoso Logistics").await[0];
    let contoso = |table: &str| {
        format!(
            "SELECT x.id FROM {table} x JOIN clients c ON c.id = x.client_id \
             WHERE x.agency_id = $1 AND c.name = 'Contoso Logistics' ORDER BY x.id LIMIT 1"
        )
    };
    let invoice = id(&app, "acme", &contoso("invoices")).await;
    let document = id(&app, "acme", &contoso("documents")).await;
    let request = id(&app, "acme", &contoso("work_requests")).await;
    let oakridge = |table: &str| {
        format!("SELECT x.id FROM {table} x WHERE x.agency_id = $1 ORDER BY x.id LIMIT 1")
    };
    let job = id(&app, "brightfix", &oakridge("jobs")).await;
    let quote = id(&app, "brightfix", &oakridge("quotes")).await;
    let foreign_sheet = id(&app, "brightfix", &oakridge("timesheets")).await;
    for path in [
        format!("/acme/portal/timesheets/{contoso_sheet}"),
        format!("/acme/portal/timesheets/{foreign_sheet}"),
        format!("/acme/portal/invoices/{invoice}"),
        format!("/acme/portal/invoices/{invoice}/pdf"),
        format!("/acme/portal/documents/{document}/download"),
        format!("/acme/portal/work-requests/{request}"),
    ] {
        assert_eq!(
            david.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Laura at BrightFix: another agency's job or quote id, and other clients' too.
    let mut nadia = signed_in(&app, "brightfix", "nadia@riverside-schools.example").await;
    for path in [
        format!("/brightfix/portal/jobs/{job}"),
        format!("/brightfix/portal/quotes/{quote}"),
    ] {
        assert_eq!(
            nadia.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Query strings cannot widen the scope either.
    let contoso_site = id(
        &app,
        "acme",
        "SELECT id FROM worksites WHERE agency_id = $1 AND name = 'Hull Depot'",
    )
    .await;
    let list = david
        .get(&format!("/acme/portal/timesheets?worksite={contoso_site}"))
        .await;
    assert!(list.body.contains("No timesheets match."));
}

#[tokio::test]
async fn forms_with_other_clients_ids_change_nothing() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let own = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let theirs = pending_of(&app, "acme", "Contoso Logistics").await[0];
    let list = "/acme/portal/timesheets";
    for action in [
        format!("/acme/portal/timesheets/{theirs}/approve"),
        format!("/acme/portal/timesheets/{theirs}/reject"),
    ] {
        let response = david.submit(list, &action, &[("reason", "not mine")]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{action}");
    }
    let (own_text, theirs_text) = (own.to_string(), theirs.to_string());
    let bulk = david
        .submit(
            list,
            "/acme/portal/timesheets/approve",
            &[
                ("scope", "selected"),
                ("id", &own_text),
                ("id", &theirs_text),
            ],
        )
        .await;
    assert_eq!(bulk.status, StatusCode::NOT_FOUND);
    assert_eq!(status(&app, own).await, "pending", "nothing changed");
    assert_eq!(status(&app, theirs).await, "pending");

    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_requests")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count");
    let hull = id(
        &app,
        "acme",
        "SELECT id FROM worksites WHERE agency_id = $1 AND name = 'Hull Depot'",
    )
    .await
    .to_string();
    let contoso = client_id(&app, "acme", "Contoso Logistics")
        .await
        .to_string();
    let form = "/acme/portal/work-requests/new";
    for field in [
        ("worksite_id", hull.as_str()),
        ("client_id", contoso.as_str()),
    ] {
        let response = david
            .submit(
                form,
                "/acme/portal/work-requests",
                &[
                    ("title", "Not for us"),
                    ("description", "Filed against another client"),
                    ("urgency", "low"),
                    field,
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{field:?}");
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_requests")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count");
    assert_eq!(before, after);

    let home = david.get("/acme/portal").await;
    let token = csrf_token(&home.body);
    let picked = david
        .post(
            "/acme/portal/client",
            &[("client_id", &contoso), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(picked.status, StatusCode::NOT_FOUND);
    // A forged selector cookie is ignored.
    david.set_cookie("portal-client", &contoso);
    let home = david.get("/acme/portal").await;
    assert!(home.body.contains("Northwind") && !home.body.contains("Contoso"));
}

#[tokio::test]
async fn a_session_of_one_agency_is_nothing_at_another() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let response = david.get("/brightfix/portal/timesheets").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/brightfix/portal/login");
}
