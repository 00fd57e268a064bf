//! API tokens: created by admins and shown once, stored hashed, scoped to one agency,
//! revocable.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use portal_server::db::staff_users::StaffRole;

use crate::support::{TestApp, TestResponse};

const PASSWORD: &str = "lantern-harbour-orbit";

async fn call(app: &TestApp, path: &str, token: &str) -> TestResponse {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    app.request(request).await
}

#[tokio::test]
async fn an_admin_creates_a_token_that_works_for_its_agency_only_until_revoked() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let page = "/acme/manage/api-tokens";
    let created = browser
        .submit(page, page, &[("name", "Payroll sync")])
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let token = created
        .body
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_owned();
    assert!(token.starts_with("portal_") && token.len() == 71, "{token}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.state.db().pool)
        .await
        .expect("tokens");
    assert!(
        !stored.iter().any(|hash| hash.contains(&token[7..])),
        "tokens are stored hashed"
    );
    assert!(!browser.get(page).await.body.contains(&token), "shown once");

    let whoami = call(&app, "/api/v1/acme/token", &token).await;
    assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.body);
    let body: serde_json::Value = serde_json::from_str(&whoami.body).expect("json");
    assert_eq!(body["agency"]["slug"], "acme");
    assert_eq!(body["token"]["name"], "Payroll sync");

    let elsewhere = call(&app, "/api/v1/brightfix/token", &token).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert_eq!(elsewhere.header("content-type"), "application/problem+json");
    let forged = call(&app, "/api/v1/acme/token", "portal_0000").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let none = app.get("/api/v1/acme/token").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);

    let listing = browser.get(page).await.body;
    let revoke = listing
        .split("action=\"")
        .filter_map(|p| p.split('"').next())
        .find(|a| a.ends_with("/revoke"))
        .unwrap_or_default()
        .to_owned();
    let revoked = browser.submit(page, &revoke, &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        call(&app, "/api/v1/acme/token", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"api token created".to_owned())
            && actions.contains(&"api token revoked".to_owned())
    );
}

#[tokio::test]
async fn only_admins_manage_tokens_and_names_are_required() {
    let app = TestApp::spawn().await;
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    app.staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    assert_eq!(
        staff.get("/acme/manage/api-tokens").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = app.browser();
    admin
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    let page = "/acme/manage/api-tokens";
    let empty = admin.submit(page, page, &[("name", "   ")]).await;
    assert!(
        empty.body.contains("Give the token a name"),
        "{}",
        empty.body
    );
    assert!(!empty.body.contains("id=\"new-token\""));
}
