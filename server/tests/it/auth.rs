//! Identity: sign-in and sign-out for both kinds of account, generic errors, throttling and
//! lockout, sessions ending, single-use links, forced password change, CSRF, and tenancy.

use std::time::Duration;

use axum::http::StatusCode;
use portal_server::auth::login::GENERIC_ERROR;
use portal_server::db::accounts::{self, AccountKind};
use portal_server::db::staff_users::StaffRole;

use portal_server::demo::DEMO_PASSWORD;

use crate::support::{TestApp, csrf_token};

const PASSWORD: &str = "lantern-harbour-orbit";

#[tokio::test]
async fn staff_sign_in_and_sign_out() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    let signed_in = browser
        .sign_in("acme", "manage", "Ops@Acme.Example ", PASSWORD)
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.header("location"), "/acme/manage");
    let cookie = signed_in.header("set-cookie");
    assert!(
        cookie.starts_with("manage=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let home = browser.get("/acme/manage").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Sam Staff"));
    let audit = browser.get("/acme/manage/audit").await;
    assert!(audit.body.contains("signed in"), "{}", audit.body);

    let out = browser
        .submit("/acme/manage", "/acme/manage/logout", &[])
        .await;
    assert_eq!(out.header("location"), "/acme/manage/login?done=signed-out");
    let after = browser.get("/acme/manage").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.header("location"), "/acme/manage/login");
    assert_eq!(app.audit_actions("acme").await, ["signed in", "signed out"]);
}

#[tokio::test]
async fn portal_user_sign_in_sees_only_their_company() {
    let app = TestApp::spawn().await;
    let northwind = app.client("acme", "Northwind").await;
    app.client("acme", "Contoso").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        northwind,
        false,
    )
    .await;
    let mut browser = app.browser();
    let response = browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(response.header("location"), "/acme/portal");
    let home = browser.get("/acme/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Northwind"));
    assert!(!home.body.contains("Contoso"));
    // A portal session is no staff session.
    let manage = browser.get("/acme/manage").await;
    assert_eq!(manage.header("location"), "/acme/manage/login");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    let wrong = browser
        .sign_in("acme", "manage", "ops@acme.example", "not-the-password")
        .await;
    let unknown = browser
        .sign_in("acme", "manage", "nobody@acme.example", "not-the-password")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    assert!(wrong.body.contains(GENERIC_ERROR) && unknown.body.contains(GENERIC_ERROR));
    let strip = |body: &str, email: &str| body.replace(email, "").replace(&csrf_token(body), "");
    assert_eq!(
        strip(&wrong.body, "ops@acme.example"),
        strip(&unknown.body, "nobody@acme.example")
    );
    assert!(browser.cookie("manage").is_none());
}

/// An agency whose accounts lock after three failures (none slowed first), with a staff member
/// `ops@acme.example`.
async fn locking_after_three() -> TestApp {
    let app = TestApp::spawn_with(|settings| {
        settings.security.throttle_lock_after = 3;
        settings.security.throttle_delay_after = 100;
    })
    .await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    app
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_tell_the_owner() {
    let app = locking_after_three().await;
    let mut browser = app.browser();
    for _ in 0..3 {
        let failed = browser
            .sign_in("acme", "manage", "ops@acme.example", "wrong-password-1")
            .await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    let locked = browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.body.contains("Too many failed sign-ins"));
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"account locked".to_owned())
    );
    let mail = app.outbox_for("ops@acme.example").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].0, "lockout");
    assert!(mail[0].2.contains("/acme/manage/forgot-password"));
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_on_the_next_request() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let id = app
        .portal_user(
            "acme",
            "david@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(browser.get("/acme/portal").await.status, StatusCode::OK);
    let pool = &app.state.db().pool;
    accounts::set_status(
        pool,
        AccountKind::Portal,
        app.agency_id("acme"),
        id,
        "deactivated",
    )
    .await
    .expect("deactivate");
    let after = browser.get("/acme/portal").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.header("location"), "/acme/portal/login");
    let again = browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a deactivated user cannot sign in"
    );
}

/// The reset link from the newest email to `email`, once the background task queued it.
async fn reset_link(app: &TestApp, email: &str) -> String {
    for _ in 0..100 {
        if let Some((_, _, body)) = app.outbox_for(email).await.into_iter().next() {
            let url = body
                .split_whitespace()
                .find(|w| w.contains("/set-password?token="))
                .unwrap_or_default();
            return url.trim_start_matches("http://127.0.0.1:8080").to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reset email for {email}");
}

#[tokio::test]
async fn reset_links_work_once() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    let mut browser = app.browser();
    let asked = browser
        .submit(
            "/acme/portal/forgot-password",
            "/acme/portal/forgot-password",
            &[("email", "david@northwind.example")],
        )
        .await;
    assert_eq!(
        asked.header("location"),
        "/acme/portal/login?done=reset-sent"
    );
    let link = reset_link(&app, "david@northwind.example").await;
    let page = browser.get(&link).await;
    assert!(page.body.contains("Choose your password"), "{}", page.body);

    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let weak = browser
        .submit(
            &link,
            "/acme/portal/set-password",
            &[
                ("token", &token),
                ("password", "password123"),
                ("confirm", "password123"),
            ],
        )
        .await;
    assert!(weak.body.contains("most common"), "{}", weak.body);
    let new_password = "copper-meadow-violin";
    let set = browser
        .submit(
            &link,
            "/acme/portal/set-password",
            &[
                ("token", &token),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(
        set.header("location"),
        "/acme/portal/login?done=password-set"
    );
    let reused = browser.get(&link).await;
    assert!(reused.body.contains("no longer works"), "{}", reused.body);
    assert_eq!(
        browser
            .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser
            .sign_in("acme", "portal", "david@northwind.example", new_password)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn forgot_password_never_reveals_whether_an_email_exists() {
    let app = TestApp::spawn().await;
    let mut browser = app.browser();
    let asked = browser
        .submit(
            "/acme/portal/forgot-password",
            "/acme/portal/forgot-password",
            &[("email", "nobody@nowhere.example")],
        )
        .await;
    assert_eq!(
        asked.header("location"),
        "/acme/portal/login?done=reset-sent"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.outbox_for("nobody@nowhere.example").await.is_empty());
}

#[tokio::test]
async fn invitation_and_reset_links_expire() {
    use portal_server::db::tokens::{self, Purpose};
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let id = app
        .portal_user("acme", "new@northwind.example", None, client, false)
        .await;
    let agency = app.agency_id("acme");
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    let past = portal_server::db::Timestamp::now().plus_seconds(-1);
    let token = "a".repeat(64);
    let hash = portal_server::auth::tokens::hash(&token);
    tokens::create(
        &mut conn,
        agency,
        Purpose::Invite,
        AccountKind::Portal,
        id,
        &hash,
        past,
    )
    .await
    .expect("token");
    let mut browser = app.browser();
    let page = browser
        .get(&format!("/acme/portal/set-password?token={token}"))
        .await;
    assert!(page.body.contains("no longer works"), "{}", page.body);
}

#[tokio::test]
async fn an_invitation_activates_the_account() {
    use portal_server::db::tokens::Purpose;
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let id = app
        .portal_user("acme", "new@northwind.example", None, client, false)
        .await;
    let agency = app.state.agency("acme").expect("acme");
    let account = accounts::by_id(&app.state.db().pool, AccountKind::Portal, agency.id, id)
        .await
        .expect("db")
        .expect("account");
    assert_eq!(account.status, "invited");
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    let url = portal_server::auth::password::issue_link(
        &app.state,
        &mut conn,
        &agency,
        AccountKind::Portal,
        &account,
        Purpose::Invite,
        3600,
    )
    .await
    .expect("link");
    drop(conn);
    let link = url.trim_start_matches("http://127.0.0.1:8080").to_owned();
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let mut browser = app.browser();
    let password = "copper-meadow-violin";
    let set = browser
        .submit(
            &link,
            "/acme/portal/set-password",
            &[
                ("token", &token),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await;
    assert_eq!(
        set.header("location"),
        "/acme/portal/login?done=password-set"
    );
    let signed_in = browser
        .sign_in("acme", "portal", "new@northwind.example", password)
        .await;
    assert_eq!(signed_in.header("location"), "/acme/portal");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"invitation accepted".to_owned())
    );
}

#[tokio::test]
async fn an_admin_set_password_must_be_changed_first() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        client,
        true,
    )
    .await;
    let mut browser = app.browser();
    let signed_in = browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(
        signed_in.header("location"),
        "/acme/portal/account/password"
    );
    let home = browser.get("/acme/portal").await;
    assert_eq!(
        home.header("location"),
        "/acme/portal/account/password",
        "nothing else until changed"
    );
    let page = "/acme/portal/account/password";
    let same = browser
        .submit(
            page,
            page,
            &[
                ("current", PASSWORD),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert!(
        same.body.contains("different from the current"),
        "{}",
        same.body
    );
    let fresh = "copper-meadow-violin";
    let changed = browser
        .submit(
            page,
            page,
            &[
                ("current", PASSWORD),
                ("password", fresh),
                ("confirm", fresh),
            ],
        )
        .await;
    assert_eq!(
        changed.header("location"),
        "/acme/portal/account?done=password-changed"
    );
    assert_eq!(browser.get("/acme/portal").await.status, StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut laptop = app.browser();
    let mut phone = app.browser();
    laptop
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    phone
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let account = laptop.get("/acme/manage/account").await;
    assert_eq!(
        account.body.matches("/end\"").count(),
        1,
        "the other session can be ended"
    );
    let page = "/acme/manage/account/password";
    let fresh = "copper-meadow-violin";
    laptop
        .submit(
            page,
            page,
            &[
                ("current", PASSWORD),
                ("password", fresh),
                ("confirm", fresh),
            ],
        )
        .await;
    assert_eq!(laptop.get("/acme/manage").await.status, StatusCode::OK);
    assert_eq!(
        phone.get("/acme/manage").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_user_can_end_another_of_their_sessions_but_not_someone_elses() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    app.staff("acme", "other@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut laptop = app.browser();
    let mut phone = app.browser();
    let mut other = app.browser();
    laptop
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    phone
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    other
        .sign_in("acme", "manage", "other@acme.example", PASSWORD)
        .await;
    let page = laptop.get("/acme/manage/account").await.body;
    let end = page
        .split("action=\"")
        .filter_map(|p| p.split('"').next())
        .find(|a| a.ends_with("/end"))
        .unwrap_or_default()
        .to_owned();
    let stolen = other.submit("/acme/manage/account", &end, &[]).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(phone.get("/acme/manage").await.status, StatusCode::OK);
    let ended = laptop.submit("/acme/manage/account", &end, &[]).await;
    assert_eq!(
        ended.header("location"),
        "/acme/manage/account?done=session-ended"
    );
    assert_eq!(
        phone.get("/acme/manage").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(laptop.get("/acme/manage").await.status, StatusCode::OK);
}

/// An admin sees where a portal user and a team member are signed in and ends all of it at
/// once (a lost phone); only an admin of that agency can, and it is audited.
#[tokio::test]
async fn an_admin_ends_every_session_of_a_portal_user_or_a_team_member() {
    let app = TestApp::spawn().await;
    let david = app.david(PASSWORD).await;
    let ops = app
        .staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    app.staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    app.staff(
        "brightfix",
        "admin@brightfix.example",
        PASSWORD,
        StaffRole::Admin,
    )
    .await;
    let mut phone = app.browser();
    let mut laptop = app.browser();
    phone
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    laptop
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    let mut colleague = app.browser();
    colleague
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let mut admin = app.browser();
    admin
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    let mut outsider = app.browser();
    outsider
        .sign_in("brightfix", "manage", "admin@brightfix.example", PASSWORD)
        .await;

    let user_page = format!("/acme/manage/portal-users/{david}");
    let shown = admin.get(&user_page).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Where they are signed in"));
    assert_eq!(shown.body.matches("data-label=\"Device\"").count(), 2);
    let sign_out = format!("/acme/manage/portal-users/{david}/sign-out");
    // Not a member of acme's staff, and not an admin: neither can.
    let foreign = format!("/brightfix/manage/portal-users/{david}/sign-out");
    let refused = outsider.submit("/brightfix/manage", &foreign, &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let refused = colleague.submit("/acme/manage", &sign_out, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(phone.get("/acme/portal").await.status, StatusCode::OK);

    let ended = admin.submit(&user_page, &sign_out, &[]).await;
    assert_eq!(
        ended.header("location"),
        format!("{user_page}?done=signed-out")
    );
    for device in [&mut phone, &mut laptop] {
        assert_eq!(
            device.get("/acme/portal").await.status,
            StatusCode::SEE_OTHER
        );
    }
    assert!(
        admin
            .get(&user_page)
            .await
            .body
            .contains("Not signed in anywhere.")
    );

    let team = admin.get("/acme/manage/staff").await.body;
    let action = format!("/acme/manage/staff/{ops}/sign-out");
    assert!(team.contains(&action), "the team list offers it");
    let ended = admin.submit("/acme/manage/staff", &action, &[]).await;
    assert_eq!(
        ended.header("location"),
        "/acme/manage/staff?done=signed-out"
    );
    assert_eq!(
        colleague.get("/acme/manage").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(admin.get("/acme/manage").await.status, StatusCode::OK);
    let audited = app.audit_actions("acme").await;
    assert_eq!(
        audited.iter().filter(|a| *a == "sessions ended").count(),
        2,
        "{audited:?}"
    );
}

/// Both time-outs in both areas, either side of each limit (30 idle minutes, 12 hours in all):
/// a session past one is gone at its next request; one just within is served.
#[tokio::test]
async fn sessions_end_at_the_idle_and_absolute_time_outs_in_both_areas() {
    let app = TestApp::spawn().await;
    app.david(PASSWORD).await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    // (idle for, signed in for, still signed in)
    let cases = [
        (29 * MINUTE, 29 * MINUTE, true),
        (31 * MINUTE, 31 * MINUTE, false),
        (MINUTE, 12 * HOUR - 5 * MINUTE, true),
        (MINUTE, 12 * HOUR + MINUTE, false),
    ];
    for (area, email) in [
        ("manage", "ops@acme.example"),
        ("portal", "david@northwind.example"),
    ] {
        for (idle, age, alive) in cases {
            let mut browser = app.browser();
            browser.sign_in("acme", area, email, PASSWORD).await;
            let now = portal_server::db::Timestamp::now().0;
            sqlx::query("UPDATE sessions SET last_seen_at = $1, created_at = $2")
                .bind(now - idle)
                .bind(now - age)
                .execute(&app.state.db().pool)
                .await
                .expect("age the session");
            let home = browser.get(&format!("/acme/{area}")).await;
            if alive {
                assert_eq!(
                    home.status,
                    StatusCode::OK,
                    "{area}, idle {idle} s, age {age} s"
                );
            } else {
                assert_eq!(
                    home.header("location"),
                    format!("/acme/{area}/login"),
                    "{area}, idle {idle} s, age {age} s"
                );
            }
            sqlx::query("DELETE FROM sessions")
                .execute(&app.state.db().pool)
                .await
                .expect("clear");
        }
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser.get("/acme/manage/login").await;
    let fields = [("email", "ops@acme.example"), ("password", PASSWORD)];
    let without = browser.post("/acme/manage/login", &fields).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let forged = browser
        .post(
            "/acme/manage/login",
            &[fields[0], fields[1], ("csrf_token", &"f".repeat(64))],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let logout = browser.post("/acme/manage/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/acme/manage").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn sessions_do_not_cross_agencies() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    for path in [
        "/brightfix/portal",
        "/brightfix/portal/account",
        "/brightfix/manage",
        "/brightfix/manage/audit",
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.header("location").starts_with("/brightfix/"),
            "{path}"
        );
    }
    // The same account name does not exist at the other agency either.
    let elsewhere = browser
        .sign_in("brightfix", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    // A portal cookie presented as a staff cookie is no staff session.
    let portal_cookie = browser.cookie("portal").unwrap_or_default().to_owned();
    let mut forger = app.browser();
    forger.set_cookie("manage", &portal_cookie);
    assert_eq!(
        forger.get("/acme/manage").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn staff_without_admin_role_cannot_see_the_audit_log() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    assert_eq!(
        browser.get("/acme/manage/audit").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_disabled_portal_refuses_portal_sign_in() {
    let app = TestApp::spawn_with(|settings| {
        if let Some(acme) = settings.agencies.get_mut("acme") {
            acme.portal_enabled = false;
        }
    })
    .await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    let mut browser = app.browser();
    let refused = browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("not open"));
}

#[tokio::test]
async fn a_portal_password_may_not_contain_the_company_name() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind Manufacturing").await;
    app.portal_user(
        "acme",
        "david@northwind.example",
        Some(PASSWORD),
        client,
        true,
    )
    .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    let page = "/acme/portal/account/password";
    let fields = [
        ("current", PASSWORD),
        ("password", "manufacturing-rocks"),
        ("confirm", "manufacturing-rocks"),
    ];
    let refused = browser.submit(page, page, &fields).await;
    assert!(refused.body.contains("company name"), "{}", refused.body);
    let mismatch = browser
        .submit(
            page,
            page,
            &[
                ("current", PASSWORD),
                ("password", "copper-meadow-violin"),
                ("confirm", "copper-meadow-viola"),
            ],
        )
        .await;
    assert!(mismatch.body.contains("not the same"), "{}", mismatch.body);
}

#[tokio::test]
async fn behind_a_proxy_the_client_address_comes_from_the_configured_header() {
    let app = TestApp::spawn_with(|settings| {
        settings.server.client_ip_header = Some("x-forwarded-for".into());
    })
    .await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser.get("/acme/manage/login").await;
    let token = csrf_token(&browser.get("/acme/manage/login").await.body);
    let body = serde_urlencoded::to_string([
        ("email", "ops@acme.example"),
        ("password", PASSWORD),
        ("csrf_token", &token),
    ])
    .expect("form");
    let request = axum::http::Request::post("/acme/manage/login")
        .header(
            "cookie",
            format!("csrf={}", browser.cookie("csrf").unwrap_or_default()),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
        .body(axum::body::Body::from(body))
        .expect("request");
    assert_eq!(app.request(request).await.status, StatusCode::SEE_OTHER);
    let ip: String = sqlx::query_scalar("SELECT ip FROM audit_log WHERE action = 'signed in'")
        .fetch_one(&app.state.db().pool)
        .await
        .expect("audit");
    assert_eq!(ip, "203.0.113.7");
}

#[tokio::test]
async fn the_portal_shows_what_the_users_role_allows() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let supervisor = app
        .portal_user(
            "acme",
            "david@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let accounts_only = app
        .portal_user(
            "acme",
            "tom@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let set_role = |id: i64, role: &'static str| {
        let pool = app.state.db().pool.clone();
        async move {
            sqlx::query("UPDATE portal_users SET role_id = $1 WHERE id = $2")
                .bind(role)
                .bind(id)
                .execute(&pool)
                .await
                .expect("role");
        }
    };
    set_role(accounts_only, "customer-invoices-only").await;
    let mut david = app.browser();
    david
        .sign_in("acme", "portal", "david@northwind.example", PASSWORD)
        .await;
    let home = david.get("/acme/portal").await.body;
    assert!(
        home.contains("Approve or reject timesheets") && home.contains("See invoices"),
        "{home}"
    );
    let mut tom = app.browser();
    tom.sign_in("acme", "portal", "tom@northwind.example", PASSWORD)
        .await;
    let home = tom.get("/acme/portal").await.body;
    assert!(home.contains("See invoices"), "{home}");
    assert!(
        !home.contains("timesheets"),
        "an invoices-only role sees no timesheets: {home}"
    );
    set_role(supervisor, "retired-role").await;
    let home = david.get("/acme/portal").await.body;
    assert!(
        home.contains("no current role") && !home.contains("See invoices"),
        "{home}"
    );
}

/// The pre-sign-in `csrf` cookie is for the sign-in forms only: a site that can plant a cookie
/// (a sibling subdomain) must not be able to forge a signed-in request with a token of its
/// choosing, in either area, on any form.
#[tokio::test]
async fn a_planted_pre_sign_in_token_does_not_pass_for_a_signed_in_request() {
    let app = crate::portal_support::demo_app().await;
    let mut david = crate::portal_support::signed_in(&app, "acme", "david@northwind.example").await;
    let mut admin =
        crate::portal_support::signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    async fn forge(browser: &mut crate::support::Browser<'_>, path: &str, fields: &[(&str, &str)]) {
        let planted = "a".repeat(64);
        browser.set_cookie("csrf", &planted);
        let mut all = fields.to_vec();
        all.push(("csrf_token", &planted));
        let forged = browser.post(path, &all).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path}");
    }
    let request = [
        ("title", "Forged"),
        ("description", "x"),
        ("urgency", "normal"),
    ];
    forge(&mut david, "/acme/portal/work-requests", &request).await;
    forge(&mut david, "/acme/portal/logout", &[]).await;
    forge(
        &mut admin,
        "/acme/manage/clients/new",
        &[("name", "Forged Ltd")],
    )
    .await;
    forge(&mut admin, "/acme/manage/logout", &[]).await;
    assert_eq!(david.get("/acme/portal").await.status, StatusCode::OK);
    assert_eq!(admin.get("/acme/manage").await.status, StatusCode::OK);
    let forged: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM work_requests WHERE title = 'Forged') \
         + (SELECT COUNT(*) FROM clients WHERE name = 'Forged Ltd')",
    )
    .fetch_one(&app.state.db().pool)
    .await
    .expect("count");
    assert_eq!(forged, 0);

    // Signed in, the sign-in form carries the session's token, so signing in again works.
    let again = david
        .sign_in("acme", "portal", "david@northwind.example", DEMO_PASSWORD)
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

/// Checking a signed-in person's password again (a new password, turning two-factor sign-in
/// off) counts like a sign-in: wrong guesses lock the account and end the session.
#[tokio::test]
async fn wrong_current_passwords_count_like_sign_ins_and_end_the_session() {
    let app = locking_after_three().await;
    for (page, action, field) in [
        (
            "/acme/manage/account/password",
            "/acme/manage/account/password",
            "current",
        ),
        (
            "/acme/manage/account/mfa",
            "/acme/manage/account/mfa/disable",
            "password",
        ),
    ] {
        sqlx::query("DELETE FROM login_throttle")
            .execute(&app.state.db().pool)
            .await
            .expect("clear the counters");
        let mut browser = app.browser();
        browser
            .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
            .await;
        let mut guesses = vec![(field, "wrong-guess-one")];
        if field == "current" {
            guesses.extend([
                ("password", "copper-meadow-violin"),
                ("confirm", "copper-meadow-violin"),
            ]);
        }
        let first = browser.submit(page, action, &guesses).await;
        assert!(first.body.contains("not right"), "{action}: {}", first.body);
        browser.submit(page, action, &guesses).await;
        let third = browser.submit(page, action, &guesses).await;
        assert_eq!(third.status, StatusCode::SEE_OTHER, "{action}");
        assert_eq!(
            third.header("location"),
            "/acme/manage/login?done=locked-out"
        );
        let after = browser.get("/acme/manage").await;
        assert_eq!(after.status, StatusCode::SEE_OTHER, "{action}: signed out");
        let again = browser
            .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
            .await;
        assert_ne!(
            again.status,
            StatusCode::SEE_OTHER,
            "{action}: locked for a while"
        );
    }
}
