//! The JSON API beyond client details: paging clients, archive and delete, worksites,
//! contacts, staff, settings — audited as the token, and never across agencies — and the
//! OpenAPI document.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;
use serde_json::{Value, json};

use crate::api_clients::{send, token};
use crate::support::TestApp;

#[tokio::test]
async fn the_openapi_document_is_served_and_describes_the_api() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK);
    let document: Value = serde_json::from_str(&response.body).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    for (path, method) in [
        ("/api/v1/{agency}/token", "get"),
        ("/api/v1/{agency}/clients", "post"),
        (
            "/api/v1/{agency}/clients/{id}/worksites/{worksite}",
            "delete",
        ),
        ("/api/v1/{agency}/clients/{id}/contacts", "get"),
        ("/api/v1/{agency}/staff/{id}", "patch"),
        ("/api/v1/{agency}/settings", "put"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path}"
        );
    }
    assert!(document["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn clients_page_archive_and_delete_only_when_empty() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    for n in 1..=3 {
        app.client("acme", &format!("Client {n}")).await;
    }
    let kept = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "pat@northwind.example",
        Some("lantern-harbour-orbit"),
        kept,
        false,
    )
    .await;
    let (listed, page) = send(
        &app,
        "GET",
        "/api/v1/acme/clients?size=10&sort=name&dir=desc",
        &token,
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(page["total"], 4);
    assert_eq!(page["clients"][0]["name"], "Northwind");
    assert_eq!(page["clients"][0]["portal_users"], 1);

    let path = format!("/api/v1/acme/clients/{kept}");
    let (refused, problem) = send(&app, "DELETE", &path, &token, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1 portal users") && d.contains("Archive it instead")),
        "{problem}"
    );
    let (archived, client) = send(&app, "POST", &format!("{path}/archive"), &token, None).await;
    assert_eq!(archived.status, StatusCode::OK);
    assert!(client["archived_at"].is_string());
    let (_, active) = send(
        &app,
        "GET",
        "/api/v1/acme/clients?status=active",
        &token,
        None,
    )
    .await;
    assert_eq!(active["total"], 3);
    let (restored, client) = send(&app, "POST", &format!("{path}/restore"), &token, None).await;
    assert_eq!(restored.status, StatusCode::OK);
    assert!(client["archived_at"].is_null());

    let empty = app.client("acme", "Typo").await;
    let (deleted, _) = send(
        &app,
        "DELETE",
        &format!("/api/v1/acme/clients/{empty}"),
        &token,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let actor: String =
        sqlx::query_scalar("SELECT actor_kind FROM audit_log WHERE action = 'client deleted'")
            .fetch_one(&app.state.db().pool)
            .await
            .expect("audited");
    assert_eq!(actor, "api");
}

#[tokio::test]
async fn worksites_and_contacts_through_the_api() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let client = app.client("acme", "Northwind").await;
    let base = format!("/api/v1/acme/clients/{client}");
    let (created, site) = send(
        &app,
        "POST",
        &format!("{base}/worksites"),
        &token,
        Some(json!({ "name": "Leeds Plant", "address": "Mill Lane" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let site_id = site["id"].as_i64().unwrap_or_default();
    let (invalid, problem) = send(
        &app,
        "PUT",
        &format!("{base}/worksites/{site_id}"),
        &token,
        Some(json!({ "name": "" })),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"]["name"], "Enter the worksite name.");
    let (renamed, site) = send(
        &app,
        "PUT",
        &format!("{base}/worksites/{site_id}"),
        &token,
        Some(json!({ "name": "Leeds Works" })),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(site["name"], "Leeds Works");

    let (created, contact) = send(
        &app,
        "POST",
        &format!("{base}/contacts"),
        &token,
        Some(json!({ "first_name": "Hannah", "last_name": "Abbott", "email": "Hannah@Northwind.example", "worksite_id": site_id })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(contact["email"], "hannah@northwind.example");
    assert_eq!(contact["worksite_name"], "Leeds Works");
    let contact_id = contact["id"].as_i64().unwrap_or_default();
    let (invalid, problem) = send(
        &app,
        "POST",
        &format!("{base}/contacts"),
        &token,
        Some(json!({ "first_name": "", "last_name": "X", "portal_user_id": 999_999 })),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"]["first_name"], "Enter the first name.");
    assert!(problem["errors"]["portal_user_id"].is_string());
    let (_, listed) = send(&app, "GET", &format!("{base}/contacts"), &token, None).await;
    assert_eq!(listed["contacts"].as_array().map(Vec::len), Some(1));

    // The worksite is in use by the contact: it stays.
    let (in_use, problem) = send(
        &app,
        "DELETE",
        &format!("{base}/worksites/{site_id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("in use"))
    );
    let (removed, _) = send(
        &app,
        "DELETE",
        &format!("{base}/contacts/{contact_id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let (removed, _) = send(
        &app,
        "DELETE",
        &format!("{base}/worksites/{site_id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let actions = app.audit_actions("acme").await;
    for action in [
        "worksite added",
        "worksite changed",
        "contact added",
        "contact removed",
        "worksite removed",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action}");
    }
}

#[tokio::test]
async fn staff_are_listed_invited_and_changed_but_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let admin = app
        .staff(
            "acme",
            "admin@acme.example",
            "lantern-harbour-orbit",
            StaffRole::Admin,
        )
        .await;
    let (invited, member) = send(
        &app,
        "POST",
        "/api/v1/acme/staff",
        &token,
        Some(json!({ "name": "Ann", "email": "Ann@Acme.example", "role": "staff" })),
    )
    .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    assert_eq!(member["status"], "invited");
    assert_eq!(member["invitation_sent"], true);
    assert_eq!(app.outbox_for("ann@acme.example").await.len(), 1);
    let (duplicate, problem) = send(
        &app,
        "POST",
        "/api/v1/acme/staff",
        &token,
        Some(json!({ "name": "Ann", "email": "ann@acme.example", "role": "boss" })),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"]["role"].is_string());

    let (last, problem) = send(
        &app,
        "PATCH",
        &format!("/api/v1/acme/staff/{admin}"),
        &token,
        Some(json!({ "active": false })),
    )
    .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at least one active admin"))
    );
    let ann = member["id"].as_i64().unwrap_or_default();
    let (promoted, member) = send(
        &app,
        "PATCH",
        &format!("/api/v1/acme/staff/{ann}"),
        &token,
        Some(json!({ "role": "admin", "active": false })),
    )
    .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!(member["role"], "admin");
    assert_eq!(member["status"], "deactivated");
    let (_, member) = send(
        &app,
        "PATCH",
        &format!("/api/v1/acme/staff/{ann}"),
        &token,
        Some(json!({ "active": true })),
    )
    .await;
    assert_eq!(
        member["status"], "invited",
        "never set a password: invited again"
    );
    let (_, team) = send(&app, "GET", "/api/v1/acme/staff", &token, None).await;
    assert_eq!(team["staff"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn settings_are_read_and_replaced_with_validation() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    let ann = app
        .staff(
            "acme",
            "ann@acme.example",
            "lantern-harbour-orbit",
            StaffRole::Staff,
        )
        .await;
    let (shown, settings) = send(&app, "GET", "/api/v1/acme/settings", &token, None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(settings["password_min_length"], 8);
    assert_eq!(settings["session_idle_minutes"], 30);
    let mut wanted = settings.clone();
    wanted["password_min_length"] = json!(3);
    let (invalid, problem) = send(
        &app,
        "PUT",
        "/api/v1/acme/settings",
        &token,
        Some(wanted.clone()),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"]["password_min_length"].is_string());
    wanted["password_min_length"] = json!(16);
    wanted["work_request_recipients"] = json!([ann]);
    let (saved, settings) = send(&app, "PUT", "/api/v1/acme/settings", &token, Some(wanted)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(settings["password_min_length"], 16);
    assert_eq!(settings["work_request_recipients"], json!([ann]));
    let actor: String =
        sqlx::query_scalar("SELECT actor_kind FROM audit_log WHERE action = 'settings changed'")
            .fetch_one(&app.state.db().pool)
            .await
            .expect("audited");
    assert_eq!(actor, "api");
}

#[tokio::test]
async fn one_agencys_token_never_reaches_another_agencys_data() {
    let app = TestApp::spawn().await;
    let acme = token(&app, "acme").await;
    let theirs = app.client("brightfix", "Oakridge").await;
    let pool = &app.state.db().pool;
    let bright = app.agency_id("brightfix");
    let site = portal_server::db::clients::create_worksite(pool, bright, theirs, "Depot", "")
        .await
        .expect("worksite");
    let contact = portal_server::db::contacts::create(
        pool,
        bright,
        theirs,
        &portal_server::db::contacts::ContactFields {
            first_name: "Laura",
            last_name: "Oak",
            ..Default::default()
        },
    )
    .await
    .expect("contact");
    let member = app
        .staff(
            "brightfix",
            "boss@brightfix.example",
            "lantern-harbour-orbit",
            StaffRole::Admin,
        )
        .await;
    let base = format!("/api/v1/acme/clients/{theirs}");
    let body = json!({ "name": "Stolen", "first_name": "X", "last_name": "Y" });
    for (method, path) in [
        ("GET", base.clone()),
        ("PUT", base.clone()),
        ("DELETE", base.clone()),
        ("POST", format!("{base}/archive")),
        ("GET", format!("{base}/worksites")),
        ("POST", format!("{base}/worksites")),
        ("PUT", format!("{base}/worksites/{site}")),
        ("DELETE", format!("{base}/worksites/{site}")),
        ("GET", format!("{base}/contacts")),
        ("POST", format!("{base}/contacts")),
        ("PUT", format!("{base}/contacts/{contact}")),
        ("DELETE", format!("{base}/contacts/{contact}")),
        ("GET", format!("/api/v1/acme/staff/{member}")),
        ("PATCH", format!("/api/v1/acme/staff/{member}")),
    ] {
        let (response, _) = send(&app, method, &path, &acme, Some(body.clone())).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            response.body
        );
    }
    // The other agency's own paths refuse this token outright.
    for path in ["/api/v1/brightfix/settings", "/api/v1/brightfix/staff"] {
        let (response, _) = send(&app, "GET", path, &acme, None).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{path}");
    }
    let unchanged: (String, i64, String, String) = sqlx::query_as(
        "SELECT c.name, (SELECT COUNT(*) FROM worksites w WHERE w.client_id = c.id), \
         (SELECT first_name FROM contacts k WHERE k.id = $2), \
         (SELECT status FROM staff_users s WHERE s.id = $3) FROM clients c WHERE c.id = $1",
    )
    .bind(theirs)
    .bind(contact)
    .bind(member)
    .fetch_one(pool)
    .await
    .expect("unchanged");
    assert_eq!(
        unchanged,
        ("Oakridge".into(), 1, "Laura".into(), "active".into())
    );
    assert!(app.audit_actions("brightfix").await.is_empty());
    assert!(app.audit_actions("acme").await.is_empty());
}
