//! `kill -9` in the middle of the work that matters — a CSV import, an API batch, a bulk
//! approval, sending the outbox — and then start again: nothing half-done is visible and
//! nothing queued is lost.
//!
//! Each kill lands while the work's transaction is open and has written (see
//! [`wait_for_open_write`]), so these tests prove the all-or-nothing unit, not a lucky moment.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use portal_server::mail::smtp_sink::SmtpSink;
use portal_tests::{Installation, Server, browser, post_form, sign_in, wait_for_open_write};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mail::{message_ids, open, outbox_rows, queue_invites};

/// How long a change may take to start writing before the test gives up.
const WRITE_STARTS_WITHIN: Duration = Duration::from_secs(120);

async fn count(installation: &Installation, sql: &str) -> i64 {
    let pool = installation.pool().await;
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    pool.close().await;
    n
}

#[tokio::test]
async fn an_import_killed_midway_saves_no_row_and_runs_again_whole() {
    let installation = Installation::new().await;
    assert!(installation.portal(&["migrate"]).status.success());
    let rows = 2000;
    let mut csv = String::from("external_id,first_name,last_name,email\n");
    for n in 0..rows {
        csv.push_str(&format!("W{n},Worker,Number {n},worker{n}@example.com\n"));
    }
    let file = installation.database.dir().join("workers.csv");
    std::fs::write(&file, csv).expect("write csv");
    let path = file.to_string_lossy().into_owned();
    let args = ["import", "workers", &path, "--agency", "acme"];

    let mut import = installation
        .portal_command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the import");
    wait_for_open_write(&installation.database, WRITE_STARTS_WITHIN).await;
    assert!(
        matches!(import.try_wait(), Ok(None)),
        "the import ended before it could be killed"
    );
    import.kill().expect("kill -9");
    import.wait().expect("reap");

    assert_eq!(
        count(&installation, "SELECT COUNT(*) FROM workers").await,
        0
    );
    assert_eq!(
        count(
            &installation,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'worker created'"
        )
        .await,
        0,
        "an audit row outlived its import"
    );

    let again = installation.portal(&args);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(stdout.contains(&format!("{rows} created")), "{stdout}");
    assert_eq!(
        count(&installation, "SELECT COUNT(*) FROM workers").await,
        rows
    );
    assert_eq!(
        count(
            &installation,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'worker created'"
        )
        .await,
        rows
    );
}

/// A client `C1` and five workers `W0`–`W4` of acme, through the API.
async fn feed_references(server: &Server, token: &str) {
    let http = reqwest::Client::new();
    let client = http
        .put(server.url("/api/v1/acme/clients/by-external-id/C1"))
        .bearer_auth(token)
        .json(&json!({ "name": "Crash Test Ltd" }))
        .send()
        .await
        .expect("put client");
    assert_eq!(client.status(), StatusCode::CREATED);
    let workers: Vec<Value> = (0..5)
        .map(|n| json!({ "external_id": format!("W{n}"), "first_name": "Worker", "last_name": format!("{n}") }))
        .collect();
    let batch = http
        .post(server.url("/api/v1/acme/workers/batch"))
        .bearer_auth(token)
        .json(&json!({ "rows": workers }))
        .send()
        .await
        .expect("workers batch");
    assert_eq!(batch.status(), StatusCode::OK);
}

/// `count` pending timesheets of client C1, one a day per worker from 2025-01-01.
fn timesheet_rows(count: usize) -> Vec<Value> {
    let start = time::macros::date!(2025 - 01 - 01);
    (0..count)
        .map(|n| {
            let day = start + time::Duration::days(i64::try_from(n / 5).unwrap_or_default());
            json!({
                "external_id": format!("T{n}"), "worker": format!("W{}", n % 5), "client": "C1",
                "work_date": day.to_string(), "start_time": "08:00", "end_time": "16:30",
                "break_minutes": 30, "charge_rate_cents": 2550, "pay_rate_cents": 1800,
            })
        })
        .collect()
}

async fn post_batch(base: String, token: String, rows: Vec<Value>) -> reqwest::Result<Value> {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/acme/timesheets/batch"))
        .bearer_auth(token)
        .json(&json!({ "rows": rows }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

#[tokio::test]
async fn a_batch_upsert_killed_midway_saves_no_row_and_is_sent_again_whole() {
    let installation = Installation::new().await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    feed_references(&server, &token).await;
    let rows = 1500;

    let request = tokio::spawn(post_batch(
        server.base.clone(),
        token.clone(),
        timesheet_rows(rows),
    ));
    wait_for_open_write(&installation.database, WRITE_STARTS_WITHIN).await;
    server.kill();
    assert!(
        request.await.expect("join").is_err(),
        "the batch was answered although the server was killed"
    );

    let sheets = "SELECT COUNT(*) FROM timesheets";
    assert_eq!(count(&installation, sheets).await, 0);
    assert_eq!(
        count(
            &installation,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'timesheet created'"
        )
        .await,
        0
    );

    let server = installation.serve().await;
    let answer = post_batch(server.base.clone(), token, timesheet_rows(rows))
        .await
        .expect("the batch again");
    assert_eq!(answer["summary"]["created"], rows, "{answer}");
    assert_eq!(
        count(&installation, sheets).await,
        i64::try_from(rows).unwrap_or_default()
    );
}

/// A client signed in to acme's portal as Helen (a Partner of every client, who approves
/// timesheets).
async fn helen(server: &Server) -> reqwest::Client {
    let client = browser();
    let signed_in = sign_in(
        &client,
        &server.url("/acme/portal/login"),
        "helen@wardpartners.example",
        "lantern-harbour-orbit",
    )
    .await
    .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    client
}

async fn approve_every_shown(server_base: String, client: reqwest::Client) -> reqwest::Result<u16> {
    let list = format!("{server_base}/acme/portal/timesheets");
    let action = format!("{server_base}/acme/portal/timesheets/approve");
    let response = post_form(&client, &list, &action, &[("scope", "shown")]).await?;
    Ok(response.status().as_u16())
}

/// Timesheets approved by a portal user, their `approved` history entries, and the approval
/// emails queued.
async fn approvals(installation: &Installation) -> (i64, i64, i64) {
    (
        count(
            installation,
            "SELECT COUNT(*) FROM timesheets WHERE status = 'approved' AND decided_by IS NOT NULL",
        )
        .await,
        count(
            installation,
            "SELECT COUNT(*) FROM timesheet_events WHERE action = 'approved' AND actor_kind = 'portal'",
        )
        .await,
        count(
            installation,
            "SELECT COUNT(*) FROM outbox WHERE template = 'timesheet-approved'",
        )
        .await,
    )
}

#[tokio::test]
async fn a_bulk_approval_killed_midway_records_nothing_and_can_be_made_again() {
    let installation = Installation::with_demo_data().await;
    // Nothing else writes while the approval runs, and the emails stay in the outbox.
    installation.set_mail("[mail]\ntransport = \"file\"\n\n[mail.worker]\nenabled = false\n");
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    feed_references(&server, &token).await;
    post_batch(server.base.clone(), token.clone(), timesheet_rows(450))
        .await
        .expect("pending timesheets");
    let before = approvals(&installation).await;

    let approving = tokio::spawn(approve_every_shown(
        server.base.clone(),
        helen(&server).await,
    ));
    wait_for_open_write(&installation.database, WRITE_STARTS_WITHIN).await;
    server.kill();
    assert!(
        approving.await.expect("join").is_err(),
        "the approval was answered although the server was killed"
    );
    assert_eq!(
        approvals(&installation).await,
        before,
        "part of the approval outlived the crash"
    );

    let server = installation.serve().await;
    let status = approve_every_shown(server.base.clone(), helen(&server).await)
        .await
        .expect("approve again");
    assert_eq!(status, 303);
    let (approved, events, emails) = approvals(&installation).await;
    assert!(approved >= 450, "{approved} approved");
    assert_eq!(
        events - before.1,
        approved - before.0,
        "one history entry each"
    );
    assert!(
        emails > before.2 && (emails - before.2) % (approved - before.0) == 0,
        "the same notifications for every approval: {emails} emails for {approved}"
    );
}

#[tokio::test]
async fn the_outbox_survives_a_crash_mid_delivery_and_repeats_at_most_the_email_in_flight() {
    let sink = SmtpSink::start().await.expect("sink");
    // While the sink holds a message before acknowledging it, the server is killed: that
    // message was delivered, but the outbox could not record it.
    sink.delay_replies(Duration::from_millis(400));
    let installation = Installation::new().await;
    installation.set_mail(&format!(
        "[mail]\ntransport = \"smtp\"\n\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_seconds = 1\n\n\
         [mail.worker]\npoll_seconds = 1\nbatch_size = 4\nlease_seconds = 3\n",
        sink.port()
    ));
    let state = open(&installation).await;
    let emails = 12;
    let ids = queue_invites(&state, emails).await;

    let server = installation.serve().await;
    let before_crash = sink.wait_for(6, Duration::from_secs(60)).await;
    server.kill();
    assert!(
        before_crash.len() < emails,
        "everything was sent before the crash"
    );
    let in_flight = message_ids(&before_crash[before_crash.len() - 1..]);

    let server = installation.serve().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while message_ids(&sink.received()).len() < emails && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Room for a second copy of anything to arrive before counting.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = sink.received();
    assert_eq!(message_ids(&received).len(), emails, "an email was lost");
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for id in received
        .iter()
        .flat_map(|m| message_ids(std::slice::from_ref(m)))
    {
        *copies.entry(id).or_default() += 1;
    }
    let repeated: Vec<&String> = copies
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    eprintln!(
        "{} of {emails} emails delivered before the crash; sent twice: {repeated:?}",
        before_crash.len()
    );
    assert!(
        repeated.iter().all(|id| in_flight.contains(*id)) && repeated.len() <= 1,
        "only the email in flight at the crash may be sent twice: {copies:?}"
    );
    let rows = outbox_rows(&state).await;
    assert_eq!(rows.len(), ids.len());
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
    drop(server);
}
