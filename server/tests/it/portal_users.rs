//! Portal users in the manage area: list, invite, manual creation, edit, passwords,
//! deactivation, invitations, bulk actions and deletion.

use axum::http::StatusCode;
use portal_server::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use portal_server::db::staff_users::StaffRole;

pub(crate) use crate::clients::admin;
use crate::support::TestApp;

const PASSWORD: &str = "lantern-harbour-orbit";
const USERS: &str = "/acme/manage/portal-users";

/// The id at the end of a redirect to a user's page.
fn user_id(location: &str) -> i64 {
    location
        .trim_start_matches("/acme/manage/portal-users/")
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a user page: {location}"))
}

pub async fn status_of(app: &TestApp, id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM portal_users WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.state.db().pool)
        .await
        .expect("status")
}

#[tokio::test]
async fn an_invited_user_gets_a_link_and_sets_a_password() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let mut admin = admin(&app).await;
    let company = client.to_string();
    let invited = admin
        .submit(
            &format!("{USERS}/new?mode=invite"),
            &format!("{USERS}/new"),
            &[
                ("mode", "invite"),
                ("email", "David@Northwind.example"),
                ("role", "customer-supervisor"),
                ("company", &company),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let id = user_id(invited.header("location"));
    assert!(invited.header("location").ends_with("done=invited"));
    assert_eq!(status_of(&app, id).await.as_deref(), Some("invited"));

    let mail = app.outbox_for("david@northwind.example").await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "invite");
    assert!(mail[0].2.contains("Northwind"), "{}", mail[0].2);
    let link = mail[0]
        .2
        .split_whitespace()
        .find(|w| w.contains("/set-password?token="))
        .unwrap_or_default()
        .trim_start_matches("http://127.0.0.1:8080")
        .to_owned();
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let mut david = app.browser();
    let set = david
        .submit(
            &link,
            "/acme/portal/set-password",
            &[
                ("token", &token),
                ("password", "copper-meadow-violin"),
                ("confirm", "copper-meadow-violin"),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(status_of(&app, id).await.as_deref(), Some("active"));
    let signed_in = david
        .sign_in(
            "acme",
            "portal",
            "david@northwind.example",
            "copper-meadow-violin",
        )
        .await;
    assert_eq!(signed_in.header("location"), "/acme/portal");
    let actions = app.audit_actions("acme").await;
    assert!(
        actions.contains(&"portal user invited".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn manual_creation_checks_every_field_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.portal_user("acme", "taken@northwind.example", None, client, false)
        .await;
    let mut admin = admin(&app).await;
    let new = format!("{USERS}/new");
    let form = format!("{USERS}/new?mode=manual");
    let bad = admin
        .submit(
            &form,
            &new,
            &[
                ("mode", "manual"),
                ("first_name", "Dana"),
                ("last_name", ""),
                ("email", "not-an-email"),
                ("role", "customer-supervisor"),
                ("password", "password123"),
                ("force_change", "on"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    for message in [
        "Enter the last name.",
        "Enter an email address like name@example.com.",
        "Choose the company this user belongs to.",
    ] {
        assert!(bad.body.contains(message), "{message}: {}", bad.body);
    }
    assert!(bad.body.contains("value=\"Dana\""), "kept the first name");
    assert!(
        bad.body.contains("value=\"not-an-email\""),
        "kept the email"
    );

    let company = client.to_string();
    let fields = |email: &'static str, password: &'static str| {
        vec![
            ("mode", "manual"),
            ("first_name", "Dana"),
            ("last_name", "Reyes"),
            ("email", email),
            ("role", "customer-supervisor"),
            ("company", company.as_str()),
            ("password", password),
            ("force_change", "on"),
            ("active", "on"),
        ]
    };
    let weak = admin
        .submit(
            &form,
            &new,
            &fields("dana@northwind.example", "password123"),
        )
        .await;
    assert!(weak.body.contains("most common"), "{}", weak.body);
    let duplicate = admin
        .submit(&form, &new, &fields("Taken@Northwind.example", PASSWORD))
        .await;
    assert!(
        duplicate
            .body
            .contains("Another portal user already signs in with this email."),
        "{}",
        duplicate.body
    );
    let unknown_role = admin
        .submit(
            &form,
            &new,
            &[
                ("mode", "manual"),
                ("role", "emperor"),
                ("email", "x@y.example"),
            ],
        )
        .await;
    assert!(unknown_role.body.contains("Choose a role."));
    let count = portal_users::count(&app.state.db().pool, app.agency_id("acme"))
        .await
        .expect("count");
    assert_eq!(count, 1, "nothing was created by refused forms");
}

#[tokio::test]
async fn a_generated_password_must_be_changed_at_first_sign_in() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let mut admin = admin(&app).await;
    let form = admin.get(&format!("{USERS}/new?mode=manual")).await;
    let generated = form
        .body
        .split("id=\"password\" name=\"password\" type=\"text\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        generated.len() >= 12,
        "a passphrase is filled in: {generated}"
    );
    let company = client.to_string();
    let created = admin
        .submit(
            &format!("{USERS}/new?mode=manual"),
            &format!("{USERS}/new"),
            &[
                ("mode", "manual"),
                ("first_name", "Dana"),
                ("last_name", "Reyes"),
                ("email", "dana@northwind.example"),
                ("role", "customer-supervisor"),
                ("company", &company),
                ("password", &generated),
                ("force_change", "on"),
                ("send_welcome", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert!(created.header("location").ends_with("done=created"));
    let mail = app.outbox_for("dana@northwind.example").await;
    assert_eq!(mail[0].0, "welcome");
    assert!(!mail[0].2.contains(&generated), "never a password by email");
    assert!(
        mail[0].2.contains("/acme/portal/set-password?token="),
        "a link to choose one instead: {}",
        mail[0].2
    );

    let mut dana = app.browser();
    let signed_in = dana
        .sign_in("acme", "portal", "dana@northwind.example", &generated)
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let home = dana.get("/acme/portal").await;
    assert_eq!(home.header("location"), "/acme/portal/account/password");
}

#[tokio::test]
async fn only_admins_manage_portal_users() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    assert_eq!(staff.get(USERS).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        staff.get(&format!("{USERS}/new")).await.status,
        StatusCode::FORBIDDEN
    );
    let home = staff.get("/acme/manage").await;
    let token = crate::support::csrf_token(&home.body);
    let company = client.to_string();
    let refused = staff
        .post(
            &format!("{USERS}/new"),
            &[
                ("csrf_token", &token),
                ("mode", "invite"),
                ("email", "new@northwind.example"),
                ("role", "customer-supervisor"),
                ("company", &company),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let count = portal_users::count(&app.state.db().pool, app.agency_id("acme"))
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn another_agencys_users_are_not_found_and_stay_unchanged() {
    let app = TestApp::spawn().await;
    let theirs = app.client("brightfix", "Harbour Homes").await;
    let id = app
        .portal_user(
            "brightfix",
            "ann@harbour.example",
            Some(PASSWORD),
            theirs,
            false,
        )
        .await;
    let mut admin = admin(&app).await;
    let page = format!("{USERS}/{id}");
    assert_eq!(admin.get(&page).await.status, StatusCode::NOT_FOUND);
    let list = admin.get(USERS).await;
    let token = crate::support::csrf_token(&list.body);
    let id_text = id.to_string();
    for (path, fields) in [
        (
            page.clone(),
            vec![
                ("email", "stolen@acme.example"),
                ("role", "customer-supervisor"),
            ],
        ),
        (format!("{page}/deactivate"), vec![]),
        (
            format!("{page}/password"),
            vec![("password", "copper-meadow-violin")],
        ),
        (format!("{page}/resend"), vec![]),
        (format!("{page}/reset-link"), vec![]),
    ] {
        let mut all = fields.clone();
        all.push(("csrf_token", &token));
        let response = admin.post(&path, &all).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
    }
    let deleted = admin
        .post(
            &format!("{USERS}/bulk/delete"),
            &[
                ("csrf_token", &token),
                ("confirm", "yes"),
                ("ids", &id_text),
            ],
        )
        .await;
    assert!(deleted.header("location").contains("count=0"));
    let user = portal_users::get(&app.state.db().pool, app.agency_id("brightfix"), id)
        .await
        .expect("get")
        .expect("still there");
    assert_eq!(user.email, "ann@harbour.example");
    assert_eq!(user.status, "active");
    assert!(app.outbox_for("ann@harbour.example").await.is_empty());
}

#[tokio::test]
async fn deactivation_ends_a_live_session_at_once() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let id = app
        .portal_user(
            "acme",
            "pat@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let mut pat = app.browser();
    pat.sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    assert_eq!(pat.get("/acme/portal").await.status, StatusCode::OK);

    let mut admin = admin(&app).await;
    let page = format!("{USERS}/{id}");
    let done = admin
        .submit(&page, &format!("{page}/deactivate"), &[])
        .await;
    assert!(done.header("location").ends_with("done=deactivated"));
    assert_eq!(status_of(&app, id).await.as_deref(), Some("deactivated"));
    let after = pat.get("/acme/portal").await;
    assert_eq!(after.header("location"), "/acme/portal/login");
    let again = pat
        .sign_in("acme", "portal", "pat@northwind.example", PASSWORD)
        .await;
    assert_ne!(again.header("location"), "/acme/portal");

    admin
        .submit(&page, &format!("{page}/reactivate"), &[])
        .await;
    assert_eq!(status_of(&app, id).await.as_deref(), Some("active"));
    let actions = app.audit_actions("acme").await;
    assert!(actions.contains(&"portal user deactivated".to_owned()));
    assert!(actions.contains(&"portal user reactivated".to_owned()));
}

#[tokio::test]
async fn invitations_are_resent_a_few_times_an_hour_at_most() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let id = app
        .portal_user("acme", "kim@northwind.example", None, client, false)
        .await;
    let mut admin = admin(&app).await;
    let page = format!("{USERS}/{id}");
    for _ in 0..3 {
        let sent = admin.submit(&page, &format!("{page}/resend"), &[]).await;
        assert!(sent.header("location").ends_with("done=resent"));
    }
    let limited = admin.submit(&page, &format!("{page}/resend"), &[]).await;
    assert!(limited.header("location").ends_with("done=limited"));
    let shown = admin.get(limited.header("location")).await;
    assert!(shown.body.contains("Try again later."), "{}", shown.body);
    assert_eq!(app.outbox_for("kim@northwind.example").await.len(), 3);

    let active = app
        .portal_user(
            "acme",
            "lee@northwind.example",
            Some(PASSWORD),
            client,
            false,
        )
        .await;
    let page = format!("{USERS}/{active}");
    let refused = admin.submit(&page, &format!("{page}/resend"), &[]).await;
    assert!(refused.header("location").ends_with("done=not-invited"));
}

#[tokio::test]
async fn admins_edit_users_and_reset_their_passwords() {
    let app = TestApp::spawn().await;
    let north = app.client("acme", "Northwind").await;
    let south = app.client("acme", "Southwind").await;
    let id = app
        .portal_user(
            "acme",
            "pat@northwind.example",
            Some(PASSWORD),
            north,
            false,
        )
        .await;
    app.portal_user("acme", "taken@northwind.example", None, north, false)
        .await;
    let mut admin = admin(&app).await;
    let page = format!("{USERS}/{id}");
    let south_text = south.to_string();
    let fields = |email: &'static str| {
        vec![
            ("first_name", "Pat"),
            ("last_name", "Jones"),
            ("email", email),
            ("role", "customer-time-only"),
            ("company", south_text.as_str()),
            ("restricted_access", "on"),
        ]
    };
    let taken = admin
        .submit(&page, &page, &fields("taken@northwind.example"))
        .await;
    assert!(taken.body.contains("already signs in"), "{}", taken.body);
    assert!(taken.body.contains("value=\"Jones\""));
    let saved = admin
        .submit(&page, &page, &fields("pat@southwind.example"))
        .await;
    assert!(
        saved.header("location").ends_with("done=saved"),
        "{}",
        saved.body
    );
    let user = portal_users::get(&app.state.db().pool, app.agency_id("acme"), id)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(
        (
            user.email.as_str(),
            user.role_id.as_str(),
            user.company.as_str()
        ),
        ("pat@southwind.example", "customer-time-only", "Southwind")
    );
    assert!(user.restricted_access);

    let weak = admin
        .submit(&page, &format!("{page}/password"), &[("password", "short")])
        .await;
    assert!(weak.body.contains("at least"), "{}", weak.body);
    let set = admin
        .submit(
            &page,
            &format!("{page}/password"),
            &[("password", "copper-meadow-violin")],
        )
        .await;
    assert!(set.header("location").ends_with("done=password"));
    let mut pat = app.browser();
    pat.sign_in(
        "acme",
        "portal",
        "pat@southwind.example",
        "copper-meadow-violin",
    )
    .await;
    assert_eq!(
        pat.get("/acme/portal").await.header("location"),
        "/acme/portal/account/password"
    );
    let link = admin
        .submit(&page, &format!("{page}/reset-link"), &[])
        .await;
    assert!(link.header("location").ends_with("done=reset-sent"));
    let mail = app.outbox_for("pat@southwind.example").await;
    assert_eq!(mail[0].0, "password-reset");
}

/// Users made directly: (first, last, email, status, company index).
async fn seed(
    app: &TestApp,
    clients: &[i64],
    users: &[(&str, &str, &str, PortalUserStatus, usize)],
) {
    let mut conn = app.state.db().pool.acquire().await.expect("conn");
    for &(first, last, email, status, client) in users {
        let links = [(clients[client], None)];
        let new = NewPortalUser {
            email,
            first_name: first,
            last_name: last,
            role_id: "customer-supervisor",
            all_clients: false,
            restricted_access: false,
            status,
            password_hash: None,
            must_change_password: false,
            clients: &links,
        };
        portal_users::create(&mut conn, app.agency_id("acme"), &new)
            .await
            .expect("user");
    }
}

#[tokio::test]
async fn the_list_sorts_filters_and_pages() {
    let app = TestApp::spawn().await;
    let clients = [
        app.client("acme", "Northwind").await,
        app.client("acme", "Oakridge").await,
    ];
    use PortalUserStatus::{Active, Deactivated, Invited};
    seed(
        &app,
        &clients,
        &[
            ("Ann", "Baker", "ann@northwind.example", Active, 0),
            ("Cy", "Adams", "cy@oakridge.example", Invited, 1),
            ("Bo", "Clark", "bo@northwind.example", Deactivated, 0),
            ("Di", "100%_Evans", "di@oakridge.example", Active, 1),
        ],
    )
    .await;
    let mut admin = admin(&app).await;
    let order = |body: &str| -> Vec<String> {
        body.split("data-label=\"Email\">")
            .skip(1)
            .filter_map(|rest| rest.split('<').next())
            .map(str::to_owned)
            .collect()
    };
    let by_name = admin.get(USERS).await;
    assert_eq!(
        order(&by_name.body),
        [
            "di@oakridge.example",
            "cy@oakridge.example",
            "ann@northwind.example",
            "bo@northwind.example"
        ]
    );
    assert!(by_name.body.contains("aria-sort=\"ascending\""));
    assert!(by_name.body.contains("1–4 of 4"));
    let by_email_desc = admin.get(&format!("{USERS}?sort=email&dir=desc")).await;
    assert_eq!(order(&by_email_desc.body)[0], "di@oakridge.example");
    assert!(by_email_desc.body.contains("aria-sort=\"descending\""));
    let by_company = admin.get(&format!("{USERS}?sort=company")).await;
    assert_eq!(order(&by_company.body)[..2].len(), 2);
    assert!(order(&by_company.body)[0].ends_with("northwind.example"));
    let filtered = admin.get(&format!("{USERS}?q=OAKRIDGE")).await;
    assert_eq!(order(&filtered.body).len(), 2);
    let literal = admin.get(&format!("{USERS}?q=100%25_")).await;
    assert_eq!(order(&literal.body), ["di@oakridge.example"]);
    let status = admin.get(&format!("{USERS}?status=invited")).await;
    assert_eq!(order(&status.body), ["cy@oakridge.example"]);
    let paged = admin.get(&format!("{USERS}?size=10&page=1")).await;
    assert_eq!(order(&paged.body).len(), 4);
    assert!(!paged.body.contains("rel=\"next\""));
    for sort in [
        "name",
        "email",
        "company",
        "role",
        "status",
        "last_sign_in",
        "created",
    ] {
        for dir in ["asc", "desc"] {
            let page = admin
                .get(&format!("{USERS}?sort={sort}&dir={dir}&status=active"))
                .await;
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(order(&page.body).len(), 2, "{sort} {dir}");
        }
    }
}

#[tokio::test]
async fn the_list_pages_with_previous_and_next() {
    let app = TestApp::spawn().await;
    let clients = [app.client("acme", "Northwind").await];
    let emails: Vec<String> = (0..12)
        .map(|n| format!("user{n:02}@northwind.example"))
        .collect();
    let users: Vec<_> = emails
        .iter()
        .map(|e| ("Pat", "Client", e.as_str(), PortalUserStatus::Active, 0))
        .collect();
    seed(&app, &clients, &users).await;
    let mut admin = admin(&app).await;
    let first = admin.get(&format!("{USERS}?sort=email&size=10")).await;
    assert!(first.body.contains("1–10 of 12"), "{}", first.body);
    assert!(first.body.contains("rel=\"next\""));
    let second = admin
        .get(&format!("{USERS}?sort=email&size=10&page=2"))
        .await;
    assert!(second.body.contains("11–12 of 12"));
    assert!(second.body.contains("rel=\"prev\""));
    assert!(second.body.contains("user11@northwind.example"));
}

#[tokio::test]
async fn bulk_delete_confirms_how_many_and_is_audited() {
    let app = TestApp::spawn().await;
    let client = app.client("acme", "Northwind").await;
    let a = app
        .portal_user("acme", "a@northwind.example", Some(PASSWORD), client, false)
        .await;
    let b = app
        .portal_user("acme", "b@northwind.example", None, client, false)
        .await;
    let c = app
        .portal_user("acme", "c@northwind.example", None, client, false)
        .await;
    let mut a_session = app.browser();
    a_session
        .sign_in("acme", "portal", "a@northwind.example", PASSWORD)
        .await;
    let mut admin = admin(&app).await;
    let (a_text, b_text) = (a.to_string(), b.to_string());
    let confirm = admin
        .submit(
            USERS,
            &format!("{USERS}/bulk"),
            &[("action", "delete"), ("ids", &a_text), ("ids", &b_text)],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Delete 2 portal users?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("cannot be undone"));
    assert_eq!(
        status_of(&app, a).await.as_deref(),
        Some("active"),
        "nothing yet"
    );
    let token = crate::support::csrf_token(&confirm.body);
    let deleted = admin
        .post(
            &format!("{USERS}/bulk/delete"),
            &[
                ("csrf_token", &token),
                ("confirm", "yes"),
                ("ids", &a_text),
                ("ids", &b_text),
            ],
        )
        .await;
    assert_eq!(
        deleted.header("location"),
        format!("{USERS}?done=deleted&count=2")
    );
    assert_eq!(status_of(&app, a).await, None);
    assert_eq!(status_of(&app, b).await, None);
    assert!(status_of(&app, c).await.is_some());
    assert_eq!(
        a_session.get("/acme/portal").await.header("location"),
        "/acme/portal/login"
    );
    let actions = app.audit_actions("acme").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "portal user deleted")
            .count(),
        2
    );

    let c_text = c.to_string();
    let resent = admin
        .submit(
            USERS,
            &format!("{USERS}/bulk"),
            &[("action", "resend"), ("ids", &c_text)],
        )
        .await;
    assert_eq!(
        resent.header("location"),
        format!("{USERS}?done=bulk-resent&count=1")
    );
    let off = admin
        .submit(
            USERS,
            &format!("{USERS}/bulk"),
            &[("action", "deactivate"), ("ids", &c_text)],
        )
        .await;
    assert_eq!(
        off.header("location"),
        format!("{USERS}?done=bulk-deactivated&count=1")
    );
    assert_eq!(status_of(&app, c).await.as_deref(), Some("deactivated"));
}

#[tokio::test]
async fn multi_client_users_show_their_span_and_only_spanning_granters_make_them() {
    let app = TestApp::spawn().await;
    let north = app.client("acme", "Northwind").await;
    let south = app.client("acme", "Southwind").await;
    let mut admin = admin(&app).await;
    let (north_text, south_text) = (north.to_string(), south.to_string());
    let chosen = admin
        .submit(
            &format!("{USERS}/new"),
            &format!("{USERS}/new"),
            &[
                ("mode", "invite"),
                ("email", "partner@group.example"),
                ("role", "partner"),
                ("clients", &north_text),
                ("clients", &south_text),
            ],
        )
        .await;
    let id = user_id(chosen.header("location"));
    let everyone = admin
        .submit(
            &format!("{USERS}/new"),
            &format!("{USERS}/new"),
            &[
                ("mode", "invite"),
                ("email", "boss@group.example"),
                ("role", "partner"),
                ("all_clients", "on"),
            ],
        )
        .await;
    let all = user_id(everyone.header("location"));
    let none = admin
        .submit(
            &format!("{USERS}/new"),
            &format!("{USERS}/new"),
            &[
                ("mode", "invite"),
                ("email", "p2@group.example"),
                ("role", "partner"),
            ],
        )
        .await;
    assert!(
        none.body.contains("Choose at least one client"),
        "{}",
        none.body
    );
    // The form starts with "All clients" ticked (seed 002: partners see every client unless
    // told otherwise); ticked together with chosen clients, it is refused, never read as all.
    let form = admin.get(&format!("{USERS}/new")).await;
    assert!(
        form.body
            .contains("id=\"all_clients\" name=\"all_clients\" type=\"checkbox\" checked"),
        "{}",
        form.body
    );
    let both = admin
        .submit(
            &format!("{USERS}/new"),
            &format!("{USERS}/new"),
            &[
                ("mode", "invite"),
                ("email", "p3@group.example"),
                ("role", "partner"),
                ("all_clients", "on"),
                ("clients", &north_text),
            ],
        )
        .await;
    assert!(both.body.contains("Untick “All clients”"), "{}", both.body);
    assert!(
        app.outbox_for("p3@group.example").await.is_empty(),
        "nobody invited"
    );
    let pool = &app.state.db().pool;
    let agency = app.agency_id("acme");
    let two = portal_users::get(pool, agency, id)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(two.company, "2 clients");
    let every = portal_users::get(pool, agency, all)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(
        (every.company.as_str(), every.all_clients),
        ("All clients", true)
    );

    // Renaming a client follows into the list.
    sqlx::query("UPDATE clients SET name = 'Northwind Group' WHERE id = $1")
        .bind(north)
        .execute(pool)
        .await
        .expect("rename");
    let one = app
        .portal_user("acme", "solo@northwind.example", None, north, false)
        .await;
    let solo = portal_users::get(pool, agency, one)
        .await
        .expect("get")
        .expect("user");
    assert_eq!(solo.company, "Northwind Group");

    // A portal user's right to hand out roles follows their own role.
    let agency_arc = app.agency("acme");
    let set = app.state.plugins().agency("acme").expect("plugins");
    let partner = set.role("partner").expect("partner").clone();
    let supervisor = set.role("customer-supervisor").expect("supervisor").clone();
    use portal_server::portal_users::{self as rules, Granter, PortalUserInput};
    assert!(Granter::portal_user(&supervisor, &[north]).is_none());
    let partner_granter = Granter::portal_user(&partner, &[north]).expect("partners manage users");
    let single = Granter {
        may_span_clients: false,
        within: Some(vec![north]),
    };
    let input = PortalUserInput {
        email: "next@group.example".into(),
        role: "partner".into(),
        clients: vec![north],
        ..PortalUserInput::default()
    };
    let refused = rules::check(&app.state, &agency_arc, &single, &input, false, None)
        .await
        .expect("check");
    assert!(refused.is_err_and(|e| {
        e.get("role")
            .is_some_and(|m| m.contains("Only users who span"))
    }));
    let allowed = rules::check(
        &app.state,
        &agency_arc,
        &partner_granter,
        &input,
        false,
        None,
    )
    .await
    .expect("check");
    assert!(allowed.is_ok());
    let outside = PortalUserInput {
        clients: vec![south],
        ..input
    };
    let refused = rules::check(
        &app.state,
        &agency_arc,
        &partner_granter,
        &outside,
        false,
        None,
    )
    .await
    .expect("check");
    assert!(refused.is_err_and(|e| e.get("clients").is_some()));
}
