//! A notification plugin that fails in any way (panics, runs out of memory or time, prints
//! past its budget, reports an error, or answers with what it may not ask for) costs nothing
//! but its own notifications: the client's work request is saved, the request is answered,
//! the failure is counted, and nothing it should not send reaches the outbox.

use axum::http::StatusCode;
use portal_server::config::{AgencyConfig, Settings};

use crate::portal_support::{signed_in, signed_in_staff};
use crate::support::{TestApp, repo_root};

/// The demo agencies, each changed by `agency` (given its slug), with the hostile fixtures
/// among the plugin folders and `settings` applied; demo data seeded.
async fn hostile_app(
    agency: impl Fn(&str, &mut AgencyConfig),
    settings: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut agencies = TestApp::demo_agencies();
    for (slug, config) in &mut agencies {
        agency(slug, config);
    }
    let app = TestApp::with_agencies_adjusted(agencies, |all| {
        all.paths
            .plugins
            .push(repo_root().join("target/plugins/hostile"));
        settings(all);
    })
    .await;
    portal_server::demo::seed(&app.state, portal_server::demo::Scale::Demo)
        .await
        .expect("seed");
    app
}

/// Acme, with the hostile fixture as its notification rules.
async fn hostile_notifications_app() -> TestApp {
    hostile_app(
        |slug, agency| {
            if slug == "acme" {
                agency.plugins.notifications = vec!["hostile".into()];
            }
        },
        |settings| settings.plugins.max_recipients_per_event = 25,
    )
    .await
}

/// Both demo agencies with the hostile fixture as their role set.
async fn hostile_roles_app() -> TestApp {
    hostile_app(
        |_, agency| agency.plugins.role_set = "hostile".into(),
        |_| {},
    )
    .await
}

/// Acme's kept plugin failures, newest first, once there are at least `count` (they are
/// written off the request path), or after five seconds.
async fn kept_failures(
    app: &TestApp,
    count: usize,
) -> Vec<portal_server::db::plugin_failures::Failure> {
    let mut kept = Vec::new();
    for _ in 0..100 {
        kept = portal_server::db::plugin_failures::recent(
            &app.state.db().pool,
            app.agency_id("acme"),
            50,
        )
        .await
        .expect("kept failures");
        if kept.len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    kept
}

/// The hostile plugin's (calls, failures) so far.
fn hostile_counters(app: &TestApp) -> (u64, u64) {
    app.state
        .plugins()
        .loaded()
        .iter()
        .find(|p| p.id() == "hostile")
        .map(|p| p.counters.read())
        .expect("hostile is loaded")
}

fn hostile_errors(app: &TestApp) -> u64 {
    hostile_counters(app).1
}

async fn saved_titled(app: &TestApp, title: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM work_requests WHERE agency_id = $1 AND title = $2")
        .bind(app.agency_id("acme"))
        .bind(title)
        .fetch_one(&app.state.db().pool)
        .await
        .expect("count")
}

async fn outbox(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT template, recipient FROM outbox WHERE agency_id = $1")
        .bind(app.agency_id("acme"))
        .fetch_all(&app.state.db().pool)
        .await
        .expect("outbox")
}

#[tokio::test]
async fn every_way_a_notification_plugin_fails_keeps_the_work_request() {
    let app = hostile_notifications_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    // (title the fixture misbehaves by, whether the plugin call itself fails)
    let cases = [
        ("panic", true),
        ("alloc", true),
        ("loop", true),
        ("print", false),
        ("error", true),
        ("unknown-template", false),
        ("many-recipients", false),
        ("bad-addresses", false),
        ("reserved-template", false),
    ];
    for (title, call_fails) in cases {
        let errors_before = hostile_errors(&app);
        let filed = david
            .submit(
                "/acme/portal/work-requests/new",
                "/acme/portal/work-requests",
                &[
                    ("title", title),
                    ("description", "Filed while the plugin misbehaves."),
                    ("urgency", "normal"),
                ],
            )
            .await;
        assert_eq!(
            filed.status,
            StatusCode::SEE_OTHER,
            "{title}: {}",
            filed.body
        );
        assert_eq!(saved_titled(&app, title).await, 1, "{title}: request saved");
        let errors = hostile_errors(&app) - errors_before;
        assert_eq!(errors, u64::from(call_fails), "{title}: failures counted");
    }

    let queued = outbox(&app).await;
    assert!(
        queued
            .iter()
            .all(|(template, _)| template == "work-request-created"),
        "only notification templates: {queued:?}"
    );
    assert!(
        !queued.iter().any(|(_, to)| to.contains("victim")
            || to.contains('\r')
            || to.contains('\n')
            || !to.contains('@')),
        "no injected, empty or forged address: {queued:?}"
    );
    let flooded = queued
        .iter()
        .filter(|(_, to)| to.ends_with("@elsewhere.example"))
        .count();
    assert_eq!(flooded, 25, "recipients are capped per event");

    // The portal still answers, and the failures did not poison the next request.
    let list = david.get("/acme/portal/work-requests").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("reserved-template"));

    // Each failed call is kept with the event it was given, for `portal plugin replay`.
    let failing = cases.iter().filter(|(_, fails)| *fails).count();
    let kept = kept_failures(&app, failing).await;
    assert_eq!(kept.len(), failing, "{kept:?}");
    for failure in &kept {
        assert_eq!(
            (failure.plugin_id.as_str(), failure.hook.as_str()),
            ("hostile", "on-event")
        );
        let input: serde_json::Value =
            serde_json::from_str(failure.input.as_deref().expect("input kept")).expect("JSON");
        assert_eq!(input["hook"], "on-event");
        assert_eq!(input["kind"], "work-request-created");
        assert_eq!(input["agency"][0], "acme");
        assert_eq!(input["actor"]["email"], "david@northwind.example");
        let title = input["fields"]
            .as_array()
            .and_then(|fields| fields.iter().find(|f| f[0] == "title"))
            .map(|f| f[1].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(
            ["panic", "alloc", "loop", "error"].contains(&title.as_str()),
            "{title}: {}",
            failure.cause
        );
    }
    let page = signed_in_staff(&app, "acme", "admin@acme-staffing.example")
        .await
        .get("/acme/manage/plugins")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            "portal plugin replay --agency acme --plugin hostile --id {}",
            kept[0].id
        )),
        "{}",
        page.body
    );
}

/// The plugins are asked about a work request only once it is saved: while the notification
/// plugin runs (here, until its deadline), the request is already visible to every other
/// connection, so no transaction or write lock waits on a plugin.
#[tokio::test]
async fn a_work_request_is_committed_before_any_plugin_is_asked() {
    let app = hostile_notifications_app().await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let form = david.get("/acme/portal/work-requests/new").await;
    let token = crate::support::csrf_token(&form.body);
    let (calls_before, _) = hostile_counters(&app);
    let fields = [
        ("title", "loop"),
        ("description", "Filed while the plugin spins."),
        ("urgency", "normal"),
        ("csrf_token", &token),
    ];
    let filing = david.post("/acme/portal/work-requests", &fields);
    let watching = async {
        while hostile_counters(&app).0 == calls_before {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        // The plugin is running now.
        saved_titled(&app, "loop").await
    };
    let (filed, seen_while_asking) = tokio::join!(filing, watching);
    assert_eq!(filed.status, StatusCode::SEE_OTHER);
    assert_eq!(seen_while_asking, 1, "saved before the plugin was asked");
}

/// A role whose `view-timesheets` is dynamic sees a timesheet only as `authorize` allows it,
/// in the list and on its page, and a failing `authorize` hides the row (fails closed).
#[tokio::test]
async fn a_dynamic_view_permission_is_asked_for_every_row_shown_and_fails_closed() {
    let app = hostile_roles_app().await;
    let pool = &app.state.db().pool;
    sqlx::query(
        "UPDATE portal_users SET role_id = 'watcher' WHERE email = 'david@northwind.example'",
    )
    .execute(pool)
    .await
    .expect("role");
    let mut by_status = Vec::new();
    for status in ["pending", "approved", "rejected"] {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM timesheets t JOIN clients c ON c.id = t.client_id \
             WHERE c.name = 'Northwind Manufacturing' AND t.status = $1",
        )
        .bind(status)
        .fetch_all(pool)
        .await
        .expect("ids");
        by_status.push(ids);
    }
    let [pending, approved, rejected] = <[Vec<i64>; 3]>::try_from(by_status).expect("three");
    assert!(!pending.is_empty() && !approved.is_empty() && !rejected.is_empty());
    let errors_before = hostile_errors(&app);

    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let list = david.get("/acme/portal/timesheets?status=").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let shown = |id: i64| {
        list.body
            .contains(&format!("/acme/portal/timesheets/{id}\""))
    };
    assert!(
        pending.iter().any(|id| shown(*id)),
        "allowed rows are shown"
    );
    assert!(
        !approved.iter().any(|id| shown(*id)),
        "a failed check hides the row"
    );
    assert!(
        !rejected.iter().any(|id| shown(*id)),
        "a denied row is left out"
    );
    assert!(
        hostile_errors(&app) > errors_before,
        "the failures are counted"
    );
    // The count and the pages are of the rows the rule allows.
    let allowed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM timesheets WHERE status = 'pending' AND client_id IN \
         (SELECT l.client_id FROM portal_user_clients l JOIN portal_users u \
          ON u.id = l.portal_user_id WHERE u.email = 'david@northwind.example')",
    )
    .fetch_one(pool)
    .await
    .expect("count");
    assert!(
        list.body.contains(&format!(" of {allowed}</p>")),
        "the list counts {allowed} allowed rows"
    );

    for (id, status) in [
        (pending[0], StatusCode::OK),
        (approved[0], StatusCode::NOT_FOUND),
        (rejected[0], StatusCode::NOT_FOUND),
    ] {
        let page = david.get(&format!("/acme/portal/timesheets/{id}")).await;
        assert_eq!(page.status, status, "timesheet {id}");
    }
}

/// Every permission that gates a page, made dynamic: a rule that allows shows what the static
/// role would, and a rule that fails shows nothing — no row in any list, a 404 for every
/// record, the whole-client pages refused, no summed figure on the dashboard.
#[tokio::test]
async fn every_dynamic_view_permission_fails_closed_on_every_page() {
    let app = hostile_roles_app().await;
    // (list page, what a record's link starts with)
    let lists = [
        ("timesheets?status=", "timesheets/"),
        ("invoices", "invoices/"),
        ("documents", "documents/"),
        ("work-requests", "work-requests/"),
        ("jobs", "jobs/"),
        ("quotes", "quotes/"),
    ];
    let mut kinds_with_records = std::collections::BTreeSet::new();
    for (agency, email) in [
        ("acme", "david@northwind.example"),
        ("brightfix", "laura@oakridge.example"),
    ] {
        let as_role = |role: &'static str| {
            let app = &app;
            async move {
                sqlx::query("UPDATE portal_users SET role_id = $1 WHERE email = $2")
                    .bind(role)
                    .bind(email)
                    .execute(&app.state.db().pool)
                    .await
                    .expect("role");
                signed_in(app, agency, email).await
            }
        };
        let mut ruled = as_role("ruled").await;
        let mut records = Vec::new();
        for (list, link) in lists {
            let page = ruled.get(&format!("/{agency}/portal/{list}")).await;
            assert_eq!(page.status, StatusCode::OK, "{agency} {list}");
            let prefix = format!("href=\"/{agency}/portal/{link}");
            let ids: Vec<String> = page
                .body
                .split(&prefix)
                .skip(1)
                .filter_map(|rest| {
                    let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    (!id.is_empty()).then_some(id)
                })
                .collect();
            if let Some(first) = ids.first() {
                kinds_with_records.insert(link);
                let detail = if link == "documents/" {
                    format!("/{agency}/portal/documents/{first}/download")
                } else {
                    format!("/{agency}/portal/{link}{first}")
                };
                assert_eq!(ruled.get(&detail).await.status, StatusCode::OK, "{detail}");
                records.push((list, prefix, detail));
            }
        }
        for page in ["reports", "on-site", "on-site/fire-roll"] {
            let shown = ruled.get(&format!("/{agency}/portal/{page}")).await;
            assert_eq!(shown.status, StatusCode::OK, "{agency} {page}");
        }
        let errors_before = hostile_errors(&app);
        let mut sealed = as_role("sealed").await;
        for (list, prefix, detail) in &records {
            let page = sealed.get(&format!("/{agency}/portal/{list}")).await;
            assert_eq!(page.status, StatusCode::OK, "{agency} {list}");
            assert!(
                !page.body.contains(prefix.as_str()),
                "{agency} {list} shows a row"
            );
            assert_eq!(
                sealed.get(detail).await.status,
                StatusCode::NOT_FOUND,
                "{detail}"
            );
        }
        for page in ["reports", "on-site", "on-site/fire-roll"] {
            let refused = sealed.get(&format!("/{agency}/portal/{page}")).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{agency} {page}");
        }
        let home = sealed.get(&format!("/{agency}/portal")).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            !home
                .body
                .contains(&format!("href=\"/{agency}/portal/invoices/")),
            "{agency}: the dashboard lists no invoice"
        );
        assert!(hostile_errors(&app) > errors_before, "failures are counted");
        managing_users_follows_the_rule(&app, agency, email, &mut sealed, &mut ruled).await;
    }
    assert_eq!(
        kinds_with_records.len(),
        lists.len(),
        "every kind of record was tried: {kinds_with_records:?}"
    );
}

/// A dynamic `manage-client-users`: inviting a user and changing one's access are put to the
/// rule (target `portal-user` with the `role`); a failing rule refuses both and changes
/// nothing, an allowing one lets them through.
async fn managing_users_follows_the_rule(
    app: &TestApp,
    agency: &str,
    email: &str,
    sealed: &mut crate::support::Browser<'_>,
    ruled: &mut crate::support::Browser<'_>,
) {
    let pool = &app.state.db().pool;
    let (client, colleague): (i64, i64) = sqlx::query_as(
        "SELECT l.client_id, o.portal_user_id FROM portal_user_clients l \
         JOIN portal_users u ON u.id = l.portal_user_id \
         JOIN portal_user_clients o ON o.client_id = l.client_id AND o.portal_user_id <> u.id \
         JOIN portal_users p ON p.id = o.portal_user_id AND p.all_clients = 0 \
         WHERE u.email = $1 ORDER BY o.portal_user_id LIMIT 1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .expect("a colleague at the same client");
    let form = format!("/{agency}/portal/users/new");
    let company = client.to_string();
    let invite = |address: &'static str| {
        [
            ("email", address),
            ("first_name", "New"),
            ("last_name", "Person"),
            ("role", "ruled"),
            ("company", ""),
        ]
    };
    let mut refused = invite("refused@example.com");
    refused[4].1 = &company;
    let mut allowed = invite("allowed@example.com");
    allowed[4].1 = &company;
    let deactivate = format!("/{agency}/portal/users/{colleague}/deactivate");
    let users = format!("/{agency}/portal/users");

    // The sealed user is signed in last, so the role is theirs now.
    assert_eq!(sealed.get(&users).await.status, StatusCode::OK);
    for answer in [
        sealed.submit(&users, &form, &refused).await,
        sealed.submit(&users, &deactivate, &[]).await,
    ] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{agency}");
        assert!(
            answer
                .body
                .contains(portal_server::plugins::UNAVAILABLE_DENIAL),
            "{agency}: refused by the failing rule, not for another reason"
        );
    }
    let created: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM portal_users WHERE email = 'refused@example.com'")
            .fetch_one(pool)
            .await
            .expect("count");
    assert_eq!(created, 0, "{agency}: nobody invited");
    let status: String = sqlx::query_scalar("SELECT status FROM portal_users WHERE id = $1")
        .bind(colleague)
        .fetch_one(pool)
        .await
        .expect("status");
    assert_ne!(
        status, "deactivated",
        "{agency}: the colleague keeps access"
    );

    sqlx::query("UPDATE portal_users SET role_id = 'ruled' WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .expect("role");
    let answer = ruled.submit(&users, &form, &allowed).await;
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "{agency}: {}",
        answer.body
    );
    let answer = ruled.submit(&users, &deactivate, &[]).await;
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "{agency}: {}",
        answer.body
    );
}

/// The newest failures are kept, at most `KEPT` per agency and plugin; another plugin's and
/// another agency's are untouched.
#[tokio::test]
async fn failures_are_kept_up_to_a_bound_per_plugin() {
    use portal_server::db::plugin_failures::{self, KEPT, NewFailure};
    let app = TestApp::spawn().await;
    let pool = &app.state.db().pool;
    let failure = |agency: &str, plugin: &str, n: i64| NewFailure {
        agency: agency.into(),
        plugin_id: plugin.into(),
        plugin_version: "1.0.0".into(),
        hook: "authorize",
        cause: format!("failure {n}"),
        input: None,
    };
    for n in 0..KEPT + 5 {
        plugin_failures::record(pool, &failure("acme", "flaky", n))
            .await
            .expect("record");
    }
    plugin_failures::record(pool, &failure("acme", "steady", 0))
        .await
        .expect("record");
    plugin_failures::record(pool, &failure("brightfix", "flaky", 0))
        .await
        .expect("record");
    let acme = plugin_failures::recent(pool, app.agency_id("acme"), 1_000)
        .await
        .expect("recent");
    let flaky: Vec<&str> = acme
        .iter()
        .filter(|f| f.plugin_id == "flaky")
        .map(|f| f.cause.as_str())
        .collect();
    assert_eq!(flaky.len() as i64, KEPT);
    assert_eq!(flaky[0], format!("failure {}", KEPT + 4), "newest first");
    assert!(!flaky.contains(&"failure 4"), "the oldest went");
    assert!(acme.iter().any(|f| f.plugin_id == "steady"));
    let brightfix = plugin_failures::recent(pool, app.agency_id("brightfix"), 10)
        .await
        .expect("recent");
    assert_eq!(brightfix.len(), 1);
    let newest = plugin_failures::one(pool, app.agency_id("acme"), "flaky", None)
        .await
        .expect("one")
        .expect("there is one");
    assert_eq!(newest.cause, format!("failure {}", KEPT + 4));
    let by_id = plugin_failures::one(pool, app.agency_id("acme"), "flaky", Some(newest.id - 1))
        .await
        .expect("one")
        .expect("by id");
    assert_eq!(by_id.cause, format!("failure {}", KEPT + 3));
}

/// A failed export is kept with its format, its columns and the rows it failed on, as a case
/// `portal plugin replay` (and `plugin test`) reads.
#[tokio::test]
async fn a_failed_export_is_kept_with_the_rows_it_failed_on() {
    let app = hostile_app(
        |slug, agency| {
            if slug == "acme" {
                agency.plugins.exports.push("hostile".into());
            }
        },
        |settings| settings.plugins.max_export_bytes = 1000,
    )
    .await;
    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    // The download breaks off (the test client's read of the body fails), as a browser sees it.
    let download = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
        david.get("/acme/portal/reports/export?format=flood&group=worker"),
    ))
    .await;
    assert!(download.is_err(), "the download is not whole");
    let kept = kept_failures(&app, 1).await;
    let failure = kept.first().expect("the failed export is kept");
    assert_eq!(failure.hook, "write-batch");
    assert!(
        failure
            .cause
            .contains("output exceeded the limit of 1000 bytes"),
        "{}",
        failure.cause
    );
    let input = failure.input.as_deref().expect("input");
    let case: serde_json::Value = serde_json::from_str(input).expect("JSON");
    assert_eq!(case["hook"], "export");
    assert_eq!(case["format"], "flood");
    assert_eq!(case["columns"][0][0], "group");
    let rows = case["rows"].as_array().expect("rows");
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|row| row.as_array().is_some_and(|r| r.len() == 4))
    );
    serde_json::from_str::<portal_server::plugins::probe::Case>(input).expect("a case");
}

/// Acme's outbox rows (template, recipient, text) for `template`, once at least `count` are
/// there (account events are raised after the change, a self-service reset in a task of its
/// own), or after five seconds.
async fn queued_of(app: &TestApp, template: &str, count: usize) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = sqlx::query_as(
            "SELECT recipient, body_text FROM outbox WHERE agency_id = $1 AND template = $2",
        )
        .bind(app.agency_id("acme"))
        .bind(template)
        .fetch_all(&app.state.db().pool)
        .await
        .expect("outbox");
        if rows.len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    rows
}

/// Every account event (invited, invited again, reset sent by staff, reset asked for,
/// locked out) × the ways the fixture fails: the change is made and its own email sent, a
/// failing plugin costs only its notifications, and the event's single-use link reaches no
/// one but the account's owner — not the staff a plugin names, not the kept failure.
#[tokio::test]
async fn account_events_reach_the_plugins_after_the_change_and_never_cost_it() {
    let app = hostile_app(
        |slug, agency| {
            if slug == "acme" {
                agency.plugins.notifications = vec!["hostile".into()];
            }
        },
        |settings| settings.security.throttle_lock_after = 3,
    )
    .await;
    let mut admin = signed_in_staff(&app, "acme", "admin@acme-staffing.example").await;
    let northwind = crate::portal_support::client_id(&app, "acme", "Northwind Manufacturing")
        .await
        .to_string();
    // (the fixture's cue, whether its call fails)
    let cases = [
        ("panic", true),
        ("error", true),
        ("print", false),
        ("leak", false),
    ];
    let calls_per_case = 4;
    let errors_before = hostile_errors(&app);
    for (cue, _) in cases {
        let email = format!("{cue}@northwind.example");
        let invited = admin
            .submit(
                "/acme/manage/portal-users/new",
                "/acme/manage/portal-users/new",
                &[
                    ("first_name", cue),
                    ("last_name", "Tester"),
                    ("email", &email),
                    ("role", "customer-supervisor"),
                    ("company", &northwind),
                    ("mode", "invite"),
                ],
            )
            .await;
        assert_eq!(
            invited.status,
            StatusCode::SEE_OTHER,
            "{cue}: {}",
            invited.body
        );
        let id: i64 = sqlx::query_scalar("SELECT id FROM portal_users WHERE email = $1")
            .bind(&email)
            .fetch_one(&app.state.db().pool)
            .await
            .expect("the user is created");
        let resent = admin
            .submit(
                &format!("/acme/manage/portal-users/{id}"),
                &format!("/acme/manage/portal-users/{id}/resend"),
                &[],
            )
            .await;
        assert_eq!(
            resent.status,
            StatusCode::SEE_OTHER,
            "{cue}: {}",
            resent.body
        );
        let reset = admin
            .submit(
                &format!("/acme/manage/portal-users/{id}"),
                &format!("/acme/manage/portal-users/{id}/reset-link"),
                &[],
            )
            .await;
        assert_eq!(reset.status, StatusCode::SEE_OTHER, "{cue}: {}", reset.body);
        let asked = app
            .browser()
            .submit(
                "/acme/portal/forgot-password",
                "/acme/portal/forgot-password",
                &[("email", &email)],
            )
            .await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{cue}");
        let own: Vec<String> = app
            .outbox_for(&email)
            .await
            .into_iter()
            .map(|(template, _, _)| template)
            .collect();
        assert_eq!(
            own.iter().filter(|t| *t == "invite").count(),
            2,
            "{cue}: the invitation and its resend went out: {own:?}"
        );
        assert!(own.contains(&"password-reset".to_owned()), "{cue}: {own:?}");
    }
    // The self-service resets run in tasks of their own: wait for them.
    assert_eq!(
        queued_of(&app, "password-reset", 2 * cases.len())
            .await
            .len(),
        2 * cases.len()
    );

    // A locked account is an event too (subject: the locked-out user).
    let mut guesser = app.browser();
    for _ in 0..3 {
        guesser
            .sign_in(
                "acme",
                "portal",
                "david@northwind.example",
                "not-the-password",
            )
            .await;
    }
    assert!(
        app.outbox_for("david@northwind.example")
            .await
            .iter()
            .any(|(template, _, _)| template == "lockout"),
        "the owner is told of the lockout"
    );

    // Each failing case failed once per event: an invitation, a resend and two resets.
    let failing = cases.iter().filter(|(_, fails)| *fails).count();
    let expected = u64::try_from(failing * calls_per_case).unwrap_or_default();
    for _ in 0..100 {
        if hostile_errors(&app) - errors_before >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(hostile_errors(&app) - errors_before, expected);

    // What the fixture tried to leak reached its owner only: no staff address got an
    // account-activity email, and the leak user got one per event carrying a link.
    let activity = queued_of(&app, "account-activity", calls_per_case).await;
    assert!(
        activity
            .iter()
            .all(|(to, _)| to == "leak@northwind.example"),
        "{activity:?}"
    );
    assert_eq!(activity.len(), calls_per_case, "{activity:?}");
    let staff: Vec<String> = sqlx::query_scalar("SELECT email FROM staff_users")
        .fetch_all(&app.state.db().pool)
        .await
        .expect("staff");
    for address in &staff {
        for (template, _, body) in app.outbox_for(address).await {
            assert!(
                !body.contains("token=") && !body.contains("/invite"),
                "{address} got a link in {template}: {body}"
            );
        }
    }

    // Kept failures carry the event, its single-use link redacted.
    let kept = kept_failures(&app, failing * calls_per_case).await;
    let account_kinds = ["portal-user-invited", "password-reset"];
    let mut seen = 0;
    for failure in &kept {
        let input: serde_json::Value =
            serde_json::from_str(failure.input.as_deref().expect("input kept")).expect("JSON");
        if !account_kinds.contains(&input["kind"].as_str().unwrap_or_default()) {
            continue;
        }
        seen += 1;
        let fields = input["fields"].as_array().cloned().unwrap_or_default();
        let link = fields
            .iter()
            .find(|f| f[0] == "invite-url" || f[0] == "reset-url")
            .map(|f| f[1].clone());
        assert_eq!(link, Some(serde_json::json!("[redacted]")), "{input}");
        assert!(input["subject"]["email"].as_str().is_some(), "{input}");
    }
    assert_eq!(seen, failing * calls_per_case, "{kept:?}");
}
