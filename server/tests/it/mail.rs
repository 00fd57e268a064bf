//! Email: rendering with each theme, the outbox, and the worker delivering through the
//! in-memory transport and through real SMTP to a local sink.

use std::time::Duration;

use axum::http::StatusCode;
use minijinja::context;
use portal_server::db::Timestamp;
use portal_server::db::outbox::{self, Filter, NewEmail, Page, Status};
use portal_server::db::staff_users::StaffRole;
use portal_server::mail::smtp_sink::{Answer, SmtpSink};
use portal_server::mail::worker::{Pass, Worker};
use portal_server::mail::{self, Email, Queued, Transport};

use crate::support::TestApp;

/// Every template, rendered with each demo agency's theme and branding. The sample values
/// are fixed, so the output only changes when a template or the branding does.
#[tokio::test]
async fn every_email_template_renders_for_both_themes() {
    let app = TestApp::spawn().await;
    for slug in ["acme", "brightfix"] {
        let agency = app.agency(slug);
        for template in mail::TEMPLATES {
            let vars = mail::sample_variables(template, &agency.theme.agency_url);
            let email = mail::render(&agency.theme, template, &vars)
                .unwrap_or_else(|err| panic!("{slug}/{template}: {err:#}"));
            assert!(!email.subject.is_empty(), "{slug}/{template}");
            assert!(email.html.contains(&agency.config.display_name));
            insta::assert_snapshot!(
                format!("{slug}-{template}"),
                format!(
                    "Subject: {}\n\n---- text ----\n{}\n---- html ----\n{}",
                    email.subject, email.text, email.html
                )
            );
        }
    }
}

#[tokio::test]
async fn harbor_changes_the_frame_of_base_emails() {
    let app = TestApp::spawn().await;
    let render = |slug: &str| {
        let agency = app.agency(slug);
        let vars = mail::sample_variables("invite", &agency.theme.agency_url);
        mail::render(&agency.theme, "invite", &vars).expect("render")
    };
    let (base, harbor) = (render("acme"), render("brightfix"));
    // The body comes from base in both; harbor replaces masthead, sign-off and footer.
    for email in [&base, &harbor] {
        assert!(email.html.contains("Choose your password"));
        assert!(email.html.contains("role=\"presentation\""));
    }
    assert!(harbor.html.contains("border-bottom:6px solid #c8553d"));
    assert!(!base.html.contains("border-bottom:6px solid"));
    assert!(harbor.text.contains("With thanks,\nBrightFix Facilities"));
    assert!(base.text.contains("The Acme Staffing team"));
    // The logo is an absolute address on the public URL, so mail clients can load it.
    assert!(
        base.html
            .contains("src=\"http://127.0.0.1:8080/acme/assets/"),
        "{}",
        base.html
    );
}

#[tokio::test]
async fn user_text_is_escaped_in_html_emails_and_kept_in_text() {
    let app = TestApp::spawn().await;
    let agency = app.agency("acme");
    let evil = "<script>alert(1)</script> & \"quotes\"";
    let vars = context! {
        title => evil,
        details => evil,
        reason => evil,
        worker_name => evil,
        week_ending => "2025-03-09",
        client => context! { name => evil },
        actor => context! { name => evil },
        manage_url => "https://portal.example/x",
    };
    for template in [
        "work-request-created",
        "timesheet-rejected",
        "timesheet-approved",
    ] {
        let email = mail::render(&agency.theme, template, &vars).expect("render");
        assert!(
            !email.html.contains("<script>"),
            "{template}: {}",
            email.html
        );
        assert!(
            email
                .html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;quotes&quot;"),
            "{template}"
        );
        assert!(email.text.contains(evil), "{template}: {}", email.text);
    }
}

#[tokio::test]
async fn a_subject_is_one_line_even_when_a_title_is_not() {
    let app = TestApp::spawn().await;
    let vars = context! { title => "Two drivers\r\nBcc: someone@else.example", client => context! { name => "Northwind" } };
    let email =
        mail::render(&app.agency("acme").theme, "work-request-created", &vars).expect("render");
    assert_eq!(
        email.subject,
        "New work request: Two drivers Bcc: someone@else.example (Northwind)"
    );
}

/// A password never goes by email (seed 003: "for security reasons we are unable to email
/// the password"): every template refuses one.
#[tokio::test]
async fn no_email_may_carry_a_password() {
    let app = TestApp::spawn().await;
    let theme = &app.agency("acme").theme;
    let given = context! { password => "lantern-harbour-orbit", subject => context! { email => "laura@oakridge.example" } };
    for template in mail::TEMPLATES {
        let err = mail::render(theme, template, &given)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no email may carry one"), "{template}: {err}");
    }
}

async fn queue(app: &TestApp, slug: &str, template: &str, to: &str) -> Queued {
    let agency = app.agency(slug);
    let mut conn = app.state.db().pool.acquire().await.expect("connection");
    mail::enqueue(
        &mut conn,
        &agency,
        Email {
            template,
            to,
            vars: mail::sample_variables(template, &agency.theme.agency_url),
        },
    )
    .await
    .expect("enqueue")
}

async fn row(app: &TestApp, slug: &str, id: i64) -> outbox::OutboxEntry {
    let listing = outbox::list(
        &app.state.db().pool,
        app.agency(slug).id,
        &Filter::default(),
        Page::new(None, Some(100)),
    )
    .await
    .expect("list");
    listing
        .entries
        .into_iter()
        .find(|e| e.id == id)
        .expect("row is listed")
}

fn queued_id(queued: Queued) -> i64 {
    match queued {
        Queued::Yes(id) => id,
        Queued::PortalDisabled | Queued::ClientPortalDisabled => panic!("portal is enabled"),
    }
}

#[tokio::test]
async fn the_worker_delivers_queued_email_from_the_agency_sender() {
    let app = TestApp::spawn().await;
    let id = queued_id(queue(&app, "acme", "invite", "laura@oakridge.example").await);
    let worker = Worker::new(&app.state, Transport::memory()).expect("worker");
    let pass = worker.deliver_due(None).await.expect("pass");
    assert_eq!(
        pass,
        Pass {
            sent: 1,
            retrying: 0,
            failed: 0
        }
    );
    let delivered = worker.transport().delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].from, "portal@acme-staffing.example");
    assert_eq!(delivered[0].to, ["laura@oakridge.example"]);
    let entry = row(&app, "acme", id).await;
    assert_eq!((entry.status.as_str(), entry.attempts), ("sent", 1));
    assert!(entry.sent_at.is_some());
    // Nothing is sent twice.
    let again = worker.deliver_due(None).await.expect("pass");
    assert_eq!(again.claimed(), 0);
    assert_eq!(worker.transport().delivered().len(), 1);
}

#[tokio::test]
async fn a_disabled_portal_queues_no_email_and_says_why() {
    let mut agencies = TestApp::demo_agencies();
    if let Some(acme) = agencies.get_mut("acme") {
        acme.portal_enabled = false;
    }
    let app = TestApp::with_agencies(agencies).await;
    let queued = queue(&app, "acme", "invite", "laura@oakridge.example").await;
    assert_eq!(queued, Queued::PortalDisabled);
    assert!(
        queued
            .notice()
            .is_some_and(|n| n.contains("client portal is turned off"))
    );
    // An email queued before the portal was turned off is not sent either.
    let agency = app.agency("acme");
    let mut conn = app.state.db().pool.acquire().await.expect("connection");
    let id = outbox::enqueue(
        &mut conn,
        agency.id,
        &NewEmail {
            template: "invite",
            recipient: "laura@oakridge.example",
            subject: "s",
            body_text: "t",
            body_html: "<p>h</p>",
        },
    )
    .await
    .expect("insert");
    drop(conn);
    let worker = Worker::new(&app.state, Transport::memory()).expect("worker");
    let pass = worker.deliver_due(None).await.expect("pass");
    assert_eq!(pass.failed, 1);
    assert!(worker.transport().delivered().is_empty());
    let entry = row(&app, "acme", id).await;
    assert_eq!(entry.status, "failed");
    assert!(
        entry
            .last_error
            .is_some_and(|e| e.contains("client portal is turned off"))
    );
    let listing = outbox::list(
        &app.state.db().pool,
        agency.id,
        &Filter::default(),
        Page::new(None, None),
    )
    .await
    .expect("list");
    assert_eq!(listing.total, 1, "only the row inserted by hand exists");
}

/// A worker delivering over SMTP to `port`, retrying after one second.
/// The first retry's delay in the SMTP tests. Times are whole seconds, so a one-second delay
/// could fall due a moment after the failure; two seconds are always more than one away.
const RETRY_BASE_SECONDS: u64 = 2;

/// Long enough for a first retry to be due.
const UNTIL_RETRY_DUE: Duration = Duration::from_millis(RETRY_BASE_SECONDS * 1000 + 100);

async fn smtp_app(port: u16, max_attempts: u32) -> TestApp {
    TestApp::with_agencies_adjusted(TestApp::demo_agencies(), |settings| {
        settings.mail.transport = portal_server::config::MailTransport::Smtp;
        settings.mail.smtp.host = "127.0.0.1".into();
        settings.mail.smtp.port = port;
        settings.mail.smtp.tls = portal_server::config::SmtpTls::None;
        settings.mail.smtp.timeout_seconds = 5;
        settings.mail.worker.retry_base_seconds = RETRY_BASE_SECONDS;
        settings.mail.worker.max_attempts = max_attempts;
    })
    .await
}

fn smtp_worker(app: &TestApp) -> Worker {
    let settings = app.state.settings();
    let transport =
        Transport::from_config(&settings.mail, &settings.paths.data).expect("transport");
    Worker::new(&app.state, transport).expect("worker")
}

#[tokio::test]
async fn delivers_through_real_smtp_with_both_parts_and_the_agency_sender() {
    let sink = SmtpSink::start().await.expect("sink");
    let app = smtp_app(sink.port(), 5).await;
    let id = queued_id(
        queue(
            &app,
            "brightfix",
            "password-reset",
            "laura@oakridge.example",
        )
        .await,
    );
    let pass = smtp_worker(&app).deliver_due(None).await.expect("pass");
    assert_eq!(pass.sent, 1, "{pass:?}");
    let received = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.from, "portal@brightfix.example");
    assert_eq!(message.to, ["laura@oakridge.example"]);
    let parsed = mailparse::parse_mail(&message.data).expect("a valid message");
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    assert_eq!(
        header("From"),
        "\"BrightFix Facilities\" <portal@brightfix.example>"
    );
    assert_eq!(header("To"), "laura@oakridge.example");
    assert_eq!(
        header("Subject"),
        "Reset your BrightFix Facilities portal password"
    );
    let agency_id = app.agency("brightfix").id;
    assert_eq!(
        header("Message-ID"),
        format!("<portal.{agency_id}.{id}@brightfix.example>")
    );
    assert!(!header("Date").is_empty());
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    assert_eq!(parsed.subparts.len(), 2);
    let text = &parsed.subparts[0];
    let html = &parsed.subparts[1];
    assert_eq!(text.ctype.mimetype, "text/plain");
    assert_eq!(html.ctype.mimetype, "text/html");
    let reset_url = "http://127.0.0.1:8080/brightfix/reset/SAMPLE-TOKEN";
    let text_body = text.get_body().expect("text body");
    assert!(text_body.contains(reset_url), "{text_body}");
    let html_body = html.get_body().expect("html body");
    assert!(html_body.contains("Choose a new password"), "{html_body}");
    assert!(html_body.contains("http:&#x2f;&#x2f;127.0.0.1:8080&#x2f;brightfix&#x2f;reset"));
}

#[tokio::test]
async fn smtp_down_means_retried_later_and_nothing_lost() {
    let port = free_port();
    let app = smtp_app(port, 5).await;
    let id = queued_id(queue(&app, "acme", "lockout", "david@northwind.example").await);
    let worker = smtp_worker(&app);
    let before = Timestamp::now();
    let pass = worker.deliver_due(None).await.expect("pass");
    assert_eq!(
        pass,
        Pass {
            sent: 0,
            retrying: 1,
            failed: 0
        }
    );
    let entry = row(&app, "acme", id).await;
    assert_eq!((entry.status.as_str(), entry.attempts), ("queued", 1));
    assert!(entry.last_error.is_some());
    assert!(entry.next_attempt_at >= before.plus_seconds(RETRY_BASE_SECONDS as i64));
    // Not due yet: the next pass leaves it alone.
    assert_eq!(worker.deliver_due(None).await.expect("pass").claimed(), 0);

    let sink = SmtpSink::start_on(([127, 0, 0, 1], port).into())
        .await
        .expect("sink");
    tokio::time::sleep(UNTIL_RETRY_DUE).await;
    let pass = worker.deliver_due(None).await.expect("pass");
    assert_eq!(pass.sent, 1, "{pass:?}");
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let entry = row(&app, "acme", id).await;
    assert_eq!((entry.status.as_str(), entry.attempts), ("sent", 2));
    assert_eq!(entry.last_error, None);
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_and_a_temporary_one_until_the_limit() {
    let sink = SmtpSink::start().await.expect("sink");
    let app = smtp_app(sink.port(), 2).await;
    let worker = smtp_worker(&app);
    sink.answer(Answer::Refuse);
    let refused = queued_id(queue(&app, "acme", "invite", "nobody@northwind.example").await);
    assert_eq!(worker.deliver_due(None).await.expect("pass").failed, 1);
    let entry = row(&app, "acme", refused).await;
    assert_eq!((entry.status.as_str(), entry.attempts), ("failed", 1));
    assert!(entry.last_error.is_some_and(|e| e.contains("550")));

    sink.answer(Answer::TryLater);
    let deferred = queued_id(queue(&app, "acme", "invite", "busy@northwind.example").await);
    assert_eq!(worker.deliver_due(None).await.expect("pass").retrying, 1);
    tokio::time::sleep(UNTIL_RETRY_DUE).await;
    assert_eq!(worker.deliver_due(None).await.expect("pass").failed, 1);
    let entry = row(&app, "acme", deferred).await;
    assert_eq!((entry.status.as_str(), entry.attempts), ("failed", 2));
    assert!(entry.last_error.is_some_and(|e| e.contains("451")));
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_claim_is_a_lease_that_other_workers_respect_until_it_ends() {
    let app = TestApp::spawn().await;
    let id = queued_id(queue(&app, "acme", "invite", "laura@oakridge.example").await);
    let db = app.state.db();
    let now = Timestamp::now();
    let first = outbox::claim_due(db, now, now.plus_seconds(300), 10)
        .await
        .expect("claim");
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    assert_eq!(first[0].attempts, 1);
    let second = outbox::claim_due(db, now, now.plus_seconds(300), 10)
        .await
        .expect("claim");
    assert!(second.is_empty(), "a leased email is not claimed twice");
    // The first worker died: once its lease ends the email is due again.
    let later = now.plus_seconds(301);
    let retaken = outbox::claim_due(db, later, later.plus_seconds(300), 10)
        .await
        .expect("claim");
    assert_eq!(retaken.len(), 1);
    assert_eq!(retaken[0].attempts, 2);
}

#[tokio::test]
async fn the_outbox_lists_filters_pages_and_resends_per_agency() {
    let app = TestApp::spawn().await;
    let pool = &app.state.db().pool;
    let acme = app.agency("acme");
    let mut ids = Vec::new();
    for n in 0..12 {
        let to = format!("person{n}@northwind.example");
        ids.push(queued_id(queue(&app, "acme", "invite", &to).await));
    }
    queue(&app, "brightfix", "invite", "laura@oakridge.example").await;
    let worker = Worker::new(&app.state, Transport::memory()).expect("worker");
    assert_eq!(worker.deliver_due(None).await.expect("pass").sent, 13);
    outbox::mark_attempt_failed(pool, ids[0], "550 no such mailbox", None)
        .await
        .expect("fail one");

    let page = outbox::list(
        pool,
        acme.id,
        &Filter::default(),
        Page::new(Some(2), Some(10)),
    )
    .await
    .expect("list");
    assert_eq!((page.total, page.entries.len()), (12, 2));
    let failed = outbox::list(
        pool,
        acme.id,
        &Filter {
            status: Some(Status::Failed),
            search: None,
        },
        Page::new(None, None),
    )
    .await
    .expect("list");
    assert_eq!(
        failed.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0]]
    );
    let found = outbox::list(
        pool,
        acme.id,
        &Filter {
            status: None,
            search: Some("PERSON11@".into()),
        },
        Page::new(None, None),
    )
    .await
    .expect("list");
    assert_eq!(found.total, 1);

    // A failed email is queued again as it is; a sent one is copied.
    assert_eq!(
        outbox::resend(pool, acme.id, ids[0]).await.expect("resend"),
        Some(ids[0])
    );
    let copy = outbox::resend(pool, acme.id, ids[1]).await.expect("resend");
    assert!(copy.is_some_and(|c| c != ids[1]));
    // Another agency's email is out of reach.
    let brightfix = app.agency("brightfix");
    assert_eq!(
        outbox::resend(pool, brightfix.id, ids[2])
            .await
            .expect("resend"),
        None
    );
    let pass = worker.deliver_due(None).await.expect("pass");
    assert_eq!(pass.sent, 2);
}

const PASSWORD: &str = "lantern-harbour-orbit";

/// An app where acme has an admin and a staff member (not an admin), and a browser signed in
/// as the admin.
async fn signed_in_admin(app: &TestApp) -> crate::support::Browser<'_> {
    app.staff("acme", "admin@acme.example", PASSWORD, StaffRole::Admin)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "admin@acme.example", PASSWORD)
        .await;
    browser
}

#[tokio::test]
async fn admins_see_the_outbox_and_can_send_an_email_again() {
    let app = TestApp::spawn().await;
    let acme = app.agency("acme");
    let mut conn = app.state.db().pool.acquire().await.expect("connection");
    let vars = context! { title => "<img src=x onerror=alert(1)>", client => context! { name => "Northwind" } };
    let id = queued_id(
        mail::enqueue(
            &mut conn,
            &acme,
            Email {
                template: "work-request-created",
                to: "ops@acme-staffing.example",
                vars,
            },
        )
        .await
        .expect("enqueue"),
    );
    drop(conn);
    let mut browser = signed_in_admin(&app).await;

    let page = browser.get("/acme/manage/outbox").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("ops@acme-staffing.example"), "{body}");
    assert!(
        body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{body}"
    );
    assert!(!body.contains("<img src=x"), "{body}");
    assert!(body.contains("badge badge-queued"));
    assert!(body.contains(r#"aria-current="page">Email</a>"#), "{body}");
    assert!(body.contains("1–1 of 1"), "{body}");
    assert!(
        body.contains(r#"name="q" type="search" value="""#),
        "an empty search box: {body}"
    );

    let worker = Worker::new(&app.state, Transport::memory()).expect("worker");
    assert_eq!(worker.deliver_due(None).await.expect("pass").sent, 1);
    let failed_only = browser.get("/acme/manage/outbox?status=failed").await;
    assert!(
        failed_only.body.contains("No email matches."),
        "{}",
        failed_only.body
    );
    let sent_only = browser.get("/acme/manage/outbox?status=sent").await;
    assert!(
        sent_only.body.contains("badge badge-sent"),
        "{}",
        sent_only.body
    );

    let resent = browser
        .submit(
            "/acme/manage/outbox",
            &format!("/acme/manage/outbox/{id}/resend"),
            &[],
        )
        .await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
    assert_eq!(resent.header("location"), "/acme/manage/outbox?resent=true");
    let after = browser.get("/acme/manage/outbox?resent=true").await;
    assert!(after.body.contains("The email is queued"), "{}", after.body);
    assert_eq!(app.outbox_for("ops@acme-staffing.example").await.len(), 2);
    assert!(
        app.audit_actions("acme")
            .await
            .iter()
            .any(|a| a == "email resent")
    );

    let missing = browser
        .submit(
            "/acme/manage/outbox",
            "/acme/manage/outbox/999999/resend",
            &[],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Without the form token nothing is sent.
    let forged = browser
        .post(&format!("/acme/manage/outbox/{id}/resend"), &[])
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    assert_eq!(app.outbox_for("ops@acme-staffing.example").await.len(), 2);
}

#[tokio::test]
async fn only_admins_see_the_outbox_and_branding() {
    let app = TestApp::spawn().await;
    let anonymous = app.get("/acme/manage/outbox").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    app.staff("acme", "staff@acme.example", PASSWORD, StaffRole::Staff)
        .await;
    let mut browser = app.browser();
    browser
        .sign_in("acme", "manage", "staff@acme.example", PASSWORD)
        .await;
    for path in [
        "/acme/manage/outbox",
        "/acme/manage/branding",
        "/acme/manage/branding/emails/invite/html",
    ] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}

#[tokio::test]
async fn with_the_portal_disabled_the_outbox_says_why_and_sends_nothing_again() {
    let app = TestApp::spawn_with(|settings| {
        if let Some(acme) = settings.agencies.get_mut("acme") {
            acme.portal_enabled = false;
        }
    })
    .await;
    let acme = app.agency("acme");
    let mut conn = app.state.db().pool.acquire().await.expect("connection");
    let id = outbox::enqueue(
        &mut conn,
        acme.id,
        &NewEmail {
            template: "invite",
            recipient: "laura@oakridge.example",
            subject: "Invitation",
            body_text: "t",
            body_html: "<p>h</p>",
        },
    )
    .await
    .expect("insert");
    drop(conn);
    let mut browser = signed_in_admin(&app).await;
    let page = browser.get("/acme/manage/outbox").await;
    assert!(
        page.body.contains("client portal is turned off"),
        "{}",
        page.body
    );
    let refused = browser
        .submit(
            "/acme/manage/outbox",
            &format!("/acme/manage/outbox/{id}/resend"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("client portal is turned off"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn admins_can_preview_their_branding() {
    let app = TestApp::spawn().await;
    app.staff(
        "brightfix",
        "admin@brightfix.example",
        PASSWORD,
        StaffRole::Admin,
    )
    .await;
    let mut browser = app.browser();
    browser
        .sign_in("brightfix", "manage", "admin@brightfix.example", PASSWORD)
        .await;
    let sign_in = browser.get("/brightfix/manage/branding/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert!(
        sign_in
            .body
            .contains("Preview: this is how your clients see the sign-in page")
    );
    assert!(sign_in.body.contains("/brightfix/assets/"));
    assert!(sign_in.body.contains("Track jobs, quotes, invoices"));

    let page = browser
        .get("/brightfix/manage/branding/emails/timesheet-rejected")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("Subject: Timesheet rejected: Lee Walker"),
        "{}",
        page.body
    );
    assert!(page.body.contains("the site closed at 18:00"));
    assert!(
        page.body
            .contains("/brightfix/manage/branding/emails/timesheet-rejected/html")
    );
    assert!(
        page.body.contains(r#"aria-current="page">Branding</a>"#),
        "{}",
        page.body
    );

    let html = browser
        .get("/brightfix/manage/branding/emails/invite/html")
        .await;
    assert_eq!(html.status, StatusCode::OK);
    let csp = html.header("content-security-policy");
    assert!(
        csp.contains("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    assert!(
        html.body.contains("border-bottom:6px solid #c8553d"),
        "harbor's frame"
    );
    let unknown = browser
        .get("/brightfix/manage/branding/emails/layout/html")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
