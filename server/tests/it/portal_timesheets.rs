//! Portal timesheets: approving one, several and all shown; rejecting with a reason that
//! reaches the agency; locking; the role set's `authorize` rule.

use axum::http::StatusCode;

use crate::portal_support::{
    approve_all_pending_shown, demo_app, northwind_shift, pending_of, signed_in, status,
};

#[tokio::test]
async fn a_supervisor_approves_one_and_it_is_locked_with_its_history() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let id = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let page = format!("/acme/portal/timesheets/{id}");
    let detail = david.get(&page).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("Charge rate") && detail.body.contains("24.50"));
    let approved = david.submit(&page, &format!("{page}/approve"), &[]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, id).await, "approved");
    let after = david.get(&page).await;
    assert!(after.body.contains("David Thompson") && after.body.contains("Approved"));
    assert!(after.body.contains("(decided; ask "));
    assert!(
        !after.body.contains("/reject\""),
        "no decision form once decided"
    );
    // A rejection posted anyway changes nothing.
    let token = crate::support::csrf_token(&after.body);
    david
        .post(
            &format!("{page}/reject"),
            &[("reason", "changed my mind"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(status(&app, id).await, "approved");
    // The recruiter heard about it.
    let mail = app.outbox_for("recruiter@acme-staffing.example").await;
    assert!(
        mail.iter()
            .any(|(template, _, _)| template == "timesheet-approved")
    );
}

#[tokio::test]
async fn rejecting_needs_a_reason_which_reaches_the_agency() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let id = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let page = format!("/acme/portal/timesheets/{id}");
    let blank = david
        .submit(&page, &format!("{page}/reject"), &[("reason", "  ")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("Enter the reason."));
    assert_eq!(status(&app, id).await, "pending");

    let reason = "Clock-out is two hours after the gate log";
    let rejected = david
        .submit(&page, &format!("{page}/reject"), &[("reason", reason)])
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, id).await, "rejected");
    let events: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, reason FROM timesheet_events WHERE timesheet_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&app.state.db().pool)
    .await
    .expect("events");
    assert_eq!(
        events.last(),
        Some(&("rejected".into(), Some(reason.into())))
    );
    let mail = app.outbox_for("recruiter@acme-staffing.example").await;
    let (_, subject, body) = mail
        .iter()
        .find(|(template, _, _)| template == "timesheet-rejected")
        .expect("rejection mail to the agency");
    assert!(subject.starts_with("Timesheet rejected"));
    assert!(body.contains(reason) && body.contains("David Thompson"));
    let detail = david.get(&page).await;
    assert!(detail.body.contains(reason));
}

#[tokio::test]
async fn approve_selected_and_approve_all_shown() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let pending = pending_of(&app, "acme", "Northwind Manufacturing").await;
    assert!(pending.len() >= 3, "the demo has a week waiting");
    let list = "/acme/portal/timesheets?status=pending";
    let (a, b) = (pending[0].to_string(), pending[1].to_string());
    let selected = david
        .submit(
            list,
            "/acme/portal/timesheets/approve",
            &[("scope", "selected"), ("id", &a), ("id", &b)],
        )
        .await;
    assert_eq!(selected.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, pending[0]).await, "approved");
    assert_eq!(status(&app, pending[1]).await, "approved");
    assert_eq!(status(&app, pending[2]).await, "pending");

    let all = approve_all_pending_shown(&mut david, "acme").await;
    assert_eq!(all.status, StatusCode::SEE_OTHER);
    assert!(
        pending_of(&app, "acme", "Northwind Manufacturing")
            .await
            .is_empty()
    );
    // Other clients' timesheets were not "shown" to David and stay pending.
    assert!(!pending_of(&app, "acme", "Fabrikam Foods").await.is_empty());
}

#[tokio::test]
async fn customer_limited_may_not_approve_a_long_shift() {
    let app = demo_app().await;
    let long_id = northwind_shift(&app, "06:00", "20:00").await;
    let short_id = northwind_shift(&app, "08:00", "16:00").await;

    let mut priya = signed_in(&app, "acme", "priya@northwind.example").await;
    let page = format!("/acme/portal/timesheets/{long_id}");
    let refused = priya.submit(&page, &format!("{page}/approve"), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("over 12 hours"));
    assert_eq!(status(&app, long_id).await, "pending");
    let page = format!("/acme/portal/timesheets/{short_id}");
    let allowed = priya.submit(&page, &format!("{page}/approve"), &[]).await;
    assert_eq!(allowed.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, short_id).await, "approved");
}

#[tokio::test]
async fn a_role_without_approval_cannot_approve() {
    let app = demo_app().await;
    let id = pending_of(&app, "acme", "Contoso Logistics").await[0];
    let mut tom = signed_in(&app, "acme", "tom@contoso.example").await;
    let home = tom.get("/acme/portal").await;
    let token = crate::support::csrf_token(&home.body);
    let response = tom
        .post(
            &format!("/acme/portal/timesheets/{id}/approve"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, id).await, "pending");
}

#[tokio::test]
async fn approving_several_leaves_what_the_rule_refuses_pending() {
    let app = demo_app().await;
    let long_id = northwind_shift(&app, "05:00", "21:00").await;
    let short_id = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let mut priya = signed_in(&app, "acme", "priya@northwind.example").await;
    let (long_text, short_text) = (long_id.to_string(), short_id.to_string());
    let response = priya
        .submit(
            "/acme/portal/timesheets",
            "/acme/portal/timesheets/approve",
            &[
                ("scope", "selected"),
                ("id", &long_text),
                ("id", &short_text),
            ],
        )
        .await;
    assert!(response.header("location").ends_with("done=approved-some"));
    assert_eq!(status(&app, short_id).await, "approved");
    assert_eq!(status(&app, long_id).await, "pending");
}

/// A bulk decision takes each id once and at most 500 of them: 40,000 copies of one id are one
/// approval, and 501 distinct ids are refused with a message before anything is read.
#[tokio::test]
async fn bulk_approval_takes_each_id_once_and_at_most_five_hundred() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let pending = pending_of(&app, "acme", "Northwind Manufacturing").await;
    let list = "/acme/portal/timesheets?status=pending";
    let one = pending[0].to_string();
    let mut fields: Vec<(&str, &str)> = vec![("scope", "selected")];
    fields.extend(std::iter::repeat_n(("id", one.as_str()), 40_000));
    let repeated = david
        .submit(list, "/acme/portal/timesheets/approve", &fields)
        .await;
    assert_eq!(repeated.status, StatusCode::SEE_OTHER, "{}", repeated.body);
    assert_eq!(status(&app, pending[0]).await, "approved");
    let history: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM timesheet_events WHERE timesheet_id = $1 AND action = 'approved'",
    )
    .bind(pending[0])
    .fetch_one(&app.state.db().pool)
    .await
    .expect("history");
    assert_eq!(history, 1);

    let many: Vec<String> = (1..=501).map(|n| (n + pending[1]).to_string()).collect();
    let mut fields: Vec<(&str, &str)> = vec![("scope", "selected")];
    fields.extend(many.iter().map(|id| ("id", id.as_str())));
    let refused = david
        .submit(list, "/acme/portal/timesheets/approve", &fields)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("At most 500 at once"),
        "{}",
        refused.body
    );
    assert_eq!(status(&app, pending[1]).await, "pending");
}
