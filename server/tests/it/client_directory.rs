//! The client list (search, status, sort, pages), worksite editing and contacts in the
//! manage area.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;

use crate::clients::{PASSWORD, admin};
use crate::support::{TestApp, csrf_token};

/// Client names in the order a list page shows them.
fn names(html: &str) -> Vec<String> {
    html.split("data-label=\"Company\"><a href=\"")
        .skip(1)
        .filter_map(|row| row.split('>').nth(1))
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_client_list_sorts_filters_and_pages() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    for n in 1..=12 {
        app.client("acme", &format!("Client {n:02}")).await;
    }
    let archived = app.client("acme", "Zeta Archived").await;
    sqlx::query("UPDATE clients SET archived_at = 1 WHERE id = $1")
        .bind(archived)
        .execute(&app.state.db().pool)
        .await
        .expect("archive");
    sqlx::query("UPDATE clients SET portal_enabled = 0 WHERE name = 'Client 05'")
        .execute(&app.state.db().pool)
        .await
        .expect("portal off");

    let first = browser.get("/acme/manage/clients?size=10").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let shown = names(&first.body);
    assert_eq!(shown.len(), 10);
    assert_eq!(shown[0], "Client 01");
    assert!(first.body.contains("1–10 of 12"), "{}", first.body);
    assert!(first.body.contains("rel=\"next\""));
    assert!(first.body.contains("aria-sort=\"ascending\""));

    let second = browser
        .get("/acme/manage/clients?size=10&page=2&sort=name&dir=asc")
        .await;
    assert_eq!(names(&second.body), ["Client 11", "Client 12"]);
    assert!(second.body.contains("11–12 of 12"));

    let reversed = browser
        .get("/acme/manage/clients?sort=name&dir=desc&size=10")
        .await;
    assert_eq!(names(&reversed.body)[0], "Client 12");
    assert!(reversed.body.contains("aria-sort=\"descending\""));

    let archived = browser.get("/acme/manage/clients?status=archived").await;
    assert_eq!(names(&archived.body), ["Zeta Archived"]);
    let all = browser.get("/acme/manage/clients?status=all&size=25").await;
    assert_eq!(names(&all.body).len(), 13);
    let off = browser.get("/acme/manage/clients?status=portal-off").await;
    assert_eq!(names(&off.body), ["Client 05"]);
    let search = browser.get("/acme/manage/clients?q=client+1").await;
    assert_eq!(names(&search.body), ["Client 10", "Client 11", "Client 12"]);
    // Unknown values fall back to the defaults rather than failing.
    let odd = browser
        .get("/acme/manage/clients?sort=password&dir=sideways&size=7&page=0")
        .await;
    assert_eq!(odd.status, StatusCode::OK);
    assert_eq!(names(&odd.body).len(), 12);
}

#[tokio::test]
async fn worksites_are_edited_with_errors_beside_the_field() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let client = app.client("acme", "Northwind").await;
    let other = app.client("acme", "Contoso").await;
    let worksite = portal_server::db::clients::create_worksite(
        &app.state.db().pool,
        app.agency_id("acme"),
        client,
        "Leeds Plant",
        "Mill Lane",
    )
    .await
    .expect("worksite");
    let path = format!("/acme/manage/clients/{client}/worksites/{worksite}");
    let form = browser.get(&path).await;
    assert!(form.body.contains("value=\"Leeds Plant\""), "{}", form.body);
    let refused = browser
        .submit(&path, &path, &[("name", " "), ("address", "Dock Street")])
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains("Enter the worksite name."));
    assert!(refused.body.contains("Dock Street"));
    let saved = browser
        .submit(
            &path,
            &path,
            &[("name", "Leeds Works"), ("address", "Dock Street")],
        )
        .await;
    assert_eq!(
        saved.header("location"),
        format!("/acme/manage/clients/{client}?done=worksite-saved")
    );
    let page = browser.get(&format!("/acme/manage/clients/{client}")).await;
    assert!(page.body.contains("Leeds Works"));
    // The same worksite through another client's address is not found.
    let wrong = format!("/acme/manage/clients/{other}/worksites/{worksite}");
    assert_eq!(browser.get(&wrong).await.status, StatusCode::NOT_FOUND);
    let moved = browser
        .post(
            &wrong,
            &[
                ("name", "Hijacked"),
                ("csrf_token", &csrf_token(&page.body)),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"worksite changed".to_owned())
    );
}

#[tokio::test]
async fn contacts_are_added_edited_and_removed_and_keep_a_client_from_deletion() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let client = app.client("acme", "Ministry of Magic").await;
    let pool = &app.state.db().pool;
    let agency = app.agency_id("acme");
    let warehouse =
        portal_server::db::clients::create_worksite(pool, agency, client, "Warehouse", "")
            .await
            .expect("worksite");
    let elsewhere = app.client("acme", "Gringotts").await;
    let foreign_site =
        portal_server::db::clients::create_worksite(pool, agency, elsewhere, "Vault", "")
            .await
            .expect("worksite");
    let login = app
        .portal_user(
            "acme",
            "hannah@ministry.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let page = format!("/acme/manage/clients/{client}");
    let action = format!("{page}/contacts");

    let foreign = foreign_site.to_string();
    let refused = browser
        .submit(
            &page,
            &action,
            &[
                ("first_name", "Hannah"),
                ("last_name", ""),
                ("email", "not-an-email"),
                ("worksite_id", &foreign),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("Enter the last name."),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Enter an email address like name@example.com.")
    );
    assert!(
        refused
            .body
            .contains("Choose one of this client&#x27;s worksites.")
            || refused
                .body
                .contains("Choose one of this client's worksites.")
    );
    assert!(
        refused.body.contains("value=\"Hannah\""),
        "what was typed is kept"
    );

    let site = warehouse.to_string();
    let login_id = login.to_string();
    let added = browser
        .submit(
            &page,
            &action,
            &[
                ("first_name", "Hannah"),
                ("last_name", "Abbott"),
                ("title", "Director of HR"),
                ("email", "Hannah@Ministry.example"),
                ("phone", "555 0100"),
                ("worksite_id", &site),
                ("portal_user_id", &login_id),
            ],
        )
        .await;
    assert_eq!(
        added.header("location"),
        format!("{page}?done=contact-added"),
        "{}",
        added.body
    );
    let shown = browser.get(&page).await.body;
    assert!(
        shown.contains("Director of HR") && shown.contains("Warehouse"),
        "{shown}"
    );
    assert!(shown.contains("hannah@ministry.example"));
    let contact: i64 = sqlx::query_scalar("SELECT id FROM contacts WHERE client_id = $1")
        .bind(client)
        .fetch_one(pool)
        .await
        .expect("contact");

    let edit = format!("{page}/contacts/{contact}");
    let saved = browser
        .submit(
            &edit,
            &edit,
            &[
                ("first_name", "Hannah"),
                ("last_name", "Abbott"),
                ("title", "Head of HR"),
                ("worksite_id", ""),
                ("portal_user_id", ""),
            ],
        )
        .await;
    assert_eq!(
        saved.header("location"),
        format!("{page}?done=contact-saved")
    );
    let shown = browser.get(&page).await.body;
    assert!(shown.contains("Head of HR"));

    let kept = browser.submit(&page, &format!("{page}/delete"), &[]).await;
    assert!(kept.body.contains("1 contacts"), "{}", kept.body);

    let removed = browser.submit(&edit, &format!("{edit}/delete"), &[]).await;
    assert_eq!(
        removed.header("location"),
        format!("{page}?done=contact-removed")
    );
    let actions = app.audit_actions("acme").await;
    for action in ["contact added", "contact changed", "contact removed"] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn another_agencys_contacts_are_not_found_and_staff_only_look() {
    let app = TestApp::spawn().await;
    let theirs = app.client("brightfix", "Oakridge").await;
    let pool = &app.state.db().pool;
    let contact = portal_server::db::contacts::create(
        pool,
        app.agency_id("brightfix"),
        theirs,
        &portal_server::db::contacts::ContactFields {
            first_name: "Laura",
            last_name: "Oak",
            ..Default::default()
        },
    )
    .await
    .expect("contact");
    let mut browser = admin(&app).await;
    let path = format!("/acme/manage/clients/{theirs}/contacts/{contact}");
    assert_eq!(browser.get(&path).await.status, StatusCode::NOT_FOUND);
    let token = csrf_token(&browser.get("/acme/manage/clients").await.body);
    let changed = browser
        .post(
            &path,
            &[
                ("first_name", "X"),
                ("last_name", "Y"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    let deleted = browser
        .post(&format!("{path}/delete"), &[("csrf_token", &token)])
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    let name: String = sqlx::query_scalar("SELECT first_name FROM contacts WHERE id = $1")
        .bind(contact)
        .fetch_one(pool)
        .await
        .expect("contact");
    assert_eq!(name, "Laura");

    let ours = app.client("acme", "Northwind").await;
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    let page = format!("/acme/manage/clients/{ours}");
    let look = staff.get(&page).await;
    assert_eq!(look.status, StatusCode::OK);
    assert!(!look.body.contains("Add a contact"));
    let added = staff
        .submit(
            &page,
            &format!("{page}/contacts"),
            &[("first_name", "A"), ("last_name", "B")],
        )
        .await;
    assert_eq!(added.status, StatusCode::FORBIDDEN);
}
