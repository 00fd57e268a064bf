//! Email through the real binary: the outbox survives restarts and SMTP outages, several
//! servers on one PostgreSQL database send each email once, and `portal theme check`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use portal_server::db::Backend;
use portal_server::db::outbox::{self, Filter, Page};
use portal_server::mail::smtp_sink::{Received, SmtpSink};
use portal_server::mail::{self, Email, Queued};
use portal_server::state::AppState;
use portal_tests::{Installation, backend, free_port, repo_root};

/// SMTP to 127.0.0.1:`port` without TLS, a worker that looks every second and retries after
/// one second.
fn smtp_to(installation: &Installation, port: u16, batch_size: u32) {
    installation.set_mail(&format!(
        "[mail]\ntransport = \"smtp\"\n\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_seconds = 5\n\n\
         [mail.worker]\npoll_seconds = 1\nretry_base_seconds = 1\nretry_max_seconds = 2\n\
         batch_size = {batch_size}\n"
    ));
}

/// Queues `count` invitations for acme through the library, as an action of the server would.
pub(crate) async fn queue_invites(state: &AppState, count: usize) -> Vec<i64> {
    let agency = state.agency("acme").expect("acme");
    let mut ids = Vec::new();
    for n in 0..count {
        let mut tx = state.db().pool.begin().await.expect("transaction");
        let to = format!("contact{n}@northwind.example");
        let queued = mail::enqueue(
            &mut tx,
            &agency,
            Email {
                template: "invite",
                to: &to,
                vars: mail::sample_variables("invite", &agency.theme.agency_url),
            },
        )
        .await
        .expect("enqueue");
        tx.commit().await.expect("commit");
        match queued {
            Queued::Yes(id) => ids.push(id),
            Queued::PortalDisabled | Queued::ClientPortalDisabled => {
                panic!("acme's portal is enabled")
            }
        }
    }
    ids
}

pub(crate) async fn open(installation: &Installation) -> AppState {
    AppState::build(installation.settings(), &installation.config)
        .await
        .expect("state")
}

pub(crate) async fn outbox_rows(state: &AppState) -> Vec<outbox::OutboxEntry> {
    let acme = state.agency("acme").expect("acme");
    outbox::list(
        &state.db().pool,
        acme.id,
        &Filter::default(),
        Page::new(None, Some(100)),
    )
    .await
    .expect("list")
    .entries
}

pub(crate) fn message_ids(received: &[Received]) -> BTreeSet<String> {
    received
        .iter()
        .filter_map(|message| {
            let parsed = mailparse::parse_mail(&message.data).ok()?;
            parsed
                .headers
                .iter()
                .find(|h| h.get_key_ref().eq_ignore_ascii_case("message-id"))
                .map(|h| h.get_value())
        })
        .collect()
}

#[tokio::test]
async fn email_queued_while_the_server_was_stopped_is_delivered_when_it_starts() {
    let sink = SmtpSink::start().await.expect("sink");
    let installation = Installation::new().await;
    smtp_to(&installation, sink.port(), 20);
    let state = open(&installation).await;
    let ids = queue_invites(&state, 3).await;
    state.db().pool.close().await;

    let server = installation.serve().await;
    let received = sink.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|m| m.from == "portal@acme-staffing.example")
    );
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let state = open(&installation).await;
    let rows = outbox_rows(&state).await;
    assert_eq!(rows.len(), ids.len());
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
}

#[tokio::test]
async fn smtp_down_is_retried_later_and_nothing_is_lost() {
    let port = free_port();
    let installation = Installation::new().await;
    smtp_to(&installation, port, 20);
    let server = installation.serve().await;
    let state = open(&installation).await;
    queue_invites(&state, 2).await;

    // The worker tries, fails, and keeps both emails queued with the error.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = outbox_rows(&state).await;
        if rows
            .iter()
            .all(|r| r.status == "queued" && r.attempts >= 1 && r.last_error.is_some())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failed attempt recorded: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let sink = SmtpSink::start_on(([127, 0, 0, 1], port).into())
        .await
        .expect("sink");
    let received = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 2);
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(message_ids(&sink.received()).len(), 2);
    assert_eq!(sink.received().len(), 2);
    let rows = outbox_rows(&state).await;
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
    drop(server);
}

#[tokio::test]
async fn two_servers_on_one_postgres_send_each_email_exactly_once() {
    if backend() != Backend::Postgres {
        eprintln!("skipped on SQLite: several processes share a PostgreSQL database only");
        return;
    }
    let sink = SmtpSink::start().await.expect("sink");
    let installation = Installation::new().await;
    // Small batches, so both workers take turns at the same queue.
    smtp_to(&installation, sink.port(), 3);
    let state = open(&installation).await;
    let ids = queue_invites(&state, 40).await;

    let (first, second) = tokio::join!(installation.serve(), installation.serve());
    let received = sink.wait_for(40, Duration::from_secs(60)).await;
    assert_eq!(received.len(), 40);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = sink.received();
    assert_eq!(received.len(), 40, "an email was sent twice");
    assert_eq!(message_ids(&received).len(), 40);
    let rows = outbox_rows(&state).await;
    assert_eq!(rows.len(), ids.len());
    assert!(
        rows.iter().all(|r| r.status == "sent" && r.attempts == 1),
        "{rows:?}"
    );
    drop((first, second));
}

#[tokio::test]
async fn theme_check_passes_shipped_themes_and_names_file_and_line_of_a_fault() {
    let installation = Installation::new().await;
    for theme in ["base", "harbor"] {
        let dir = repo_root().join("themes").join(theme);
        let output = installation.portal(&["theme", "check", &dir.display().to_string()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{theme}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("is complete"), "{stdout}");
    }

    let themes = tempfile_dir(&installation, "themes");
    let broken = themes.join("broken");
    write(
        &broken.join("theme.toml"),
        "name = \"broken\"\nextends = \"harbor\"\n",
    );
    write(
        &broken.join("templates/login.html"),
        "{% extends \"@harbor/login.html\" %}\n{% block login_intro %}\n<h1>{{ title }</h1>\n{% endblock %}\n",
    );
    write(
        &broken.join("emails/invite/subject.txt"),
        "{% if agency.name %}Invitation\n",
    );
    let output = installation.portal(&["theme", "check", &broken.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("broken/templates/login.html line 3: syntax error"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken/emails/invite/subject.txt line"),
        "{stderr}"
    );

    let orphan = themes.join("orphan");
    write(
        &orphan.join("theme.toml"),
        "name = \"orphan\"\nextends = \"nowhere\"\n",
    );
    let output = installation.portal(&["theme", "check", &orphan.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("orphan/theme.toml: key `extends`")
            && stderr.contains("extends \"nowhere\", which is not installed"),
        "{stderr}"
    );
}

fn tempfile_dir(installation: &Installation, name: &str) -> std::path::PathBuf {
    let dir = installation.database.dir().join(name);
    std::fs::create_dir_all(&dir).expect("create folder");
    dir
}

fn write(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}
