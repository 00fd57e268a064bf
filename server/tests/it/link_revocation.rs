//! Every single-use link (invitation, password reset) × every event that must end it: a change
//! of the person's password (by themselves, through another link, by an admin), of their email,
//! status or access. After the event the link shows "no longer works" and sets nothing.

use axum::http::StatusCode;
use portal_server::auth::tokens;
use portal_server::db::Timestamp;
use portal_server::db::accounts::AccountKind;
use portal_server::db::tokens::Purpose;
use portal_server::demo::DEMO_PASSWORD;
use serde_json::json;

use crate::api_clients::{send, token};
use crate::portal_support::{client_id, demo_app, id, signed_in, signed_in_staff};
use crate::support::TestApp;

/// A live link of `purpose` for an account, as an email would carry it.
pub async fn link(app: &TestApp, kind: AccountKind, user: i64, purpose: Purpose) -> String {
    let secret = tokens::generate();
    let mut conn = app.state.db().pool.acquire().await.expect("connection");
    portal_server::db::tokens::create(
        &mut conn,
        app.agency_id("acme"),
        purpose,
        kind,
        user,
        &tokens::hash(&secret),
        Timestamp::now().plus_seconds(3600),
    )
    .await
    .expect("store the link");
    secret
}

/// David of Northwind in the demo data.
async fn demo_david(app: &TestApp) -> i64 {
    id(
        app,
        "acme",
        "SELECT id FROM portal_users WHERE agency_id = $1 AND email = 'david@northwind.example'",
    )
    .await
}

/// Whether following the link still offers to set a password.
async fn works(app: &TestApp, area: &str, secret: &str) -> bool {
    let page = app
        .get(&format!("/acme/{area}/set-password?token={secret}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    !page.body.contains("no longer works")
}

/// The portal-user events, each run on a fresh demo agency against David (active, one client).
#[derive(Debug, Clone, Copy)]
enum PortalEvent {
    ChangesOwnPassword,
    ResetThroughAnotherLink,
    AdminSetsPassword,
    Deactivated,
    EmailChanged,
    RoleChanged,
    ClientsChanged,
}

const PORTAL_EVENTS: &[PortalEvent] = &[
    PortalEvent::ChangesOwnPassword,
    PortalEvent::ResetThroughAnotherLink,
    PortalEvent::AdminSetsPassword,
    PortalEvent::Deactivated,
    PortalEvent::EmailChanged,
    PortalEvent::RoleChanged,
    PortalEvent::ClientsChanged,
];

const NEW_PASSWORD: &str = "copper-meadow-violin";

async fn happen(app: &TestApp, event: PortalEvent, david: i64) {
    let api = token(app, "acme").await;
    let user = format!("/api/v1/acme/portal-users/{david}");
    let northwind = client_id(app, "acme", "Northwind Manufacturing").await;
    let fabrikam = client_id(app, "acme", "Fabrikam Foods").await;
    let change = |email: &str, role: &str, company: i64| {
        json!({
            "first_name": "David", "last_name": "Okafor", "email": email, "role": role,
            "company": company,
        })
    };
    let status = match event {
        PortalEvent::ChangesOwnPassword => {
            let mut browser = signed_in(app, "acme", "david@northwind.example").await;
            browser
                .submit(
                    "/acme/portal/account/password",
                    "/acme/portal/account/password",
                    &[
                        ("current", DEMO_PASSWORD),
                        ("password", NEW_PASSWORD),
                        ("confirm", NEW_PASSWORD),
                    ],
                )
                .await
                .status
        }
        PortalEvent::ResetThroughAnotherLink => {
            let other = link(app, AccountKind::Portal, david, Purpose::Reset).await;
            // Made after the links under test: those of the same purpose already died with
            // it; the invitation must die when it is used.
            let page = format!("/acme/portal/set-password?token={other}");
            app.browser()
                .submit(
                    &page,
                    "/acme/portal/set-password",
                    &[
                        ("token", &other),
                        ("password", NEW_PASSWORD),
                        ("confirm", NEW_PASSWORD),
                    ],
                )
                .await
                .status
        }
        PortalEvent::AdminSetsPassword => {
            let path = format!("{user}/password");
            send(
                app,
                "POST",
                &path,
                &api,
                Some(json!({ "password": NEW_PASSWORD })),
            )
            .await
            .0
            .status
        }
        PortalEvent::Deactivated => {
            let path = format!("{user}/deactivate");
            send(app, "POST", &path, &api, None).await.0.status
        }
        PortalEvent::EmailChanged => {
            let body = change(
                "david.okafor@northwind.example",
                "customer-supervisor",
                northwind,
            );
            send(app, "PUT", &user, &api, Some(body)).await.0.status
        }
        PortalEvent::RoleChanged => {
            let body = change("david@northwind.example", "customer-time-only", northwind);
            send(app, "PUT", &user, &api, Some(body)).await.0.status
        }
        PortalEvent::ClientsChanged => {
            let body = change("david@northwind.example", "customer-supervisor", fabrikam);
            send(app, "PUT", &user, &api, Some(body)).await.0.status
        }
    };
    assert!(
        status.is_success() || status.is_redirection(),
        "{event:?} happened: {status}"
    );
}

#[tokio::test]
async fn every_portal_link_dies_with_every_change_of_its_person() {
    for &event in PORTAL_EVENTS {
        let app = demo_app().await;
        let david = demo_david(&app).await;
        let links = [
            link(&app, AccountKind::Portal, david, Purpose::Invite).await,
            link(&app, AccountKind::Portal, david, Purpose::Reset).await,
        ];
        for secret in &links {
            assert!(
                works(&app, "portal", secret).await,
                "{event:?}: live before"
            );
        }
        happen(&app, event, david).await;
        for (secret, purpose) in links.iter().zip(["invitation", "reset"]) {
            assert!(
                !works(&app, "portal", secret).await,
                "{event:?}: the {purpose} link still works"
            );
        }
    }
}

/// Staff: a password change, deactivation and a role change end the member's links.
#[tokio::test]
async fn every_staff_link_dies_with_every_change_of_its_person() {
    for event in ["password", "deactivate", "role"] {
        let app = demo_app().await;
        let recruiter = id(
            &app,
            "acme",
            "SELECT id FROM staff_users WHERE agency_id = $1 \
             AND email = 'recruiter@acme-staffing.example'",
        )
        .await;
        let links = [
            link(&app, AccountKind::Staff, recruiter, Purpose::Invite).await,
            link(&app, AccountKind::Staff, recruiter, Purpose::Reset).await,
        ];
        for secret in &links {
            assert!(works(&app, "manage", secret).await, "{event}: live before");
        }
        let status = if event == "password" {
            let mut me = signed_in_staff(&app, "acme", "recruiter@acme-staffing.example").await;
            me.submit(
                "/acme/manage/account/password",
                "/acme/manage/account/password",
                &[
                    ("current", DEMO_PASSWORD),
                    ("password", NEW_PASSWORD),
                    ("confirm", NEW_PASSWORD),
                ],
            )
            .await
            .status
        } else {
            let mut admin = signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
            let (action, fields): (String, Vec<(&str, &str)>) = if event == "deactivate" {
                (format!("/acme/manage/staff/{recruiter}/deactivate"), vec![])
            } else {
                (
                    format!("/acme/manage/staff/{recruiter}/role"),
                    vec![("role", "admin")],
                )
            };
            admin
                .submit("/acme/manage/staff", &action, &fields)
                .await
                .status
        };
        assert_eq!(status, StatusCode::SEE_OTHER, "{event} happened");
        for secret in &links {
            assert!(
                !works(&app, "manage", secret).await,
                "{event}: a link still works"
            );
        }
    }
}

/// A new link of one purpose replaces the person's earlier one of that purpose (the newest
/// email is the one that works), and leaves a link of the other purpose alone.
#[tokio::test]
async fn a_new_link_replaces_the_earlier_one_of_its_purpose() {
    let app = demo_app().await;
    let david = demo_david(&app).await;
    let invitation = link(&app, AccountKind::Portal, david, Purpose::Invite).await;
    let first_reset = link(&app, AccountKind::Portal, david, Purpose::Reset).await;
    let second_reset = link(&app, AccountKind::Portal, david, Purpose::Reset).await;
    assert!(!works(&app, "portal", &first_reset).await, "replaced");
    assert!(
        works(&app, "portal", &second_reset).await,
        "the newest works"
    );
    assert!(works(&app, "portal", &invitation).await, "another purpose");
}
