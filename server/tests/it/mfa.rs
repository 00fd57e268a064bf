//! Two-factor sign-in: enrol, sign in with a code, each code once, recovery codes, and an
//! agency that requires it.

use axum::http::StatusCode;
use portal_server::auth::totp;
use portal_server::db::Timestamp;
use portal_server::db::staff_users::StaffRole;

use crate::support::{Browser, TestApp};

const PASSWORD: &str = "lantern-harbour-orbit";

/// Enrols the signed-in staff member; returns the secret and the recovery codes.
async fn enrol(browser: &mut Browser<'_>) -> (String, Vec<String>) {
    enrol_in(browser, "manage").await
}

/// Enrols the account signed in to acme's `area` (`manage` or `portal`).
async fn enrol_in(browser: &mut Browser<'_>, area: &str) -> (String, Vec<String>) {
    let mfa = format!("/acme/{area}/account/mfa");
    let page = browser.get(&mfa).await;
    assert!(page.body.contains("<svg"), "a QR code is shown");
    let secret: String = page
        .body
        .split("id=\"mfa-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .replace(' ', "");
    assert_eq!(secret.len(), 32, "{secret}");
    let wrong = browser.submit(&mfa, &mfa, &[("code", "000000")]).await;
    assert!(wrong.body.contains("not right"), "{}", wrong.body);
    // The page made a new secret when shown again: read it once more.
    let page = browser.get(&mfa).await.body;
    let secret: String = page
        .split("id=\"mfa-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .replace(' ', "");
    let code = totp::code(&secret, Timestamp::now().0).unwrap_or_default();
    let token = crate::support::csrf_token(&page);
    let enabled = browser
        .post(&mfa, &[("code", &code), ("csrf_token", &token)])
        .await;
    assert!(
        enabled.body.contains("Two-factor sign-in is on"),
        "{}",
        enabled.body
    );
    let codes: Vec<String> = enabled
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn a_code_is_needed_after_the_password_and_works_once() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let (secret, _) = enrol(&mut browser).await;
    browser
        .submit("/acme/manage", "/acme/manage/logout", &[])
        .await;

    let half = browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    assert_eq!(half.header("location"), "/acme/manage/login/mfa");
    let blocked = browser.get("/acme/manage").await;
    assert_eq!(
        blocked.header("location"),
        "/acme/manage/login/mfa",
        "nothing before the code"
    );
    // The enrolment code's step is used; the next step's code (within the allowed skew) works.
    let next = totp::code(&secret, Timestamp::now().0 + 30).unwrap_or_default();
    let page = "/acme/manage/login/mfa";
    let passed = browser.submit(page, page, &[("code", &next)]).await;
    assert_eq!(passed.header("location"), "/acme/manage", "{}", passed.body);
    assert_eq!(browser.get("/acme/manage").await.status, StatusCode::OK);

    browser
        .submit("/acme/manage", "/acme/manage/logout", &[])
        .await;
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let replay = browser.submit(page, page, &[("code", &next)]).await;
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(
        browser.get("/acme/manage").await.header("location"),
        "/acme/manage/login/mfa"
    );
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"two-factor sign-in enabled".to_owned()));
    assert!(actions.contains(&"sign-in code failed".to_owned()));
}

#[tokio::test]
async fn recovery_codes_sign_in_once_each() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let (_, codes) = enrol(&mut browser).await;
    let page = "/acme/manage/login/mfa";
    for attempt in 0..2 {
        browser
            .submit("/acme/manage", "/acme/manage/logout", &[])
            .await;
        browser
            .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
            .await;
        let used = browser
            .submit(page, page, &[("code", &codes[0].to_uppercase())])
            .await;
        if attempt == 0 {
            assert_eq!(used.header("location"), "/acme/manage", "{}", used.body);
        } else {
            assert!(
                used.body.contains("not right"),
                "a recovery code works once"
            );
        }
    }
}

#[tokio::test]
async fn an_agency_can_require_two_factor_sign_in() {
    let app = TestApp::spawn_with(|settings| {
        if let Some(acme) = settings.agencies.get_mut("acme") {
            acme.security.require_mfa_staff = true;
        }
    })
    .await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    let home = browser.get("/acme/manage").await;
    assert_eq!(home.header("location"), "/acme/manage/account/mfa");
    enrol(&mut browser).await;
    assert_eq!(browser.get("/acme/manage").await.status, StatusCode::OK);
}

#[tokio::test]
async fn turning_it_off_needs_the_password() {
    let app = TestApp::spawn().await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    enrol(&mut browser).await;
    let page = "/acme/manage/account/mfa";
    let wrong = browser
        .submit(
            page,
            "/acme/manage/account/mfa/disable",
            &[("password", "nope-nope-nope")],
        )
        .await;
    assert!(wrong.body.contains("password is not right"));
    let off = browser
        .submit(
            page,
            "/acme/manage/account/mfa/disable",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    browser
        .submit("/acme/manage", "/acme/manage/logout", &[])
        .await;
    let signed_in = browser
        .sign_in("acme", "manage", "ops@acme.example", PASSWORD)
        .await;
    assert_eq!(signed_in.header("location"), "/acme/manage");
}

/// Where an agency requires two-factor sign-in, an account without it reaches nothing but the
/// enrolment page (and sign-out) in either area, by GET or POST, until it enrols.
#[tokio::test]
async fn required_two_factor_holds_every_page_of_both_areas_until_enrolled() {
    let app = TestApp::spawn_with(|settings| {
        if let Some(acme) = settings.agencies.get_mut("acme") {
            acme.security.require_mfa_staff = true;
            acme.security.require_mfa_portal = true;
        }
    })
    .await;
    app.david(PASSWORD).await;
    app.staff("acme", "ops@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    for (area, email, pages, action) in [
        (
            "manage",
            "ops@acme.example",
            &[
                "/acme/manage",
                "/acme/manage/staff",
                "/acme/manage/portal-users",
                "/acme/manage/settings",
                "/acme/manage/account",
            ][..],
            "/acme/manage/staff",
        ),
        (
            "portal",
            "david@northwind.example",
            &[
                "/acme/portal",
                "/acme/portal/timesheets",
                "/acme/portal/work-requests",
                "/acme/portal/account",
            ][..],
            "/acme/portal/work-requests",
        ),
    ] {
        let mut browser = app.browser();
        browser.sign_in("acme", area, email, PASSWORD).await;
        let enrolment = format!("/acme/{area}/account/mfa");
        for page in pages {
            let held = browser.get(page).await;
            assert_eq!(held.header("location"), enrolment, "{page}");
        }
        let token = crate::support::csrf_token(&browser.get(&enrolment).await.body);
        let posted = browser
            .post(
                action,
                &[("title", "x"), ("name", "x"), ("csrf_token", &token)],
            )
            .await;
        assert_eq!(posted.header("location"), enrolment, "POST {action}");
        enrol_in(&mut browser, area).await;
        for page in pages {
            assert_eq!(browser.get(page).await.status, StatusCode::OK, "{page}");
        }
    }
}
