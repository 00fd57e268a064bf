//! The agency's workspace: the staff home's figures, the timesheet list and what staff do
//! with a timesheet (decide for the client, correct a rejection), pay-period locks refusing
//! every change by every path, work requests through their lifecycle with the client
//! following, who is on site — on the pages and over the API, each agency apart.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api_clients::{send, token};
use crate::portal_support::{
    client_id, demo_app, northwind_shift, pending_of, signed_in, signed_in_staff, status,
};
use crate::support::TestApp;

const ADMIN: &str = "admin@acme-staffing.example";
const STAFF: &str = "recruiter@acme-staffing.example";

async fn scalar(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.state.db().pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

async fn text(app: &TestApp, sql: &str, id: i64) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.state.db().pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// Moves a row's last change ten seconds back, so that the changes feed (which holds back
/// what changed in the last seconds) reads it now, ahead of the demo rows.
async fn settle(app: &TestApp, table: &str, id: i64) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET updated_at = updated_at - 10 WHERE id = $1"
    )))
    .bind(id)
    .execute(&app.state.db().pool)
    .await
    .expect("settle");
}

/// A timesheet worked `days_ago` days ago, pending, for Northwind.
async fn pending_days_ago(app: &TestApp, days_ago: i64) -> i64 {
    let id = northwind_shift(app, "08:00", "16:30").await;
    let day = time::OffsetDateTime::now_utc().date() - time::Duration::days(days_ago);
    sqlx::query("UPDATE timesheets SET work_date = $1 WHERE id = $2")
        .bind(portal_server::dates::iso(day))
        .bind(id)
        .execute(&app.state.db().pool)
        .await
        .expect("date");
    id
}

#[tokio::test]
async fn the_staff_home_counts_what_waits_and_each_figure_links_to_its_list() {
    let app = demo_app().await;
    let agency = app.agency_id("acme");
    let overdue = pending_days_ago(&app, 10).await;
    let count = |sql: &'static str| scalar(&app, sql, agency);
    let pending =
        count("SELECT COUNT(*) FROM timesheets WHERE agency_id = $1 AND status = 'pending'").await;
    let rejected =
        count("SELECT COUNT(*) FROM timesheets WHERE agency_id = $1 AND status = 'rejected'").await;
    let open = count(
        "SELECT COUNT(*) FROM work_requests WHERE agency_id = $1 \
         AND status IN ('new', 'acknowledged', 'scheduled')",
    )
    .await;
    assert!(pending > 1 && open > 0, "the demo has work waiting");

    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let home = staff.get("/acme/manage").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    for (figure, link) in [
        (pending, "/acme/manage/timesheets?status=pending"),
        (1, "/acme/manage/timesheets?overdue=1"),
        (rejected, "/acme/manage/timesheets?status=rejected"),
        (open, "/acme/manage/work-requests"),
    ] {
        let tile = format!("<a href=\"{link}\"><span class=\"stat-value\">{figure}</span>");
        assert!(
            home.body
                .replace("&amp;", "&")
                .replace("&#x2f;", "/")
                .contains(&tile),
            "{tile} in {}",
            home.body
        );
    }
    assert!(home.body.contains("Northwind Manufacturing"));
    // Staff who are not admins do not get the admins' figures.
    assert!(!home.body.contains("manage/outbox?status=failed"));
    let mut admin = signed_in_staff(&app, "acme", ADMIN).await;
    assert!(
        admin
            .get("/acme/manage")
            .await
            .body
            .contains("manage/outbox?status=failed")
    );

    // The overdue link lists exactly the overdue timesheet.
    let list = staff.get("/acme/manage/timesheets?overdue=1").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains(&format!("/acme/manage/timesheets/{overdue}\""))
    );
    assert!(list.body.contains("1–1 of 1"), "{}", list.body);

    // The API answers the same figures.
    let token = token(&app, "acme").await;
    let (answer, body) = send(&app, "GET", "/api/v1/acme/attention", &token, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(body["timesheets"]["pending"], pending);
    assert_eq!(body["timesheets"]["overdue"], 1);
    assert_eq!(body["timesheets"]["rejected"], rejected);
    assert_eq!(body["requests"]["open"], open);
    assert_eq!(body["deadline_days"], 3);
}

#[tokio::test]
async fn staff_decide_for_the_client_only_with_evidence_and_everyone_sees_it_so() {
    let app = demo_app().await;
    let id = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let page = format!("/acme/manage/timesheets/{id}");
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let detail = staff.get(&page).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert!(detail.body.contains("Margin") && detail.body.contains("an hour"));

    let decide = format!("{page}/decide");
    let blank = staff
        .submit(&page, &decide, &[("status", "approved"), ("note", " ")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("Say how the client gave its decision"));
    assert_eq!(status(&app, id).await, "pending");
    let odd = staff
        .submit(&page, &decide, &[("status", "pending"), ("note", "x")])
        .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);

    let note = "Approved by phone with David Thompson";
    let done = staff
        .submit(&page, &decide, &[("status", "approved"), ("note", note)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(status(&app, id).await, "approved");
    assert_eq!(
        text(
            &app,
            "SELECT decision_note FROM timesheets WHERE id = $1",
            id
        )
        .await
        .as_deref(),
        Some(note)
    );
    let staff_id = scalar(
        &app,
        "SELECT decided_by_staff FROM timesheets WHERE id = $1",
        id,
    )
    .await;
    assert!(staff_id > 0);
    let history = text(
        &app,
        "SELECT action || ': ' || reason FROM timesheet_events WHERE timesheet_id = $1 \
         ORDER BY id DESC LIMIT 1",
        id,
    )
    .await;
    assert_eq!(
        history,
        Some(format!("approved on the client's behalf: {note}"))
    );
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"timesheet.decided_for_client".to_owned())
    );
    // The recruiter hears of it as of any approval.
    let told = app.outbox_for("recruiter@acme-staffing.example").await;
    assert!(
        told.iter()
            .any(|(template, _, _)| template == "timesheet-approved"),
        "{told:?}"
    );

    // The client sees who decided and why; the back office reads it from the feed.
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let portal = david.get(&format!("/acme/portal/timesheets/{id}")).await;
    assert!(portal.body.contains("on your behalf") && portal.body.contains(note));
    let token = token(&app, "acme").await;
    settle(&app, "timesheets", id).await;
    let (_, changes) = send(&app, "GET", "/api/v1/acme/timesheets", &token, None).await;
    let row = changes["timesheets"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(row["decision_note"], note);
    assert_eq!(row["decided_by_staff"], STAFF);

    // Decided is decided: again is a 409 on the page and over the API.
    let again = staff
        .submit(&page, &decide, &[("status", "rejected"), ("note", "no")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let (api, problem) = send(
        &app,
        "POST",
        &format!("/api/v1/acme/timesheets/{id}/decide"),
        &token,
        Some(json!({ "status": "rejected", "note": "no" })),
    )
    .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("already approved")
    );
}

#[tokio::test]
async fn a_corrected_rejection_goes_back_to_the_client_pending_with_the_correction() {
    let app = demo_app().await;
    let id = northwind_shift(&app, "08:00", "18:00").await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let portal = format!("/acme/portal/timesheets/{id}");
    let rejected = david
        .submit(
            &portal,
            &format!("{portal}/reject"),
            &[("reason", "We closed at 16:00")],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);

    let page = format!("/acme/manage/timesheets/{id}");
    let correct = format!("{page}/correct");
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    for (fields, field, message) in [
        (
            [
                ("start_time", "8am"),
                ("end_time", "16:00"),
                ("break_minutes", "30"),
                ("note", "x"),
            ],
            "start_time",
            "Enter the start and end like 08:00",
        ),
        (
            [
                ("start_time", "08:00"),
                ("end_time", "09:00"),
                ("break_minutes", "60"),
                ("note", "x"),
            ],
            "break_minutes",
            "The break is as long as the shift",
        ),
        (
            [
                ("start_time", "08:00"),
                ("end_time", "16:00"),
                ("break_minutes", "-5"),
                ("note", "x"),
            ],
            "break_minutes",
            "Enter the break in minutes",
        ),
        (
            [
                ("start_time", "08:00"),
                ("end_time", "16:00"),
                ("break_minutes", "30"),
                ("note", ""),
            ],
            "note",
            "Enter the note for the client",
        ),
    ] {
        let refused = staff.submit(&page, &correct, &fields).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(refused.body.contains(message), "{field}: {}", refused.body);
        assert_eq!(status(&app, id).await, "rejected");
    }
    let fixed = staff
        .submit(
            &page,
            &correct,
            &[
                ("start_time", "08:00"),
                ("end_time", "16:00"),
                ("break_minutes", "30"),
                ("note", "Gate log shows 16:00"),
            ],
        )
        .await;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER, "{}", fixed.body);
    assert_eq!(status(&app, id).await, "pending");
    assert_eq!(
        scalar(
            &app,
            "SELECT minutes_worked FROM timesheets WHERE id = $1",
            id
        )
        .await,
        450
    );
    let rate = scalar(
        &app,
        "SELECT charge_rate_cents FROM timesheets WHERE id = $1",
        id,
    )
    .await;
    assert_eq!(
        scalar(
            &app,
            "SELECT charge_amount_cents FROM timesheets WHERE id = $1",
            id
        )
        .await,
        (450 * rate + 30) / 60
    );
    let seen = david.get(&portal).await;
    assert!(seen.body.contains("Corrected") && seen.body.contains("Gate log shows 16:00"));
    assert!(
        seen.body.contains("/approve"),
        "the client can decide it again"
    );
    // Only a rejected timesheet is corrected.
    let again = staff
        .submit(
            &page,
            &correct,
            &[
                ("start_time", "08:00"),
                ("end_time", "16:00"),
                ("note", "again"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

/// The feed's upsert of one timesheet, as the back office sends it.
async fn feed_change(app: &TestApp, token: &str, external_id: &str, end: &str) -> (u16, Value) {
    let (answer, body) = send(
        app,
        "PUT",
        &format!("/api/v1/acme/timesheets/by-external-id/{external_id}"),
        token,
        Some(json!({
            "worker": "W-LOCK", "client": "C-LOCK", "work_date": "2026-11-03",
            "start_time": "08:00", "end_time": end, "charge_rate_cents": 2450,
            "pay_rate_cents": 1500,
        })),
    )
    .await;
    (answer.status.as_u16(), body)
}

#[tokio::test]
async fn a_locked_week_refuses_every_change_by_every_path_with_a_409_naming_the_lock() {
    let app = demo_app().await;
    let token = token(&app, "acme").await;
    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    sqlx::query("UPDATE clients SET external_id = 'C-LOCK' WHERE id = $1")
        .bind(northwind)
        .execute(&app.state.db().pool)
        .await
        .expect("client ref");
    let (ok, _) = send(
        &app,
        "PUT",
        "/api/v1/acme/workers/by-external-id/W-LOCK",
        &token,
        Some(json!({ "first_name": "Lee", "last_name": "Lock" })),
    )
    .await;
    assert!(ok.status.is_success(), "{}", ok.body);
    let (created, _) = feed_change(&app, &token, "TS-LOCK", "16:00").await;
    assert!(created < 300, "created");
    let fed: i64 = crate::portal_support::id(
        &app,
        "acme",
        "SELECT id FROM timesheets WHERE agency_id = $1 AND external_id = 'TS-LOCK'",
    )
    .await;
    let other = pending_days_ago(&app, 0).await;
    sqlx::query("UPDATE timesheets SET work_date = '2026-11-04' WHERE id = $1")
        .bind(other)
        .execute(&app.state.db().pool)
        .await
        .expect("date");

    // Lock the week of 2 to 8 November for Northwind, from the page.
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let locks = "/acme/manage/timesheets/locks";
    let bad = staff
        .submit(locks, locks, &[("week", "someday"), ("client_id", "")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter a day of the week to lock"));
    let northwind_text = northwind.to_string();
    let locked = staff
        .submit(
            locks,
            locks,
            &[("week", "2026-11-05"), ("client_id", &northwind_text)],
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::SEE_OTHER,
        "{}",
        locked
            .body
            .get(locked.body.find("<main").unwrap_or(0)..)
            .unwrap_or_default()
    );
    let twice = staff
        .submit(
            locks,
            locks,
            &[("week", "2026-11-02"), ("client_id", &northwind_text)],
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"timesheet.week_locked".to_owned())
    );

    let names_the_lock = |text: &str| {
        text.contains("2026-11-02 to 2026-11-08 is locked for payroll (Northwind Manufacturing)")
    };
    // The client: one decision is a 409, "approve all shown" leaves it out; the page says so.
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let portal = format!("/acme/portal/timesheets/{fed}");
    let shown = david.get(&portal).await;
    assert!(shown.body.contains("Locked for payroll") && !shown.body.contains("/approve\""));
    let approve = david
        .submit(&portal, &format!("{portal}/approve"), &[])
        .await;
    assert_eq!(approve.status, StatusCode::CONFLICT);
    assert!(names_the_lock(&approve.body), "{}", approve.body);
    let picked = david
        .submit(
            "/acme/portal/timesheets",
            "/acme/portal/timesheets/approve",
            &[
                ("scope", "selected"),
                ("id", &fed.to_string()),
                ("id", &other.to_string()),
            ],
        )
        .await;
    assert_eq!(picked.status, StatusCode::CONFLICT);
    assert!(names_the_lock(&picked.body));
    assert_eq!(status(&app, fed).await, "pending");
    assert_eq!(status(&app, other).await, "pending");
    // Staff on the page and over the API.
    let page = format!("/acme/manage/timesheets/{fed}");
    let by_staff = staff
        .submit(
            &page,
            &format!("{page}/decide"),
            &[("status", "approved"), ("note", "phone")],
        )
        .await;
    assert_eq!(by_staff.status, StatusCode::CONFLICT);
    assert!(names_the_lock(&by_staff.body));
    let (api, problem) = send(
        &app,
        "POST",
        &format!("/api/v1/acme/timesheets/{fed}/decide"),
        &token,
        Some(json!({ "status": "approved", "note": "phone" })),
    )
    .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert!(names_the_lock(
        problem["detail"].as_str().unwrap_or_default()
    ));
    // The feed: neither a change nor a new timesheet in the week.
    let (changed, problem) = feed_change(&app, &token, "TS-LOCK", "17:00").await;
    assert_eq!(changed, 409, "{problem}");
    assert!(names_the_lock(
        problem["detail"].as_str().unwrap_or_default()
    ));
    let (new, _) = feed_change(&app, &token, "TS-LOCK-2", "17:00").await;
    assert_eq!(new, 409);
    // A rejected timesheet in the week cannot be corrected either.
    sqlx::query("UPDATE timesheets SET status = 'rejected' WHERE id = $1")
        .bind(other)
        .execute(&app.state.db().pool)
        .await
        .expect("reject");
    let other_page = format!("/acme/manage/timesheets/{other}");
    let corrected = staff
        .submit(
            &other_page,
            &format!("{other_page}/correct"),
            &[
                ("start_time", "08:00"),
                ("end_time", "12:00"),
                ("note", "fix"),
            ],
        )
        .await;
    assert_eq!(corrected.status, StatusCode::CONFLICT);

    // Only admins unlock; then the timesheet can be decided again.
    let lock_id = crate::portal_support::id(
        &app,
        "acme",
        "SELECT id FROM timesheet_locks WHERE agency_id = $1",
    )
    .await;
    let unlock = format!("/acme/manage/timesheets/locks/{lock_id}/unlock");
    assert_eq!(
        staff.submit(locks, &unlock, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = signed_in_staff(&app, "acme", ADMIN).await;
    assert_eq!(
        admin.submit(locks, &unlock, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let approve = david
        .submit(&portal, &format!("{portal}/approve"), &[])
        .await;
    assert_eq!(approve.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, fed).await, "approved");

    // A lock for every client, over the API, covers any client's week.
    let (made, lock) = send(
        &app,
        "POST",
        "/api/v1/acme/timesheet-locks",
        &token,
        Some(json!({ "week": "2026-11-04" })),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(lock["client_id"], Value::Null);
    let (refused, _) = feed_change(&app, &token, "TS-LOCK-3", "12:00").await;
    assert_eq!(refused, 409);
}

#[tokio::test]
async fn a_work_request_moves_through_its_lifecycle_and_the_client_follows_every_step() {
    let app = demo_app().await;
    let agency = app.agency_id("acme");
    let id = scalar(
        &app,
        "SELECT MIN(r.id) FROM work_requests r JOIN portal_users u ON u.id = r.portal_user_id \
         WHERE r.agency_id = $1 AND r.status = 'new' AND u.email = 'david@northwind.example'",
        agency,
    )
    .await;
    let page = format!("/acme/manage/work-requests/{id}");
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let list = staff.get("/acme/manage/work-requests").await;
    assert!(list.body.contains(&format!("{page}\"")), "{}", list.body);
    let shown = staff.get(&page).await;
    assert_eq!(shown.status, StatusCode::OK);

    let reply = format!("{page}/reply");
    for (fields, message) in [
        (
            vec![("status", "scheduled"), ("message", "")],
            "Enter the date it is scheduled for",
        ),
        (
            vec![("status", "declined"), ("message", " ")],
            "Say why the request is declined",
        ),
        (
            vec![("status", ""), ("message", "")],
            "Write a reply or choose a new status",
        ),
        (
            vec![("status", "new"), ("message", "back")],
            "Choose acknowledged, scheduled",
        ),
    ] {
        let refused = staff.submit(&page, &reply, &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        assert!(
            refused.body.contains(message),
            "{message}: {}",
            refused.body
        );
    }
    let message = "Two pickers booked for Saturday from 08:00.";
    let booked = staff
        .submit(
            &page,
            &reply,
            &[
                ("status", "scheduled"),
                ("scheduled_for", "2027-01-09"),
                ("message", message),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert_eq!(
        text(
            &app,
            "SELECT status || ' ' || scheduled_for FROM work_requests WHERE id = $1",
            id
        )
        .await
        .as_deref(),
        Some("scheduled 2027-01-09")
    );
    // The client was emailed, with a link to the request in the portal.
    let mail = app.outbox_for("david@northwind.example").await;
    let (_, subject, body) = mail
        .iter()
        .find(|(template, _, _)| template == "work-request-updated")
        .expect("the client is told");
    assert!(subject.contains("scheduled"), "{subject}");
    assert!(body.contains(message) && body.contains(&format!("/acme/portal/work-requests/{id}")));

    // An internal note stays inside the agency.
    let secret = "Client is slow to pay; ask for a deposit.";
    let noted = staff
        .submit(&page, &format!("{page}/note"), &[("note", secret)])
        .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER);
    assert!(staff.get(&page).await.body.contains(secret));
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let portal = david.get(&format!("/acme/portal/work-requests/{id}")).await;
    assert!(portal.body.contains(message) && portal.body.contains("scheduled"));
    assert!(
        !portal.body.contains(secret),
        "an internal note reached the client"
    );
    let mail = app.outbox_for("david@northwind.example").await;
    assert!(mail.iter().all(|(_, _, body)| !body.contains(secret)));

    // Assigned to a team member of this agency only.
    let jamie = scalar(
        &app,
        "SELECT id FROM staff_users WHERE agency_id = $1 AND email = 'recruiter@acme-staffing.example'",
        agency,
    )
    .await;
    let outsider = scalar(
        &app,
        "SELECT MIN(id) FROM staff_users WHERE agency_id <> $1",
        agency,
    )
    .await;
    let assign = format!("{page}/assign");
    let refused = staff
        .submit(&page, &assign, &[("assigned_to", &outsider.to_string())])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut admin = signed_in_staff(&app, "acme", ADMIN).await;
    let assigned = admin
        .submit(&page, &assign, &[("assigned_to", &jamie.to_string())])
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    // The assignee is told, with the link; nobody is told when they take it themselves.
    let told = app.outbox_for(STAFF).await;
    let (_, subject, body) = told
        .iter()
        .find(|(template, _, _)| template == "work-request-assigned")
        .expect("the assignee is told");
    assert!(
        subject.starts_with("Assigned to you:") && body.contains(&page),
        "{body}"
    );
    let admin_id = scalar(
        &app,
        "SELECT id FROM staff_users WHERE agency_id = $1 AND email = 'admin@acme-staffing.example'",
        agency,
    )
    .await;
    admin
        .submit(&page, &assign, &[("assigned_to", &admin_id.to_string())])
        .await;
    assert!(
        app.outbox_for(ADMIN)
            .await
            .iter()
            .all(|(template, _, _)| template != "work-request-assigned"),
        "no email for taking a request oneself"
    );
    admin
        .submit(&page, &assign, &[("assigned_to", &jamie.to_string())])
        .await;
    let mine = staff
        .get(&format!("/acme/manage/work-requests?assigned={jamie}"))
        .await;
    assert!(mine.body.contains(&format!("{page}\"")));

    // The client answers in the portal; the assignee hears of it with a link to the request.
    let portal_page = format!("/acme/portal/work-requests/{id}");
    let comment = format!("{portal_page}/comment");
    let empty = david
        .submit(&portal_page, &comment, &[("message", "  ")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Enter the comment."), "{}", empty.body);
    let question = "Can they start at 07:00 instead?";
    let sent = david
        .submit(&portal_page, &comment, &[("message", question)])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(staff.get(&page).await.body.contains(question));
    let told = app.outbox_for(STAFF).await;
    let (_, _, body) = told
        .iter()
        .find(|(template, _, _)| template == "work-request-comment")
        .expect("the assignee is told");
    assert!(body.contains(question) && body.contains(&page), "{body}");
    // A request the client may not see takes no comment.
    let other_client = scalar(
        &app,
        "SELECT MIN(r.id) FROM work_requests r JOIN clients c ON c.id = r.client_id \
         WHERE r.agency_id = $1 AND c.name <> 'Northwind Manufacturing'",
        agency,
    )
    .await;
    let foreign = format!("/acme/portal/work-requests/{other_client}/comment");
    let refused = david
        .submit(&portal_page, &foreign, &[("message", "hello")])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // Done over the API; the changes feed carries the new status and the notes flagged.
    let token = token(&app, "acme").await;
    let (done, body) = send(
        &app,
        "POST",
        &format!("/api/v1/acme/work-requests/{id}/reply"),
        &token,
        Some(json!({ "status": "done", "message": "Both shifts covered." })),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(body["status"], "done");
    assert!(
        body["updates"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["internal"] == true))
    );
    settle(&app, "work_requests", id).await;
    let (_, changes) = send(&app, "GET", "/api/v1/acme/work-requests", &token, None).await;
    let row = changes["work_requests"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(row["status"], "done");
    assert_eq!(row["assigned_to"], STAFF);
    let audit = app.audit_actions("acme").await;
    for action in [
        "work_request.replied",
        "work_request.noted",
        "work_request.assigned",
        "work_request.commented",
    ] {
        assert!(audit.contains(&action.to_owned()), "{action}");
    }
}

#[tokio::test]
async fn the_new_work_request_email_opens_the_request_for_staff() {
    let app = demo_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let filed = david
        .submit(
            "/acme/portal/work-requests/new",
            "/acme/portal/work-requests",
            &[
                ("title", "Cover for a sick day"),
                ("description", "One picker tomorrow."),
                ("urgency", "urgent"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let id = scalar(
        &app,
        "SELECT MAX(id) FROM work_requests WHERE agency_id = $1",
        app.agency_id("acme"),
    )
    .await;
    let mail = app.outbox_for(ADMIN).await;
    let (_, _, body) = mail
        .iter()
        .find(|(template, _, _)| template == "work-request-created")
        .expect("the team is told");
    let link = format!("/acme/manage/work-requests/{id}");
    assert!(body.contains(&link), "{body}");
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let opened = staff.get(&link).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.body.contains("Cover for a sick day"));
    // Urgent requests lead the open list.
    let list = staff.get("/acme/manage/work-requests").await;
    let first_link = list
        .body
        .find("/acme/manage/work-requests/")
        .unwrap_or(usize::MAX);
    assert_eq!(
        list.body.get(first_link..first_link + link.len()),
        Some(link.as_str())
    );
}

#[tokio::test]
async fn each_agency_sees_only_its_own_workspace() {
    let app = demo_app().await;
    let timesheet = pending_of(&app, "acme", "Northwind Manufacturing").await[0];
    let request = scalar(
        &app,
        "SELECT MIN(id) FROM work_requests WHERE agency_id = $1",
        app.agency_id("acme"),
    )
    .await;
    let mut other = signed_in_staff(&app, "brightfix", "admin@brightfix.example").await;
    for path in [
        format!("/brightfix/manage/timesheets/{timesheet}"),
        format!("/brightfix/manage/work-requests/{request}"),
    ] {
        assert_eq!(
            other.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let list = other.get("/brightfix/manage/timesheets").await;
    assert!(!list.body.contains("Northwind"));
    let token = token(&app, "brightfix").await;
    for (method, path, body) in [
        (
            "GET",
            format!("/api/v1/brightfix/timesheets/{timesheet}"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/brightfix/timesheets/{timesheet}/decide"),
            Some(json!({ "status": "approved", "note": "phone" })),
        ),
        (
            "GET",
            format!("/api/v1/brightfix/work-requests/{request}"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/brightfix/work-requests/{request}/notes"),
            Some(json!({ "note": "x" })),
        ),
    ] {
        let (answer, _) = send(&app, method, &path, &token, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Another agency's token is refused on this agency's paths.
    let (answer, _) = send(&app, "GET", "/api/v1/acme/attention", &token, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, timesheet).await, "pending");
    // The on-site page and API list only this agency's people.
    let (answer, body) = send(&app, "GET", "/api/v1/brightfix/on-site", &token, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!body.to_string().contains("Northwind"));
    let page = other.get("/brightfix/manage/on-site").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Northwind"));
}

#[tokio::test]
async fn staff_share_a_document_with_a_client_and_withdraw_it() {
    let app = demo_app().await;
    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    let page = format!("/acme/manage/clients/{northwind}");
    let action = format!("{page}/documents");
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let form_token = crate::support::csrf_token(&staff.get(&page).await.body);
    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    // Each refusal names the field and keeps nothing.
    for (title, file, message) in [
        ("", ("rota.pdf", "application/pdf", pdf), "Enter the title."),
        (
            "Rota",
            (
                "setup.exe",
                "application/x-msdownload",
                b"MZ\x90\x00".as_slice(),
            ),
            "Share a PDF",
        ),
        (
            "Rota",
            (
                "rota.pdf",
                "application/pdf",
                b"<html>not a pdf</html>".as_slice(),
            ),
            "is not the kind of file its name says",
        ),
        (
            "Rota",
            ("notes.txt", "text/plain", big.as_slice()),
            "The file is 10.0 MB; files of at most 10 MB are shared.",
        ),
        (
            "Rota",
            ("empty.pdf", "application/pdf", b"".as_slice()),
            "The file is empty.",
        ),
    ] {
        let refused = staff
            .post_multipart(
                &action,
                &[("csrf_token", &form_token), ("title", title)],
                &[("file", file.0, file.1, file.2)],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        assert!(
            refused.body.contains(message),
            "{message}: {}",
            refused.body
        );
    }
    // Without the form token the upload is refused before it is read.
    let forged = staff
        .post_multipart(
            &action,
            &[("title", "Rota")],
            &[("file", "rota.pdf", "application/pdf", pdf)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let count = || {
        scalar(
            &app,
            "SELECT COUNT(*) FROM documents WHERE client_id = $1",
            northwind,
        )
    };
    let before = count().await;

    // A browser that names no type: the name's extension tells.
    let shared = staff
        .post_multipart(
            &action,
            &[("csrf_token", &form_token), ("title", "December rota")],
            &[(
                "file",
                "C:\\fakepath\\rota-dec.pdf",
                "application/octet-stream",
                pdf,
            )],
        )
        .await;
    assert_eq!(shared.status, StatusCode::SEE_OTHER, "{}", shared.body);
    assert_eq!(count().await, before + 1);
    let id = scalar(
        &app,
        "SELECT MAX(id) FROM documents WHERE client_id = $1",
        northwind,
    )
    .await;
    assert_eq!(
        text(
            &app,
            "SELECT file_name || ' ' || mime_type FROM documents WHERE id = $1",
            id
        )
        .await
        .as_deref(),
        Some("rota-dec.pdf application/pdf")
    );
    let client_page = staff.get(&page).await;
    assert!(client_page.body.contains("December rota"));
    // The page also shows what the client sees of its invoices.
    let invoice: Option<String> = text(
        &app,
        "SELECT MIN(number) FROM invoices WHERE client_id = $1 AND status <> 'void'",
        northwind,
    )
    .await;
    assert!(client_page.body.contains(&invoice.unwrap_or_default()));
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"document.shared".to_owned())
    );

    // The client's portal user sees and downloads it; another client's does not.
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    assert!(
        david
            .get("/acme/portal/documents")
            .await
            .body
            .contains("December rota")
    );
    let file = david
        .get(&format!("/acme/portal/documents/{id}/download"))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.as_bytes(), pdf);
    let mut other = signed_in_staff(&app, "brightfix", "admin@brightfix.example").await;
    let foreign = other
        .get(&format!(
            "/brightfix/manage/clients/{northwind}/documents/{id}"
        ))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // The API lists it; another agency's token does not reach it.
    let api_token = token(&app, "acme").await;
    let listed = format!("/api/v1/acme/clients/{northwind}/documents");
    let (answer, body) = send(&app, "GET", &listed, &api_token, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        body["documents"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["id"] == id))
    );
    let foreign_token = crate::api_clients::token(&app, "brightfix").await;
    let (answer, _) = send(
        &app,
        "DELETE",
        &format!("/api/v1/brightfix/clients/{northwind}/documents/{id}"),
        &foreign_token,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    // Withdrawn: gone from the portal at once.
    let withdraw = format!("{page}/documents/{id}/withdraw");
    let gone = staff.submit(&page, &withdraw, &[]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    let after = david
        .get(&format!("/acme/portal/documents/{id}/download"))
        .await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"document.withdrawn".to_owned())
    );
}

#[tokio::test]
async fn staff_export_the_list_they_see_with_pay_and_margin() {
    let app = demo_app().await;
    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    let mut staff = signed_in_staff(&app, "acme", STAFF).await;
    let list = staff
        .get(&format!("/acme/manage/timesheets?client={northwind}"))
        .await;
    assert!(
        list.body.contains("/acme/manage/timesheets/export"),
        "an export form"
    );
    let csv = staff
        .get(&format!(
            "/acme/manage/timesheets/export?format=csv&client={northwind}"
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let mut lines = csv.body.lines();
    let header = lines.next().unwrap_or_default();
    for column in [
        "Date",
        "Client",
        "Worker",
        "Hours",
        "Pay rate",
        "Margin",
        "Decided by",
    ] {
        assert!(header.contains(column), "{column} in {header}");
    }
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let expected = scalar(
        &app,
        "SELECT COUNT(*) FROM timesheets WHERE client_id = $1",
        northwind,
    )
    .await;
    assert_eq!(rows.len() as i64, expected);
    assert!(rows.iter().all(|r| r.contains("Northwind Manufacturing")));
    // A format the agency does not have is a 404; the portal's users never reach it.
    let unknown = staff.get("/acme/manage/timesheets/export?format=pdf").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let refused = david.get("/acme/manage/timesheets/export?format=csv").await;
    assert!(!refused.status.is_success(), "{}", refused.status);
    assert!(!refused.body.contains("Pay rate"));
}

#[tokio::test]
async fn a_large_agency_lists_in_date_order_beyond_ten_thousand_and_the_home_lists_the_neediest() {
    use portal_server::db::staff_users::StaffRole;
    use portal_server::demo::large;
    let app = TestApp::spawn().await;
    let agency = app.agency_id("acme");
    let db = app.state.db();
    let clients = large::clients_with_sites(db, agency, 30, |n| format!("Client {n:02}"))
        .await
        .expect("clients");
    let first_worker = large::workers_named(db, agency, 20).await.expect("workers");
    let sheets = large::Timesheets {
        count: 10_050,
        days: 28,
        first_worker,
        workers: 20,
    };
    large::timesheets(db, agency, &clients, &sheets, || {})
        .await
        .expect("timesheets");
    // One invitation nobody accepted for eight days, one sent today.
    for (email, days) in [("old@client.example", 8), ("new@client.example", 0)] {
        let user = app
            .portal_user("acme", email, None, clients[0].id, false)
            .await;
        sqlx::query("UPDATE portal_users SET status = 'invited', created_at = $1 WHERE id = $2")
            .bind(time::OffsetDateTime::now_utc().unix_timestamp() - days * 86_400)
            .bind(user)
            .execute(&db.pool)
            .await
            .expect("invited");
    }
    app.staff(
        "acme",
        "lead@acme.example",
        crate::clients::PASSWORD,
        StaffRole::Admin,
    )
    .await;
    let mut staff = app.browser();
    staff
        .sign_in(
            "acme",
            "manage",
            "lead@acme.example",
            crate::clients::PASSWORD,
        )
        .await;

    // Over every client: more than 10,000 match, so the order stays by date and says so.
    let all = staff
        .get("/acme/manage/timesheets?sort=client&dir=asc")
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body
            .contains("Sorting by client takes a list of at most 10000"),
        "{}",
        all.body
    );
    assert!(all.body.contains("More than 10000 timesheets match"));
    assert!(
        all.body
            .contains("Narrow the list to at most 10000 timesheets to export it.")
    );
    let refused = staff.get("/acme/manage/timesheets/export?format=csv").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // The last week waits for approval: a few thousand, sorted by client as asked.
    let pending = staff
        .get("/acme/manage/timesheets?status=pending&sort=client&dir=asc")
        .await;
    assert!(!pending.body.contains("Sorting by client takes"));
    let first_row = pending
        .body
        .find("data-label=\"Client\">")
        .unwrap_or_default();
    assert!(
        pending.body[first_row..].starts_with("data-label=\"Client\">Client 00<"),
        "{}",
        &pending.body[first_row..first_row + 80]
    );

    // The home lists the 25 clients most in need and counts the rest.
    let home = staff.get("/acme/manage").await;
    assert_eq!(
        home.body
            .matches("<th scope=\"row\" data-label=\"Client\">")
            .count(),
        25
    );
    assert!(
        home.body.contains("5 more clients have something waiting"),
        "{}",
        home.body
    );
    let token = token(&app, "acme").await;
    let (_, attention) = send(&app, "GET", "/api/v1/acme/attention", &token, None).await;
    assert_eq!(attention["clients_waiting"], 30);
    assert_eq!(attention["stale_invitations"], 1);
}

#[tokio::test]
async fn a_field_service_request_becomes_a_job_the_client_sees() {
    let app = demo_app().await;
    let agency = app.agency_id("brightfix");
    let id = scalar(
        &app,
        "SELECT MIN(r.id) FROM work_requests r JOIN portal_users u ON u.id = r.portal_user_id \
         WHERE r.agency_id = $1 AND u.email = 'laura@oakridge.example'",
        agency,
    )
    .await;
    let page = format!("/brightfix/manage/work-requests/{id}");
    let action = format!("{page}/job");
    let mut staff = signed_in_staff(&app, "brightfix", "admin@brightfix.example").await;
    let taken: String = text(
        &app,
        "SELECT MIN(number) FROM jobs WHERE agency_id = $1",
        agency,
    )
    .await
    .unwrap_or_default();
    for (fields, message) in [
        (
            [("number", ""), ("scheduled_on", "2027-01-12")],
            "Enter the job number.",
        ),
        (
            [("number", taken.as_str()), ("scheduled_on", "2027-01-12")],
            "Another job already has this number.",
        ),
        (
            [("number", "JOB-9001"), ("scheduled_on", "soon")],
            "Enter the day of the job",
        ),
    ] {
        let refused = staff.submit(&page, &action, &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        assert!(refused.body.contains(message), "{message}");
    }
    let made = staff
        .submit(
            &page,
            &action,
            &[("number", "JOB-9001"), ("scheduled_on", "2027-01-12")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(
        text(
            &app,
            "SELECT status || ' ' || scheduled_for FROM work_requests WHERE id = $1",
            id
        )
        .await
        .as_deref(),
        Some("scheduled 2027-01-12")
    );
    let mut laura = signed_in(&app, "brightfix", "laura@oakridge.example").await;
    let jobs = laura.get("/brightfix/portal/jobs").await;
    assert!(jobs.body.contains("JOB-9001"), "{}", jobs.body);
    let request = laura
        .get(&format!("/brightfix/portal/work-requests/{id}"))
        .await;
    assert!(
        request
            .body
            .contains("Job JOB-9001 is scheduled for 2027-01-12")
    );
    // Over the API as well, with the same checks.
    let token = token(&app, "brightfix").await;
    let path = format!("/api/v1/brightfix/work-requests/{id}/job");
    let (dup, problem) = send(
        &app,
        "POST",
        &path,
        &token,
        Some(json!({ "number": "JOB-9001", "scheduled_on": "2027-01-13" })),
    )
    .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["number"],
        "Another job already has this number."
    );
    let (made, body) = send(
        &app,
        "POST",
        &path,
        &token,
        Some(json!({ "number": "JOB-9002", "scheduled_on": "2027-01-13" })),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert!(body["job_id"].as_i64().is_some());
    let mail = app.outbox_for("laura@oakridge.example").await;
    assert!(
        mail.iter()
            .any(|(template, _, body)| template == "work-request-updated"
                && body.contains("JOB-9001"))
    );
}
