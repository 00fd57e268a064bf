//! The agency settings page and what reads it: precedence over configuration, validation,
//! audit, and identity, mail and notification code using the values in force.

use axum::http::StatusCode;
use portal_server::db::agency_settings;
use portal_server::db::staff_users::StaffRole;

use crate::clients::{PASSWORD, admin};
use crate::support::TestApp;

const PAGE: &str = "/acme/manage/settings";

/// The form as the page shows it by default, with `changes` applied.
fn fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("portal_enabled", "on"),
        ("password_min_length", "8"),
        ("session_idle_minutes", "30"),
        ("session_absolute_hours", "12"),
        ("approval_deadline_days", "3"),
    ];
    for (key, value) in changes {
        all.retain(|(k, _)| k != key);
        if !value.is_empty() {
            all.push((key, value));
        }
    }
    all
}

#[tokio::test]
async fn config_values_show_until_an_admin_saves_and_then_the_saved_ones_win() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let page = browser.get(PAGE).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // (HTML escaping writes `/` as `&#x2f;`.)
    assert!(
        page.body.contains("agencies&#x2f;acme.toml"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("portal.toml, key `security.session_idle_minutes`")
    );
    assert!(page.body.contains("From configuration"));
    assert!(
        page.body.contains("roles-staffing"),
        "plugins shown read-only"
    );
    assert!(page.body.contains("aria-current=\"page\">Settings"));

    let saved = browser
        .submit(
            PAGE,
            PAGE,
            &fields(&[
                ("password_min_length", "15"),
                ("require_mfa_portal", "on"),
                ("session_idle_minutes", "45"),
            ]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.header("location"), format!("{PAGE}?done=saved"));
    let agency = app.agency("acme");
    let effective = agency_settings::effective(
        &app.state.db().pool,
        &agency,
        &app.state.settings().security,
    )
    .await
    .expect("settings");
    assert_eq!(effective.password_min_length, 15);
    assert!(effective.require_mfa_portal && !effective.require_mfa_staff);
    assert_eq!(effective.session_idle_minutes, 45);
    let page = browser.get(&format!("{PAGE}?done=saved")).await.body;
    assert!(page.contains("Settings saved."));
    assert!(page.contains("Saved on this page"));
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'settings changed' ORDER BY id DESC",
    )
    .fetch_one(&app.state.db().pool)
    .await
    .expect("audited");
    assert!(
        detail.contains("password_min_length: 8 → 15")
            && detail.contains("session_idle_minutes: 30 → 45"),
        "{detail}"
    );

    let reset = browser.submit(PAGE, &format!("{PAGE}/reset"), &[]).await;
    assert_eq!(reset.header("location"), format!("{PAGE}?done=reset"));
    let effective = agency_settings::effective(
        &app.state.db().pool,
        &agency,
        &app.state.settings().security,
    )
    .await
    .expect("settings");
    assert_eq!(effective.password_min_length, 8, "the configuration again");
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"settings reset".to_owned())
    );
}

#[tokio::test]
async fn bad_values_are_explained_next_to_their_field_and_kept() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let refused = browser
        .submit(
            PAGE,
            PAGE,
            &fields(&[
                ("password_min_length", "7"),
                ("session_idle_minutes", "lots"),
                ("session_absolute_hours", "1000"),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("Enter a whole number."),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"lots\""),
        "typed text is kept"
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let refused = browser
        .submit(
            PAGE,
            PAGE,
            &fields(&[
                ("password_min_length", "7"),
                ("session_absolute_hours", "1000"),
            ]),
        )
        .await;
    assert!(
        refused.body.contains("Choose a length from 8 to 64."),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Choose a number of hours from 1 to 720.")
    );
    let refused = browser
        .submit(
            PAGE,
            PAGE,
            &fields(&[
                ("session_idle_minutes", "120"),
                ("session_absolute_hours", "1"),
            ]),
        )
        .await;
    assert!(
        refused
            .body
            .contains("The idle time-out cannot be longer than the absolute time-out."),
        "{}",
        refused.body
    );
    let stored = agency_settings::stored(&app.state.db().pool, app.agency_id("acme"))
        .await
        .expect("stored");
    assert_eq!(stored.updated_at, None, "nothing was saved");
}

#[tokio::test]
async fn only_admins_open_the_settings() {
    let app = TestApp::spawn().await;
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    assert_eq!(staff.get(PAGE).await.status, StatusCode::FORBIDDEN);
    let home = staff.get("/acme/manage").await;
    let token = crate::support::csrf_token(&home.body);
    let mut posted = fields(&[("password_min_length", "20")]);
    posted.push(("csrf_token", &token));
    assert_eq!(
        staff.post(PAGE, &posted).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(PAGE).await.header("location"),
        "/acme/manage/login",
        "signed out: to the sign-in page"
    );
}

#[tokio::test]
async fn recipients_are_chosen_among_the_agencys_own_team() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let ann = app
        .staff("acme", "ann@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let ben = app
        .staff("acme", "ben@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let outsider = app
        .staff(
            "brightfix",
            "zed@brightfix.example",
            PASSWORD,
            StaffRole::Admin,
        )
        .await;
    let (ann_id, ben_id, outsider_id) = (ann.to_string(), ben.to_string(), outsider.to_string());
    let mut with_outsider = fields(&[]);
    with_outsider.push(("work_request_recipients", &ann_id));
    with_outsider.push(("work_request_recipients", &outsider_id));
    let refused = browser.submit(PAGE, PAGE, &with_outsider).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("is not on this agency&#x27;s team")
            || refused.body.contains("is not on this agency's team"),
        "{}",
        refused.body
    );
    let mut chosen = fields(&[]);
    chosen.push(("work_request_recipients", &ann_id));
    chosen.push(("work_request_recipients", &ben_id));
    let saved = browser.submit(PAGE, PAGE, &chosen).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let pool = &app.state.db().pool;
    let recipients = agency_settings::work_request_recipients(pool, app.agency_id("acme"))
        .await
        .expect("recipients");
    let emails: Vec<&str> = recipients.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(emails, ["ann@acme.example", "ben@acme.example"]);
    assert!(
        agency_settings::work_request_recipients(pool, app.agency_id("brightfix"))
            .await
            .expect("recipients")
            .is_empty()
    );
    // A deactivated member stays chosen but is not emailed.
    sqlx::query("UPDATE staff_users SET status = 'deactivated' WHERE id = $1")
        .bind(ben)
        .execute(pool)
        .await
        .expect("deactivate");
    let recipients = agency_settings::work_request_recipients(pool, app.agency_id("acme"))
        .await
        .expect("recipients");
    assert_eq!(recipients.len(), 1);
    let page = browser.get(PAGE).await.body;
    assert!(page.contains("deactivated: not emailed"), "{page}");
}

#[tokio::test]
async fn the_password_policy_and_mfa_requirement_read_the_saved_values() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "pat@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    browser
        .submit(
            PAGE,
            PAGE,
            &fields(&[("password_min_length", "24"), ("require_mfa_portal", "on")]),
        )
        .await;
    // A portal user must enrol in two-factor sign-in before anything else.
    let mut portal = app.browser();
    portal
        .sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    let home = portal.get("/acme/portal").await;
    assert_eq!(home.header("location"), "/acme/portal/account/mfa");
    // Staff are not required to.
    assert_eq!(browser.get("/acme/manage").await.status, StatusCode::OK);
    // A 20-character password is now too short.
    let page = "/acme/manage/account/password";
    let changed = browser
        .submit(
            page,
            page,
            &[
                ("current", PASSWORD),
                ("password", "quiet-copper-meadow1"),
                ("confirm", "quiet-copper-meadow1"),
            ],
        )
        .await;
    assert!(changed.body.contains("at least 24"), "{}", changed.body);
}

#[tokio::test]
async fn a_portal_closed_here_refuses_sign_in_and_sends_no_email() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user(
        "acme",
        "pat@northwind.example",
        Some(PASSWORD),
        client,
        false,
    )
    .await;
    let saved = browser
        .submit(PAGE, PAGE, &fields(&[("portal_enabled", "")]))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mut portal = app.browser();
    let refused = portal
        .sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        portal
            .get("/acme/portal/login")
            .await
            .body
            .contains("not open at the moment")
    );
    let invited = browser
        .submit(
            "/acme/manage/staff",
            "/acme/manage/staff",
            &[
                ("name", "New"),
                ("email", "new@acme.example"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(
        invited.header("location"),
        "/acme/manage/staff?done=not-sent"
    );
    assert!(app.outbox_for("new@acme.example").await.is_empty());
}

#[tokio::test]
async fn a_shorter_idle_timeout_saved_here_ends_sessions_sooner() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    browser
        .submit(PAGE, PAGE, &fields(&[("session_idle_minutes", "5")]))
        .await;
    // Ten minutes without a request: over the saved five, under the configured thirty.
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 600")
        .execute(&app.state.db().pool)
        .await
        .expect("age sessions");
    let home = browser.get("/acme/manage").await;
    assert_eq!(home.header("location"), "/acme/manage/login");
}

#[tokio::test]
async fn a_shorter_absolute_timeout_saved_here_ends_sessions_started_before_it() {
    let app = TestApp::spawn().await;
    let mut browser = admin(&app).await;
    browser
        .submit(PAGE, PAGE, &fields(&[("session_absolute_hours", "1")]))
        .await;
    assert_eq!(browser.get("/acme/manage").await.status, StatusCode::OK);
    // Signed in two hours ago, active a moment ago: past the saved hour, within the
    // configured twelve.
    sqlx::query("UPDATE sessions SET created_at = created_at - 7200")
        .execute(&app.state.db().pool)
        .await
        .expect("age sessions");
    let home = browser.get("/acme/manage").await;
    assert_eq!(home.header("location"), "/acme/manage/login");
}
