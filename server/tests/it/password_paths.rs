//! Every path that sets a password reads the policy in force — the settings page's shortest
//! password over the configuration file's — and refuses a password shorter than it: a person's
//! own change (both areas), an admin's (page and API), an account created with a password
//! (API), and a reset or invitation link.

use axum::http::StatusCode;
use portal_server::db::accounts::AccountKind;
use portal_server::db::tokens::Purpose;
use portal_server::demo::DEMO_PASSWORD;
use serde_json::json;

use crate::api_clients::{send, token};
use crate::portal_support::{client_id, demo_app, id, signed_in, signed_in_staff};

/// Thirteen characters, not common, not the person's name: fine at 8, too short at 15.
const MEDIUM: &str = "copper-meadow";

#[tokio::test]
async fn every_password_path_reads_the_shortest_password_in_force() {
    let app = demo_app().await;
    let api = token(&app, "acme").await;
    let (_, mut settings) = send(&app, "GET", "/api/v1/acme/settings", &api, None).await;
    settings["password_min_length"] = json!(15);
    let (saved, _) = send(&app, "PUT", "/api/v1/acme/settings", &api, Some(settings)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let too_short = "at least 15";

    let david = id(
        &app,
        "acme",
        "SELECT id FROM portal_users WHERE agency_id = $1 AND email = 'david@northwind.example'",
    )
    .await;
    let change = [
        ("current", DEMO_PASSWORD),
        ("password", MEDIUM),
        ("confirm", MEDIUM),
    ];
    let mut paths: Vec<(&str, String)> = Vec::new();

    let mut own = signed_in(&app, "acme", "david@northwind.example").await;
    let page = "/acme/portal/account/password";
    paths.push((
        "portal user's own change",
        own.submit(page, page, &change).await.body,
    ));

    let mut staff = signed_in_staff(&app, "acme", "recruiter@acme-staffing.example").await;
    let page = "/acme/manage/account/password";
    paths.push((
        "staff member's own change",
        staff.submit(page, page, &change).await.body,
    ));

    let mut admin = signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    let shown = format!("/acme/manage/portal-users/{david}");
    let action = format!("/acme/manage/portal-users/{david}/password");
    let set = admin.submit(&shown, &action, &[("password", MEDIUM)]).await;
    paths.push(("admin's page", set.body));

    let path = format!("/api/v1/acme/portal-users/{david}/password");
    let (_, problem) = send(
        &app,
        "POST",
        &path,
        &api,
        Some(json!({ "password": MEDIUM })),
    )
    .await;
    paths.push(("admin through the API", problem.to_string()));

    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    let body = json!({
        "mode": "manual", "first_name": "Dana", "last_name": "Reyes",
        "email": "dana@northwind.example", "role": "customer-supervisor", "company": northwind,
        "password": MEDIUM,
    });
    let (_, problem) = send(&app, "POST", "/api/v1/acme/portal-users", &api, Some(body)).await;
    paths.push((
        "created with a password through the API",
        problem.to_string(),
    ));

    for purpose in [Purpose::Reset, Purpose::Invite] {
        let secret = crate::link_revocation::link(&app, AccountKind::Portal, david, purpose).await;
        let page = format!("/acme/portal/set-password?token={secret}");
        let set = app
            .browser()
            .submit(
                &page,
                "/acme/portal/set-password",
                &[
                    ("token", &secret),
                    ("password", MEDIUM),
                    ("confirm", MEDIUM),
                ],
            )
            .await;
        paths.push((purpose.as_str(), set.body));
    }

    for (path, answer) in &paths {
        assert!(answer.contains(too_short), "{path}: {answer}");
    }
    // Nothing was set: the demo password still signs David in.
    let again = app
        .browser()
        .sign_in("acme", "portal", "david@northwind.example", DEMO_PASSWORD)
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}
