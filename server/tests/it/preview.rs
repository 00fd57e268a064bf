//! "View as client": a staff member previews the portal as a portal user, read only,
//! bannered and audited; nothing can be changed while it lasts.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;

use crate::support::{Browser, TestApp, csrf_token};

const PASSWORD: &str = "lantern-harbour-orbit";

struct Setup<'a> {
    staff: Browser<'a>,
    client: i64,
    viewed: i64,
}

async fn setup(app: &TestApp) -> Setup<'_> {
    app.staff("acme", "sam@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let client = app.client("acme", "Northwind").await;
    let viewed = app
        .portal_user(
            "acme",
            "pat@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "sam@acme.example", PASSWORD)
        .await;
    Setup {
        staff,
        client,
        viewed,
    }
}

async fn start(
    browser: &mut Browser<'_>,
    client: i64,
    viewed: i64,
) -> crate::support::TestResponse {
    let page = format!("/acme/manage/clients/{client}");
    let id = viewed.to_string();
    browser
        .submit(&page, "/acme/manage/preview", &[("portal_user_id", &id)])
        .await
}

#[tokio::test]
async fn staff_see_the_portal_as_the_user_with_a_banner_and_disabled_forms() {
    let app = TestApp::spawn().await;
    let Setup {
        mut staff,
        client,
        viewed,
    } = setup(&app).await;
    let client_page = staff
        .get(&format!("/acme/manage/clients/{client}"))
        .await
        .body;
    assert!(client_page.contains("View as client"), "{client_page}");
    let started = start(&mut staff, client, viewed).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.header("location"), "/acme/portal");
    let home = staff.get("/acme/portal").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(
        home.body
            .contains("Viewing as Pat Client (pat@northwind.example) — read only."),
        "{}",
        home.body
    );
    assert!(home.body.contains("Northwind"), "the user's own clients");
    assert!(
        home.body
            .contains("<fieldset class=\"preview-lock\" disabled>"),
        "every control of the page is disabled"
    );
    assert!(home.body.contains("action=\"/acme/manage/preview/end\""));
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"preview started".to_owned()),
        "{actions:?}"
    );

    let ended = staff
        .post(
            "/acme/manage/preview/end",
            &[("csrf_token", &csrf_token(&home.body))],
        )
        .await;
    assert_eq!(ended.header("location"), "/acme/manage?done=preview-ended");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"preview ended".to_owned())
    );
    let after = staff.get("/acme/portal").await;
    assert_eq!(
        after.header("location"),
        "/acme/portal/login",
        "no portal session once the preview ends"
    );
}

#[tokio::test]
async fn nothing_can_be_changed_during_a_preview() {
    let app = TestApp::spawn().await;
    let Setup {
        mut staff,
        client,
        viewed,
    } = setup(&app).await;
    start(&mut staff, client, viewed).await;
    let home = staff.get("/acme/portal").await;
    let token = csrf_token(&home.body);
    // Any write to the portal is refused before a handler runs, whatever the page.
    for path in [
        "/acme/portal/logout",
        "/acme/portal/account/password",
        "/acme/portal/account/mfa",
    ] {
        let refused = staff.post(path, &[("csrf_token", &token)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "POST {path}");
        assert!(
            refused.body.contains("read-only preview"),
            "{}",
            refused.body
        );
    }
    // The user's own account pages (sessions, password, two-factor) are theirs alone: the
    // two-factor page would even store a new secret on GET.
    for path in ["/acme/portal/account", "/acme/portal/account/mfa"] {
        assert_eq!(
            staff.get(path).await.status,
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let pending: Option<String> =
        sqlx::query_scalar("SELECT mfa_pending_secret FROM portal_users WHERE id = $1")
            .bind(viewed)
            .fetch_one(&app.state.db().pool)
            .await
            .expect("user");
    assert_eq!(pending, None);
    // The staff member's own area still works.
    assert_eq!(
        staff.get("/acme/manage/clients").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_preview_takes_the_place_of_a_real_portal_session_and_cannot_be_forged() {
    let app = TestApp::spawn().await;
    let Setup {
        mut staff,
        client,
        viewed,
    } = setup(&app).await;
    // A plain portal user cannot start a preview: the route needs a staff session.
    let mut portal = app.browser();
    portal
        .sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    let token = csrf_token(&portal.get("/acme/portal").await.body);
    let forged = portal
        .post(
            "/acme/manage/preview",
            &[
                ("portal_user_id", &viewed.to_string()),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_ne!(forged.header("location"), "/acme/portal");
    assert!(
        app.audit_actions("acme")
            .await
            .iter()
            .all(|a| a != "preview started")
    );
    // Without a preview the real user's own portal keeps working for them.
    assert_eq!(portal.get("/acme/portal").await.status, StatusCode::OK);
    start(&mut staff, client, viewed).await;
    assert_eq!(portal.get("/acme/portal").await.status, StatusCode::OK);
    assert!(
        !portal.get("/acme/portal").await.body.contains("Viewing as"),
        "the real user never sees the preview banner"
    );
}

#[tokio::test]
async fn another_agencys_portal_user_cannot_be_previewed() {
    let app = TestApp::spawn().await;
    let Setup {
        mut staff, client, ..
    } = setup(&app).await;
    let theirs = app.client("brightfix", "Oakridge").await;
    let outsider = app
        .portal_user(
            "brightfix",
            "laura@oakridge.example",
            Some(PASSWORD),
            theirs,
            false,
        )
        .await;
    let refused = start(&mut staff, client, outsider).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT preview_portal_user_id FROM sessions WHERE user_kind = 'staff'")
            .fetch_one(&app.state.db().pool)
            .await
            .expect("session");
    assert_eq!(stored, None);
    assert_eq!(
        staff.get("/acme/portal").await.header("location"),
        "/acme/portal/login"
    );
}

#[tokio::test]
async fn signing_out_ends_the_preview_with_the_staff_session() {
    let app = TestApp::spawn().await;
    let Setup {
        mut staff,
        client,
        viewed,
    } = setup(&app).await;
    start(&mut staff, client, viewed).await;
    let page = staff.get("/acme/manage").await;
    staff
        .post(
            "/acme/manage/logout",
            &[("csrf_token", &csrf_token(&page.body))],
        )
        .await;
    assert_eq!(
        staff.get("/acme/portal").await.header("location"),
        "/acme/portal/login"
    );
}
