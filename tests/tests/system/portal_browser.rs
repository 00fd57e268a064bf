//! A client supervisor's morning in headless Chromium: approve two timesheets, reject one
//! with a reason, file a work request (and the agency's staff see the email in the outbox),
//! and download a report export.

use fantoccini::{Client, Locator};
use portal_tests::Installation;

use crate::browser::{Driver, fill, follow, save_screenshot, sign_in, submit, wait_for_path};

async fn sign_in_as(client: &Client, url: &str, email: &str, home: &str) {
    sign_in(client, url, email, "lantern-harbour-orbit").await;
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
    sign_in_as(
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
    submit(&client, "button[name=scope][value=selected]").await;
    wait_for_path(&client, "/acme/portal/timesheets").await;
    let page = client.source().await.expect("source");
    assert!(page.contains("The timesheets are approved."), "approved");

    // Reject one, with a reason.
    client
        .goto(&server.url("/acme/portal/timesheets?status=pending"))
        .await
        .expect("goto");
    follow(&client, Locator::Css("td[data-label=Date] a")).await;
    fill(&client, "#reason", "Break was longer than recorded").await;
    submit(&client, "button.button-danger").await;
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
    fill(&client, "#title", "Cover for the night shift").await;
    fill(
        &client,
        "#description",
        "Two operators, Friday 22:00 to 06:00.",
    )
    .await;
    fill(&client, "#workers_needed", "2").await;
    submit(&client, "form.form button[type=submit]").await;
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
    sign_in_as(
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

/// A client with its portal off, met on a phone: David's right password is answered with why
/// he cannot come in, in the page's own error place.
#[tokio::test]
async fn a_contact_of_a_client_with_the_portal_off_is_told_why_on_a_phone() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let pool = installation.pool().await;
    sqlx::query("UPDATE clients SET portal_enabled = 0 WHERE name = 'Northwind Manufacturing'")
        .execute(&pool)
        .await
        .expect("portal off");
    let server = installation.serve().await;
    let client = driver.client(390, 844).await;
    sign_in(
        &client,
        &server.url("/acme/portal/login"),
        "david@northwind.example",
        "lantern-harbour-orbit",
    )
    .await;
    wait_for_path(&client, "/acme/portal/login").await;
    // The answer comes to the same address as the form: wait for its words.
    let mut page = String::new();
    for _ in 0..50 {
        page = client.source().await.expect("source");
        if page.contains("The portal is turned off for your company.") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        page.contains("The portal is turned off for your company."),
        "{page}"
    );
    save_screenshot(
        "portal-off-sign-in-acme-390x844.png",
        &client.screenshot().await.expect("screenshot"),
    );
}
