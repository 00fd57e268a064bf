//! `/api/v1/{agency}/portal-users…` with an API token.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api_clients::{send, token};
use crate::support::TestApp;

const USERS: &str = "/api/v1/acme/portal-users";

#[tokio::test]
async fn users_are_created_listed_changed_and_deleted_through_the_api() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let client = app.client("acme", "Northwind").await;
    let (created, user) = send(
        &app,
        "POST",
        USERS,
        &token,
        Some(json!({
            "mode": "manual", "first_name": "Dana", "last_name": "Reyes",
            "email": "Dana@Northwind.example", "role": "customer-supervisor", "company": client,
            "password": "copper-meadow-violin",
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(user["email"], "dana@northwind.example");
    assert_eq!(user["must_change_password"], true);
    assert_eq!(user["company"], "Northwind");
    assert_eq!(user["client_ids"], json!([client]));
    let id = user["id"].as_i64().unwrap_or_default();

    let (problem, body) = send(
        &app,
        "POST",
        USERS,
        &token,
        Some(json!({ "mode": "manual", "email": "dana@northwind.example", "role": "customer-supervisor",
                     "company": client, "first_name": "D", "last_name": "R", "password": "password123" })),
    )
    .await;
    assert_eq!(problem.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem.header("content-type"), "application/problem+json");
    assert_eq!(
        body["errors"]["email"],
        "Another portal user already signs in with this email."
    );
    let (_, body) = send(
        &app,
        "POST",
        USERS,
        &token,
        Some(json!({ "mode": "manual", "email": "nope", "role": "customer-supervisor",
                     "company": client, "first_name": "D", "last_name": "R", "password": "password123" })),
    )
    .await;
    assert_eq!(
        body["errors"]["email"],
        "Enter an email address like name@example.com."
    );
    assert!(
        body["errors"]["password"]
            .as_str()
            .is_some_and(|m| m.contains("common"))
    );

    let (invited, invitee) = send(
        &app,
        "POST",
        USERS,
        &token,
        Some(json!({ "email": "kim@northwind.example", "role": "customer-supervisor", "company": client })),
    )
    .await;
    assert_eq!(invited.status, StatusCode::CREATED);
    assert_eq!(invitee["status"], "invited");
    assert_eq!(invitee["email_sent"], true);

    let (_, list) = send(
        &app,
        "GET",
        &format!("{USERS}?q=dana&sort=email&dir=desc&size=10"),
        &token,
        None,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["more"], false, "counted in full");
    assert_eq!(list["size"], 10);
    assert_eq!(list["users"][0]["id"], id);
    let (_, list) = send(
        &app,
        "GET",
        &format!("{USERS}?status=invited"),
        &token,
        None,
    )
    .await;
    assert_eq!(list["total"], 1);
    let (_, all) = send(
        &app,
        "GET",
        &format!("{USERS}?sort=email&size=10"),
        &token,
        None,
    )
    .await;
    let total = all["total"].as_u64().expect("a count");
    let (_, last) = send(
        &app,
        "GET",
        &format!("{USERS}?sort=email&size=10&at=end"),
        &token,
        None,
    )
    .await;
    let on_last = (total - 1) % 10 + 1;
    assert_eq!(last["page"], (total - 1) / 10 + 1, "the Last page's number");
    assert_eq!(
        last["users"].as_array().map(Vec::len),
        Some(on_last as usize)
    );

    let path = format!("{USERS}/{id}");
    let (changed, user) = send(
        &app,
        "PUT",
        &path,
        &token,
        Some(
            json!({ "first_name": "Dana", "last_name": "Ray", "email": "dana@northwind.example",
                     "role": "customer-time-only", "company": client, "restricted_access": true }),
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(user["role_id"], "customer-time-only");
    assert_eq!(user["restricted_access"], true);

    let (_, user) = send(&app, "POST", &format!("{path}/deactivate"), &token, None).await;
    assert_eq!(user["status"], "deactivated");
    let (_, user) = send(&app, "POST", &format!("{path}/reactivate"), &token, None).await;
    assert_eq!(user["status"], "active");
    let (_, user) = send(
        &app,
        "POST",
        &format!("{path}/password"),
        &token,
        Some(json!({})),
    )
    .await;
    assert!(user["password"].as_str().is_some_and(|p| p.len() >= 12));
    let (weak, body) = send(
        &app,
        "POST",
        &format!("{path}/password"),
        &token,
        Some(json!({ "password": "short" })),
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["errors"]["password"].is_string());
    let (sent, _) = send(&app, "POST", &format!("{path}/reset-link"), &token, None).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let (_, ended) = send(&app, "POST", &format!("{path}/sign-out"), &token, None).await;
    assert_eq!(ended["sessions_ended"], 0, "the user never signed in");
    let (not_invited, _) = send(&app, "POST", &format!("{path}/resend"), &token, None).await;
    assert_eq!(not_invited.status, StatusCode::CONFLICT);

    let (deleted, _) = send(&app, "DELETE", &path, &token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let (gone, _) = send(&app, "GET", &path, &token, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let actions = app.audit_actions("acme").await;
    for action in [
        "portal user created",
        "portal user invited",
        "portal user changed",
        "portal user deactivated",
        "portal user reactivated",
        "portal user password set",
        "portal user reset link sent",
        "sessions ended",
        "portal user deleted",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn resending_is_limited_and_bulk_actions_count_what_they_did() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let client = app.client("acme", "Northwind").await;
    let a = app
        .portal_user("acme", "a@northwind.example", None, client, false)
        .await;
    let b = app
        .portal_user("acme", "b@northwind.example", None, client, false)
        .await;
    for _ in 0..3 {
        let (sent, _) = send(&app, "POST", &format!("{USERS}/{a}/resend"), &token, None).await;
        assert_eq!(sent.status, StatusCode::ACCEPTED);
    }
    let (limited, problem) = send(&app, "POST", &format!("{USERS}/{a}/resend"), &token, None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Try again later"))
    );

    let (bulk, body) = send(
        &app,
        "POST",
        &format!("{USERS}/bulk"),
        &token,
        Some(json!({ "action": "resend", "ids": [a, b] })),
    )
    .await;
    assert_eq!(bulk.status, StatusCode::OK);
    assert_eq!(body["done"], 1, "a is limited, b is sent");
    let (_, body) = send(
        &app,
        "POST",
        &format!("{USERS}/bulk"),
        &token,
        Some(json!({ "action": "deactivate", "ids": [a, b, 999_999] })),
    )
    .await;
    assert_eq!(body["done"], 2);
    let (bad, body) = send(
        &app,
        "POST",
        &format!("{USERS}/bulk"),
        &token,
        Some(json!({ "action": "explode", "ids": [a] })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["errors"]["action"].is_string());
    let (_, body) = send(
        &app,
        "POST",
        &format!("{USERS}/bulk"),
        &token,
        Some(json!({ "action": "delete", "ids": [a, b] })),
    )
    .await;
    assert_eq!(body["done"], 2);
}

#[tokio::test]
async fn a_token_of_one_agency_cannot_touch_another_agencys_users() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let theirs = app.client("brightfix", "Harbour Homes").await;
    let id = app
        .portal_user(
            "brightfix",
            "ann@harbour.example",
            Some("lantern-harbour-orbit"),
            theirs,
            false,
        )
        .await;
    let path = format!("{USERS}/{id}");
    let (shown, _) = send(&app, "GET", &path, &token, None).await;
    assert_eq!(shown.status, StatusCode::NOT_FOUND);
    let (changed, _) = send(
        &app,
        "PUT",
        &path,
        &token,
        Some(
            json!({ "email": "x@acme.example", "role": "customer-supervisor", "company": theirs }),
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    for action in [
        "deactivate",
        "reactivate",
        "sign-out",
        "password",
        "reset-link",
        "resend",
    ] {
        let (response, _) = send(
            &app,
            "POST",
            &format!("{path}/{action}"),
            &token,
            Some(json!({})),
        )
        .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{action}");
    }
    let (deleted, _) = send(&app, "DELETE", &path, &token, None).await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    let (_, body) = send(
        &app,
        "POST",
        &format!("{USERS}/bulk"),
        &token,
        Some(json!({ "action": "delete", "ids": [id] })),
    )
    .await;
    assert_eq!(body["done"], 0);
    let (other, _) = send(&app, "GET", "/api/v1/brightfix/portal-users", &token, None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let user =
        portal_server::db::portal_users::get(&app.state.db().pool, app.agency_id("brightfix"), id)
            .await
            .expect("get")
            .expect("still there");
    assert_eq!(
        (user.email.as_str(), user.status.as_str()),
        ("ann@harbour.example", "active")
    );
}

#[tokio::test]
async fn the_served_openapi_document_describes_every_endpoint() {
    let app = TestApp::spawn().await;
    let served = app.get("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let document: Value = serde_json::from_str(&served.body).expect("JSON");
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/{agency}/portal-users",
        "/api/v1/{agency}/portal-users/{id}",
        "/api/v1/{agency}/portal-users/{id}/deactivate",
        "/api/v1/{agency}/portal-users/{id}/reactivate",
        "/api/v1/{agency}/portal-users/{id}/sign-out",
        "/api/v1/{agency}/portal-users/{id}/password",
        "/api/v1/{agency}/portal-users/{id}/reset-link",
        "/api/v1/{agency}/portal-users/{id}/resend",
        "/api/v1/{agency}/portal-users/bulk",
        "/api/v1/{agency}/portal-users/import",
        "/api/v1/{agency}/portal-users/export",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let text = document.to_string();
    for reference in text.split("#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(schemas.contains_key(name), "{name} is defined");
    }
}
