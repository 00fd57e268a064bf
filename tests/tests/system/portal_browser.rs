//! A client supervisor's morning in headless Chromium: approve two timesheets, reject one
//! with a reason, file a work request (and the agency's staff see the email in the outbox),
//! and download a report export.

use std::time::Duration;

use fantoccini::{Client, Locator};
use portal_tests::Installation;

use crate::browser::{Driver, save_screenshot};

async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..50 {
        if client
            .current_url()
            .await
            .map(|u| u.path() == path)
            .unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never reached {path}: at {:?}",
        client.current_url().await.map(|u| u.to_string())
    );
}

async fn fill(client: &Client, id: &str, text: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|_| panic!("field {id}"))
        .send_keys(text)
        .await
        .expect("type");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .expect("click");
}

async fn sign_in(client: &Client, url: &str, email: &str, home: &str) {
    client.goto(url).await.expect("goto");
    fill(client, "email", email).await;
    fill(client, "password", "lantern-harbour-orbit").await;
    click(client, "form button[type=submit]").await;
    wait_for_path(client, home).await;
}

#[tokio::test]
async fn a_supervisor_approves_rejects_requests_and_exports() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let client = driver.client(1280, 900).await;
    sign_in(
        &client,
        &server.url("/acme/portal/login"),
        "david@northwind.example",
        "/acme/portal",
    )
    .await;

    // Approve two.
    client
        .goto(&server.url("/acme/portal/timesheets?status=pending"))
        .await
        .expect("goto");
    let boxes = client
        .find_all(Locator::Css("input[name=id]"))
        .await
        .expect("checkboxes");
    assert!(boxes.len() >= 3, "pending timesheets to decide");
    for checkbox in boxes.iter().take(2) {
        checkbox.click().await.expect("tick");
    }
    click(&client, "button[name=scope][value=selected]").await;
    wait_for_path(&client, "/acme/portal/timesheets").await;
    let page = client.source().await.expect("source");
    assert!(page.contains("The timesheets are approved."), "approved");

    // Reject one, with a reason.
    client
        .goto(&server.url("/acme/portal/timesheets?status=pending"))
        .await
        .expect("goto");
    click(&client, "td[data-label=Date] a").await;
    fill(&client, "reason", "Break was longer than recorded").await;
    click(&client, "button.button-danger").await;
    wait_for_path(&client, "/acme/portal/timesheets").await;
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("the agency has been told why")
    );

    // File a work request.
    client
        .goto(&server.url("/acme/portal/work-requests/new"))
        .await
        .expect("goto");
    fill(&client, "title", "Cover for the night shift").await;
    fill(
        &client,
        "description",
        "Two operators, Friday 22:00 to 06:00.",
    )
    .await;
    fill(&client, "workers_needed", "2").await;
    click(&client, "form.form button[type=submit]").await;
    wait_for_path(&client, "/acme/portal/work-requests").await;
    let page = client.source().await.expect("source");
    assert!(page.contains("Cover for the night shift"));
    save_screenshot(
        "portal-work-requests-acme-1280x900.png",
        &client.screenshot().await.expect("screenshot"),
    );

    // Download the report export (the page's own session fetches the file).
    client
        .goto(&server.url("/acme/portal/reports"))
        .await
        .expect("goto");
    let csv = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const form = document.querySelector('form[action$=\"/reports/export\"]');
             const query = new URLSearchParams(new FormData(form)).toString();
             fetch(form.action + '?' + query).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .expect("download");
    let csv = csv.as_str().unwrap_or_default();
    assert!(csv.contains("Hours") && csv.contains("Week of"), "{csv}");

    // The agency's staff see the notification in the outbox.
    sign_in(
        &client,
        &server.url("/acme/manage/login"),
        "admin@acme-staffing.example",
        "/acme/manage",
    )
    .await;
    client
        .goto(&server.url("/acme/manage/outbox"))
        .await
        .expect("goto");
    let outbox = client.source().await.expect("source");
    assert!(
        outbox.contains("Cover for the night shift"),
        "work request email in the outbox"
    );
    assert!(outbox.contains("Timesheet rejected"), "rejection email too");
    client.close().await.expect("close");
}
