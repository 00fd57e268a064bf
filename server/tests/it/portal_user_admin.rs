//! Portal settings in the client portal: contacts whose role manages users see and invite
//! the portal users of their own companies only, within the roles they may grant; everyone
//! else (and users with restricted access) is refused; other clients' and agencies' users
//! are not found; every change is audited with the portal user as the actor.

use axum::http::StatusCode;
use portal_server::demo::DEMO_PASSWORD;

use crate::portal_support::{demo_app, id, signed_in};
use crate::support::{Browser, TestApp};

const USERS: &str = "/brightfix/portal/users";
const NEW: &str = "/brightfix/portal/users/new";

async fn user_id(app: &TestApp, agency: &str, email: &str) -> i64 {
    id(
        app,
        agency,
        &format!("SELECT id FROM portal_users WHERE agency_id = $1 AND email = '{email}'"),
    )
    .await
}

async fn user_status(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM portal_users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("status")
}

/// Audit rows of an agency about portal users written by portal users: (actor label, action, target label).
async fn portal_audit(app: &TestApp, agency: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT actor_label, action, COALESCE(target_label, '') FROM audit_log \
         WHERE agency_id = $1 AND actor_kind = 'portal' AND action LIKE 'portal user %' ORDER BY id",
    )
    .bind(app.agency_id(agency))
    .fetch_all(&app.state.db().pool)
    .await
    .expect("audit")
}

async fn act(browser: &mut Browser<'_>, path: &str) -> StatusCode {
    browser.submit("/brightfix/portal", path, &[]).await.status
}

#[tokio::test]
async fn a_client_admin_sees_and_invites_users_of_their_own_company_only() {
    let app = demo_app().await;
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let home = laura.get("/brightfix/portal").await;
    assert!(
        home.body.contains("href=\"/brightfix/portal/users\""),
        "nav link"
    );

    let list = laura.get(USERS).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("aria-current=\"page\">Portal users"));
    assert!(list.body.contains("marcus@oakridge.example"));
    assert!(list.body.contains("laura@oakridge.example"));
    for other in [
        "nadia@riverside-schools.example",
        "peter@riverside-schools.example",
    ] {
        assert!(!list.body.contains(other), "{other} is another client's");
    }
    for staff in ["admin@brightfix.example", "dispatch@brightfix.example"] {
        assert!(!list.body.contains(staff), "{staff} is staff");
    }
    let filtered = laura.get(&format!("{USERS}?q=marcus&status=active")).await;
    assert!(filtered.body.contains("marcus@oakridge.example"));
    assert!(!filtered.body.contains("laura@oakridge.example"));

    let form = laura.get(NEW).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Oakridge Property Management"));
    assert!(
        !form.body.contains("Riverside Schools Trust"),
        "only own clients"
    );
    assert!(!form.body.contains("name=\"all_clients\""));

    let oakridge =
        crate::portal_support::client_id(&app, "brightfix", "Oakridge Property Management").await;
    let riverside =
        crate::portal_support::client_id(&app, "brightfix", "Riverside Schools Trust").await;
    let refused = laura
        .submit(
            NEW,
            NEW,
            &[
                ("email", "eve@riverside.example"),
                ("role", "client-user"),
                ("company", &riverside.to_string()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Choose a company from the list."));
    assert!(
        refused.body.contains("eve@riverside.example"),
        "keeps what was typed"
    );

    let invited = laura
        .submit(
            NEW,
            NEW,
            &[
                ("email", "jo@oakridge.example"),
                ("first_name", "Jo"),
                ("role", "client-user"),
                ("company", &oakridge.to_string()),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let jo = user_id(&app, "brightfix", "jo@oakridge.example").await;
    assert_eq!(user_status(&app, jo).await, "invited");
    let mail = app.outbox_for("jo@oakridge.example").await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "invite");
    let list = laura.get(USERS).await;
    assert!(list.body.contains("jo@oakridge.example"));

    let resend = format!("{USERS}/{jo}/resend");
    assert_eq!(act(&mut laura, &resend).await, StatusCode::SEE_OTHER);
    assert_eq!(app.outbox_for("jo@oakridge.example").await.len(), 2);

    let marcus = user_id(&app, "brightfix", "marcus@oakridge.example").await;
    let deactivate = format!("{USERS}/{marcus}/deactivate");
    assert_eq!(act(&mut laura, &deactivate).await, StatusCode::SEE_OTHER);
    assert_eq!(user_status(&app, marcus).await, "deactivated");
    let reactivate = format!("{USERS}/{marcus}/reactivate");
    assert_eq!(act(&mut laura, &reactivate).await, StatusCode::SEE_OTHER);
    assert_eq!(user_status(&app, marcus).await, "active");

    let audit = portal_audit(&app, "brightfix").await;
    let rows: Vec<(&str, &str)> = audit
        .iter()
        .map(|(actor, action, target)| {
            assert_eq!(actor, "laura@oakridge.example");
            (action.as_str(), target.as_str())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("portal user invited", "jo@oakridge.example"),
            ("portal user invitation resent", "jo@oakridge.example"),
            ("portal user deactivated", "marcus@oakridge.example"),
            ("portal user reactivated", "marcus@oakridge.example"),
        ]
    );
    let laura_id = user_id(&app, "brightfix", "laura@oakridge.example").await;
    let by_laura: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1 AND actor_kind = 'portal' \
         AND actor_id = $2 AND target_kind = 'portal user' AND action LIKE 'portal user %'",
    )
    .bind(app.agency_id("brightfix"))
    .bind(laura_id)
    .fetch_one(&app.state.db().pool)
    .await
    .expect("audit");
    assert_eq!(by_laura, 4);
}

#[tokio::test]
async fn other_clients_and_agencies_users_are_not_found_and_unchanged() {
    let app = demo_app().await;
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let nadia = user_id(&app, "brightfix", "nadia@riverside-schools.example").await;
    let helen = user_id(&app, "acme", "helen@wardpartners.example").await;
    let laura_id = user_id(&app, "brightfix", "laura@oakridge.example").await;
    for id in [nadia, helen] {
        for action in ["deactivate", "reactivate", "resend"] {
            let path = format!("{USERS}/{id}/{action}");
            assert_eq!(
                act(&mut laura, &path).await,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(user_status(&app, id).await, "active");
    }
    let own = format!("{USERS}/{laura_id}/deactivate");
    assert_eq!(act(&mut laura, &own).await, StatusCode::BAD_REQUEST);
    assert_eq!(user_status(&app, laura_id).await, "active");
    assert!(portal_audit(&app, "brightfix").await.is_empty());
    assert!(portal_audit(&app, "acme").await.is_empty());

    // Without the form token nothing happens either.
    let marcus = user_id(&app, "brightfix", "marcus@oakridge.example").await;
    let path = format!("{USERS}/{marcus}/deactivate");
    let forged = laura.post(&path, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(user_status(&app, marcus).await, "active");
}

#[tokio::test]
async fn only_users_who_span_clients_grant_roles_that_span_clients() {
    let app = demo_app().await;
    // A Partner spans clients: they may add a Partner over clients they see themselves.
    let mut helen = signed_in(&app, "acme", "helen@wardpartners.example").await;
    let list = helen.get("/acme/portal/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("david@northwind.example"));
    assert!(
        !list.body.contains("laura@oakridge.example"),
        "another agency"
    );
    let form = helen.get("/acme/portal/users/new").await;
    assert!(form.body.contains("value=\"partner\""));
    let northwind = crate::portal_support::client_id(&app, "acme", "Northwind Manufacturing").await;
    let contoso = crate::portal_support::client_id(&app, "acme", "Contoso Logistics").await;
    let (northwind, contoso) = (northwind.to_string(), contoso.to_string());
    let all = helen
        .submit(
            "/acme/portal/users/new",
            "/acme/portal/users/new",
            &[
                ("email", "kim@partners.example"),
                ("role", "partner"),
                ("all_clients", "on"),
            ],
        )
        .await;
    assert_eq!(
        all.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no all-clients grants"
    );
    let created = helen
        .submit(
            "/acme/portal/users/new",
            "/acme/portal/users/new",
            &[
                ("email", "kim@partners.example"),
                ("role", "partner"),
                ("clients", &northwind),
                ("clients", &contoso),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let kim = user_id(&app, "acme", "kim@partners.example").await;
    let audit = portal_audit(&app, "acme").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1, "portal user invited");

    // The new Partner sees two clients: Fabrikam's users and Helen (all clients) are not theirs.
    sqlx::query("UPDATE portal_users SET status = 'active', password_hash = (SELECT password_hash FROM portal_users WHERE id = $1) WHERE id = $2")
        .bind(user_id(&app, "acme", "helen@wardpartners.example").await)
        .bind(kim)
        .execute(&app.state.db().pool)
        .await
        .expect("activate");
    let mut kim_browser = signed_in(&app, "acme", "kim@partners.example").await;
    let list = kim_browser.get("/acme/portal/users").await;
    assert!(list.body.contains("grace@contoso.example"));
    assert!(!list.body.contains("sam@fabrikam.example"));
    assert!(!list.body.contains("helen@wardpartners.example"));
    let helen_id = user_id(&app, "acme", "helen@wardpartners.example").await;
    let path = format!("/acme/portal/users/{helen_id}/deactivate");
    let refused = kim_browser.submit("/acme/portal", &path, &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(user_status(&app, helen_id).await, "active");

    // A one-client manager may not hand out a role that spans clients, whatever they post.
    let acme = app.agency("acme");
    let client_admin = app
        .state
        .plugins()
        .agency("brightfix")
        .and_then(|set| set.role("client-admin").cloned())
        .expect("role");
    let oakridge =
        crate::portal_support::client_id(&app, "brightfix", "Oakridge Property Management").await;
    let granter = portal_server::portal_users::Granter::portal_user(&client_admin, &[oakridge])
        .expect("manages users");
    let northwind_id = northwind.parse().expect("id");
    let input = portal_server::portal_users::PortalUserInput {
        email: "lee@partners.example".into(),
        role: "partner".into(),
        clients: vec![northwind_id],
        ..Default::default()
    };
    let checked =
        portal_server::portal_users::check(&app.state, &acme, &granter, &input, false, None)
            .await
            .expect("check")
            .expect_err("refused");
    assert!(checked.get("role").is_some(), "{checked:?}");
    let form = laura_form(&app).await;
    assert!(
        !form.contains("(several clients)"),
        "no spanning role offered"
    );
}

async fn laura_form(app: &TestApp) -> String {
    let mut laura = signed_in(app, "brightfix", "laura@oakridge.example").await;
    laura.get(NEW).await.body
}

#[tokio::test]
async fn users_without_the_permission_or_with_restricted_access_are_refused() {
    let app = demo_app().await;
    let mut marcus = signed_in(&app, "brightfix", "marcus@oakridge.example").await;
    let home = marcus.get("/brightfix/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.body.contains("/brightfix/portal/users"),
        "no nav link"
    );
    assert_eq!(marcus.get(USERS).await.status, StatusCode::FORBIDDEN);
    assert_eq!(marcus.get(NEW).await.status, StatusCode::FORBIDDEN);
    let laura_id = user_id(&app, "brightfix", "laura@oakridge.example").await;
    let path = format!("{USERS}/{laura_id}/deactivate");
    assert_eq!(act(&mut marcus, &path).await, StatusCode::FORBIDDEN);
    assert_eq!(user_status(&app, laura_id).await, "active");

    sqlx::query("UPDATE portal_users SET restricted_access = 1 WHERE id = $1")
        .bind(laura_id)
        .execute(&app.state.db().pool)
        .await
        .expect("restrict");
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let home = laura.get("/brightfix/portal").await;
    assert!(
        !home.body.contains("/brightfix/portal/users"),
        "no nav link"
    );
    assert_eq!(laura.get(USERS).await.status, StatusCode::FORBIDDEN);
    let marcus_id = user_id(&app, "brightfix", "marcus@oakridge.example").await;
    let path = format!("{USERS}/{marcus_id}/deactivate");
    assert_eq!(act(&mut laura, &path).await, StatusCode::FORBIDDEN);
    assert_eq!(user_status(&app, marcus_id).await, "active");
    assert!(portal_audit(&app, "brightfix").await.is_empty());
}

#[tokio::test]
async fn the_staff_preview_shows_the_page_and_refuses_changes() {
    let app = demo_app().await;
    let mut staff = app.browser();
    staff
        .sign_in(
            "brightfix",
            "manage",
            "admin@brightfix.example",
            DEMO_PASSWORD,
        )
        .await;
    let laura = user_id(&app, "brightfix", "laura@oakridge.example").await;
    let oakridge =
        crate::portal_support::client_id(&app, "brightfix", "Oakridge Property Management").await;
    let started = staff
        .submit(
            &format!("/brightfix/manage/clients/{oakridge}"),
            "/brightfix/manage/preview",
            &[("portal_user_id", &laura.to_string())],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let list = staff.get(USERS).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("marcus@oakridge.example"));
    let marcus = user_id(&app, "brightfix", "marcus@oakridge.example").await;
    let path = format!("{USERS}/{marcus}/deactivate");
    let refused = staff.submit(USERS, &path, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(user_status(&app, marcus).await, "active");
}

/// A client admin inviting an address another client's contact signs in with is answered as
/// if the invitation went out: whether an email is in use at another client is not theirs to
/// learn. Nobody is created or emailed, and the agency's audit log says what happened. An
/// address of their own company's user is still named as taken.
#[tokio::test]
async fn inviting_another_clients_contact_reveals_nothing_and_tells_the_agency() {
    let app = demo_app().await;
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let oakridge =
        crate::portal_support::client_id(&app, "brightfix", "Oakridge Property Management").await;
    let invite = |email: &'static str| {
        [
            ("email", email),
            ("first_name", "Someone"),
            ("role", "client-user"),
            ("company", ""),
        ]
    };
    let company = oakridge.to_string();
    let mut fresh = invite("new.person@oakridge.example");
    fresh[3].1 = &company;
    let mut elsewhere = invite("nadia@riverside-schools.example");
    elsewhere[3].1 = &company;
    let mut own = invite("marcus@oakridge.example");
    own[3].1 = &company;

    let fresh = laura.submit(NEW, NEW, &fresh).await;
    let elsewhere = laura.submit(NEW, NEW, &elsewhere).await;
    assert_eq!(fresh.status, StatusCode::SEE_OTHER);
    assert_eq!(elsewhere.status, fresh.status);
    assert_eq!(elsewhere.header("location"), fresh.header("location"));
    let nadia_mail = app.outbox_for("nadia@riverside-schools.example").await;
    assert!(nadia_mail.is_empty(), "{nadia_mail:?}");
    assert!(
        app.audit_actions("brightfix")
            .await
            .contains(&"portal user not created".to_owned())
    );

    let taken = laura.submit(NEW, NEW, &own).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken
            .body
            .contains("Another portal user already signs in with this email.")
    );
}
