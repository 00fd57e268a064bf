//! The manage area's clients and worksites.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;

use crate::support::{Browser, TestApp};

const PASSWORD: &str = "lantern-harbour-orbit";

pub async fn admin(app: &TestApp) -> Browser<'_> {
    app.staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    browser
}

fn client_fields<'a>(name: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("email", email),
        ("phone", "0113 496 0000"),
        ("address", "12 Mill Lane"),
        ("notes", ""),
        ("portal_enabled", "on"),
    ]
}

#[tokio::test]
async fn an_admin_adds_edits_and_lists_clients() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let form = "/acme/manage/clients/new";
    let created = browser
        .submit(
            form,
            form,
            &client_fields("Northwind Manufacturing", "Ops@Northwind.example"),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.header("location").to_owned();
    assert!(location.ends_with("?done=created"), "{location}");
    let page = browser.get(&location).await;
    assert!(page.body.contains("The client was added."));
    assert!(
        page.body.contains("value=\"ops@northwind.example\""),
        "emails are stored lower-cased"
    );

    let path = location.split('?').next().unwrap_or_default().to_owned();
    let mut fields = client_fields("Northwind Manufacturing Ltd", "ops@northwind.example");
    fields.retain(|(k, _)| *k != "portal_enabled");
    let saved = browser.submit(&path, &path, &fields).await;
    assert_eq!(saved.header("location"), format!("{path}?done=saved"));
    let list = browser.get("/acme/manage/clients?q=ltd").await;
    assert!(
        list.body.contains("Northwind Manufacturing Ltd") && list.body.contains("Portal off"),
        "{}",
        list.body
    );
    let none = browser.get("/acme/manage/clients?q=zzz").await;
    assert!(none.body.contains("No client matches"));
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"client created".to_owned())
            && actions.contains(&"client changed".to_owned())
    );
}

#[tokio::test]
async fn bad_input_is_explained_next_to_the_field_and_kept() {
    let app = TestApp::spawn().await;
    app.client("acme", "Contoso Logistics").await;
    let mut browser = admin(&app).await;
    let form = "/acme/manage/clients/new";
    let long_phone = "1".repeat(41);
    let refused = browser
        .submit(
            form,
            form,
            &[
                ("name", "  "),
                ("email", "not-an-email"),
                ("phone", &long_phone),
                ("address", "Dock Street"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("Enter the company name."),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Enter an email address like name@example.com.")
    );
    assert!(refused.body.contains("at most 40 characters"));
    assert!(
        refused.body.contains("Dock Street"),
        "what was typed is kept"
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let duplicate = browser
        .submit(form, form, &client_fields("contoso logistics", ""))
        .await;
    assert!(
        duplicate
            .body
            .contains("Another client already has this name."),
        "{}",
        duplicate.body
    );
}

#[tokio::test]
async fn staff_can_look_but_only_admins_change() {
    let app = TestApp::spawn().await;
    let id = app.client("acme", "Northwind").await;
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    assert_eq!(
        staff.get("/acme/manage/clients").await.status,
        StatusCode::OK
    );
    let detail = staff.get(&format!("/acme/manage/clients/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.body.contains("Save changes"));
    assert_eq!(
        staff.get("/acme/manage/clients/new").await.status,
        StatusCode::FORBIDDEN
    );
    let path = format!("/acme/manage/clients/{id}");
    let changed = staff
        .submit(&path, &path, &client_fields("Renamed", ""))
        .await;
    assert_eq!(changed.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn another_agencys_client_is_not_found() {
    let app = TestApp::spawn().await;
    let theirs = app.client("brightfix", "Oakridge").await;
    let mut browser = admin(&app).await;
    let path = format!("/acme/manage/clients/{theirs}");
    assert_eq!(browser.get(&path).await.status, StatusCode::NOT_FOUND);
    let page = browser.get("/acme/manage/clients").await;
    let changed = browser
        .post(
            &path,
            &[
                ("name", "Stolen"),
                ("csrf_token", &crate::support::csrf_token(&page.body)),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    let archive = browser
        .post(
            &format!("{path}/archive"),
            &[("csrf_token", &crate::support::csrf_token(&page.body))],
        )
        .await;
    assert_eq!(archive.status, StatusCode::NOT_FOUND);
    let name: String = sqlx::query_scalar("SELECT name FROM clients WHERE id = $1")
        .bind(theirs)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("client");
    assert_eq!(name, "Oakridge");
}

#[tokio::test]
async fn a_client_with_data_is_archived_not_deleted() {
    let app = TestApp::spawn().await;
    let id = app.client("acme", "Northwind").await;
    app.portal_user("acme", "david@northwind.example", Some(PASSWORD), id, false)
        .await;
    let empty = app.client("acme", "Typo Ltd").await;
    let mut browser = admin(&app).await;
    let path = format!("/acme/manage/clients/{id}");
    let refused = browser.submit(&path, &format!("{path}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused
            .body
            .contains("cannot be deleted because it still has 1 portal users"),
        "{}",
        refused.body
    );
    let archived = browser.submit(&path, &format!("{path}/archive"), &[]).await;
    assert_eq!(archived.header("location"), format!("{path}?done=archived"));
    assert!(
        !browser
            .get("/acme/manage/clients")
            .await
            .body
            .contains(">Northwind<")
    );
    assert!(
        browser
            .get("/acme/manage/clients?archived=on")
            .await
            .body
            .contains(">Northwind<")
    );
    browser.submit(&path, &format!("{path}/restore"), &[]).await;
    assert!(
        browser
            .get("/acme/manage/clients")
            .await
            .body
            .contains(">Northwind<")
    );

    let typo = format!("/acme/manage/clients/{empty}");
    let deleted = browser.submit(&typo, &format!("{typo}/delete"), &[]).await;
    assert_eq!(
        deleted.header("location"),
        "/acme/manage/clients?done=deleted"
    );
    assert_eq!(browser.get(&typo).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn worksites_are_added_and_removed_unless_in_use() {
    let app = TestApp::spawn().await;
    let id = app.client("acme", "Northwind").await;
    let mut browser = admin(&app).await;
    let path = format!("/acme/manage/clients/{id}");
    let missing = browser
        .submit(
            &path,
            &format!("{path}/worksites"),
            &[("name", ""), ("address", "x")],
        )
        .await;
    assert!(
        missing.body.contains("Enter the worksite name."),
        "{}",
        missing.body
    );
    let added = browser
        .submit(
            &path,
            &format!("{path}/worksites"),
            &[("name", "Leeds Plant"), ("address", "Mill Lane")],
        )
        .await;
    assert_eq!(
        added.header("location"),
        format!("{path}?done=worksite-added")
    );
    let page = browser.get(&path).await.body;
    assert!(page.contains("Leeds Plant"));
    let remove = page
        .split("action=\"")
        .filter_map(|p| p.split('"').next())
        .find(|a| a.contains("/worksites/") && a.ends_with("/delete"))
        .unwrap_or_default()
        .to_owned();
    let removed = browser.submit(&path, &remove, &[]).await;
    assert_eq!(
        removed.header("location"),
        format!("{path}?done=worksite-removed")
    );
    assert!(!browser.get(&path).await.body.contains("Leeds Plant"));
}
