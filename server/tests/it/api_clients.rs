//! `/api/v1/{agency}/clients` with an API token.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

pub async fn token(app: &TestApp, slug: &str) -> String {
    let agency = app.state.agency(slug).expect("agency");
    portal_server::auth::api_tokens::create(&app.state, &agency, "Back office", None)
        .await
        .expect("token")
}

pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (TestResponse, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let response = app.request(request).await;
    let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response, json)
}

#[tokio::test]
async fn clients_are_created_listed_and_changed_through_the_api() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let body =
        json!({ "name": "Northwind", "email": "Ops@Northwind.example", "portal_enabled": true });
    let (created, client) = send(&app, "POST", "/api/v1/acme/clients", &token, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(client["email"], "ops@northwind.example");
    assert_eq!(client["portal_enabled"], true);
    let id = client["id"].as_i64().unwrap_or_default();

    let (invalid, problem) = send(
        &app,
        "POST",
        "/api/v1/acme/clients",
        &token,
        Some(json!({ "name": "", "email": "nope" })),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.header("content-type"), "application/problem+json");
    assert_eq!(problem["errors"]["name"], "Enter the company name.");
    assert_eq!(
        problem["errors"]["email"],
        "Enter an email address like name@example.com."
    );

    let (duplicate, problem) = send(
        &app,
        "POST",
        "/api/v1/acme/clients",
        &token,
        Some(json!({ "name": "northwind" })),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["name"],
        "Another client already has this name."
    );

    let path = format!("/api/v1/acme/clients/{id}");
    let (changed, client) = send(
        &app,
        "PUT",
        &path,
        &token,
        Some(json!({ "name": "Northwind Ltd", "portal_enabled": false })),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        (client["name"].as_str(), client["portal_enabled"].as_bool()),
        (Some("Northwind Ltd"), Some(false))
    );
    let (_, list) = send(&app, "GET", "/api/v1/acme/clients", &token, None).await;
    assert_eq!(list["clients"].as_array().map(Vec::len), Some(1));
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"client created".to_owned())
    );
}

#[tokio::test]
async fn one_agencys_token_cannot_reach_another_agencys_clients() {
    let app = TestApp::spawn().await;
    let theirs = app.client("brightfix", "Oakridge").await;
    let acme = token(&app, "acme").await;
    let (other_agency, _) = send(&app, "GET", "/api/v1/brightfix/clients", &acme, None).await;
    assert_eq!(other_agency.status, StatusCode::FORBIDDEN);
    let (by_id, _) = send(
        &app,
        "GET",
        &format!("/api/v1/acme/clients/{theirs}"),
        &acme,
        None,
    )
    .await;
    assert_eq!(by_id.status, StatusCode::NOT_FOUND);
    let (put, _) = send(
        &app,
        "PUT",
        &format!("/api/v1/acme/clients/{theirs}"),
        &acme,
        Some(json!({ "name": "Stolen" })),
    )
    .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
    let (unsigned, _) = send(&app, "GET", "/api/v1/acme/clients", "", None).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
}
