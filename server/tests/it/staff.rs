//! The agency's team: invitations, roles, deactivation.

use axum::http::StatusCode;
use portal_server::db::staff_users::StaffRole;

use crate::support::TestApp;

const PASSWORD: &str = "lantern-harbour-orbit";

#[tokio::test]
async fn an_invited_team_member_sets_a_password_and_signs_in() {
    let app = TestApp::spawn().await;
    app.staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut admin = app.browser();
    admin
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    let page = "/acme/manage/staff";
    let invited = admin
        .submit(
            page,
            page,
            &[
                ("name", "Jamie Patel"),
                ("email", "Jamie@Acme.example"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(
        invited.header("location"),
        "/acme/manage/staff?done=invited",
        "{}",
        invited.body
    );
    let duplicate = admin
        .submit(
            page,
            page,
            &[
                ("name", "Jamie"),
                ("email", "jamie@acme.example"),
                ("role", "staff"),
            ],
        )
        .await;
    assert!(
        duplicate.body.contains("already uses this email"),
        "{}",
        duplicate.body
    );
    let invalid = admin
        .submit(
            page,
            page,
            &[("name", ""), ("email", "jamie"), ("role", "boss")],
        )
        .await;
    assert!(
        invalid.body.contains("Enter the name.") && invalid.body.contains("Choose admin or staff."),
        "{}",
        invalid.body
    );

    let mail = app.outbox_for("jamie@acme.example").await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "staff-invite");
    let link = mail[0]
        .2
        .split_whitespace()
        .find(|w| w.contains("/set-password?token="))
        .unwrap_or_default();
    let link = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let mut jamie = app.browser();
    let fresh = "copper-meadow-violin";
    let set = jamie
        .submit(
            &link,
            "/acme/manage/set-password",
            &[("token", &token), ("password", fresh), ("confirm", fresh)],
        )
        .await;
    assert_eq!(
        set.header("location"),
        "/acme/manage/login?done=password-set",
        "{}",
        set.body
    );
    assert_eq!(
        jamie
            .sign_in("acme", "manage", "jamie@acme.example", fresh)
            .await
            .header("location"),
        "/acme/manage"
    );
    assert_eq!(
        jamie.get("/acme/manage/staff").await.status,
        StatusCode::FORBIDDEN,
        "staff do not manage the team"
    );
}

#[tokio::test]
async fn deactivation_ends_sessions_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let admin_id = app
        .staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let staff_id = app
        .staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut admin = app.browser();
    admin
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    let mut staff = app.browser();
    staff
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    let page = "/acme/manage/staff";
    let off = admin
        .submit(
            page,
            &format!("/acme/manage/staff/{staff_id}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(
        off.header("location"),
        "/acme/manage/staff?done=deactivated"
    );
    assert_eq!(
        staff.get("/acme/manage").await.status,
        StatusCode::SEE_OTHER,
        "signed out at once"
    );
    assert_eq!(
        staff
            .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    admin
        .submit(
            page,
            &format!("/acme/manage/staff/{staff_id}/reactivate"),
            &[],
        )
        .await;
    assert_eq!(
        staff
            .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let myself = admin
        .submit(
            page,
            &format!("/acme/manage/staff/{admin_id}/deactivate"),
            &[],
        )
        .await;
    assert!(myself.body.contains("cannot deactivate yourself"));
    let demote = admin
        .submit(
            page,
            &format!("/acme/manage/staff/{admin_id}/role"),
            &[("role", "staff")],
        )
        .await;
    assert!(
        demote.body.contains("at least one active admin"),
        "{}",
        demote.body
    );
    let promote = admin
        .submit(
            page,
            &format!("/acme/manage/staff/{staff_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(promote.header("location"), "/acme/manage/staff?done=role");
    let theirs = app
        .staff(
            "brightfix",
            "x@brightfix.example",
            PASSWORD,
            StaffRole::Staff,
        )
        .await;
    let other = admin
        .submit(
            page,
            &format!("/acme/manage/staff/{theirs}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let actions = app.audit_actions("acme").await;
    for action in [
        "staff deactivated",
        "staff reactivated",
        "staff role changed",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action}");
    }
}
