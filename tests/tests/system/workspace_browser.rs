//! A staff member's round of the agency's workspace in headless Chromium, on a desktop and on
//! a phone: the home's figures lead to the lists, a rejected timesheet is corrected, a pending
//! one decided for the client, a week locked for payroll, a work request scheduled with a
//! reply and an internal note — and the client, signed in to the portal, sees the reply and
//! the schedule but never the note. Screenshots go to `tests/artifacts/`.

use fantoccini::{Client, Locator};
use portal_tests::Installation;

use crate::browser::{
    Driver, click, fill, follow, save_screenshot, sign_in, submit, wait_for_path,
};

const PASSWORD: &str = "lantern-harbour-orbit";

/// Sets a field's value as a date or time picker would (typing into them depends on the
/// browser's locale).
async fn set_value(client: &Client, css: &str, value: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![css.into(), value.into()],
        )
        .await
        .expect("set value");
}

async fn page_text(client: &Client) -> String {
    client.source().await.expect("source")
}

async fn shot(client: &Client, name: &str, size: &str) {
    save_screenshot(
        &format!("workspace-{name}-{size}.png"),
        &client.screenshot().await.expect("screenshot"),
    );
}

#[tokio::test]
async fn a_staff_member_works_through_what_clients_did_and_the_client_sees_the_answer() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let client = driver.client(1280, 900).await;
    sign_in(
        &client,
        &server.url("/acme/manage/login"),
        "admin@acme-staffing.example",
        PASSWORD,
    )
    .await;
    wait_for_path(&client, "/acme/manage").await;
    let home = page_text(&client).await;
    assert!(home.contains("timesheets waiting for clients") && home.contains("By client"));
    shot(&client, "home", "1280x900").await;

    // The rejected figure leads to the rejected timesheets; correct the first.
    follow(
        &client,
        Locator::Css("a[href$='/manage/timesheets?status=rejected']"),
    )
    .await;
    wait_for_path(&client, "/acme/manage/timesheets").await;
    shot(&client, "timesheets-rejected", "1280x900").await;
    follow(&client, Locator::Css("td[data-label=Date] a")).await;
    assert!(page_text(&client).await.contains("Correct the hours"));
    set_value(&client, "#start_time", "08:00").await;
    set_value(&client, "#end_time", "16:00").await;
    fill(&client, "#break_minutes", "30").await;
    fill(
        &client,
        "#correction-note",
        "Gate log shows 16:00; corrected.",
    )
    .await;
    submit(&client, "form[action$='/correct'] button[type=submit]").await;
    let corrected = page_text(&client).await;
    assert!(corrected.contains("back with the client"), "corrected");
    assert!(corrected.contains("Gate log shows 16:00"));
    shot(&client, "timesheet-corrected", "1280x900").await;

    // It is pending again: decide it for the client, with the evidence.
    fill(&client, "#note", "Approved by phone with David Thompson").await;
    submit(&client, "form[action$='/decide'] button[type=submit]").await;
    let decided = page_text(&client).await;
    assert!(decided.contains("Approved on the client"), "decided");
    assert!(decided.contains("Approved by phone with David Thompson"));

    // Lock last week for every client.
    client
        .goto(&server.url("/acme/manage/timesheets/locks"))
        .await
        .expect("goto");
    submit(&client, "form[action$='/locks'] button[type=submit]").await;
    let locks = page_text(&client).await;
    assert!(locks.contains("The week is locked") && locks.contains("Every client"));
    shot(&client, "locks", "1280x900").await;

    // Share a document with Northwind from its page: the file picker takes a real file.
    let pdf = std::env::temp_dir().join(format!("portal-rota-{}.pdf", std::process::id()));
    std::fs::write(
        &pdf,
        b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
    )
    .expect("pdf");
    client
        .goto(&server.url("/acme/manage/clients"))
        .await
        .expect("goto");
    follow(&client, Locator::LinkText("Northwind Manufacturing")).await;
    fill(&client, "#document-title", "December rota").await;
    client
        .find(Locator::Css("#document-file"))
        .await
        .expect("file input")
        .send_keys(&pdf.to_string_lossy())
        .await
        .expect("choose file");
    submit(&client, "form[action$='/documents'] button[type=submit]").await;
    let shared = page_text(&client).await;
    assert!(shared.contains("The document is shared"), "shared");
    assert!(shared.contains("December rota") && shared.contains("waiting for the client"));
    shot(&client, "client-page", "1280x900").await;
    let _ = std::fs::remove_file(&pdf);

    // A work request: scheduled, with a reply, and a note for the team.
    client
        .goto(&server.url("/acme/manage/work-requests"))
        .await
        .expect("goto");
    shot(&client, "work-requests", "1280x900").await;
    follow(&client, Locator::Css("td[data-label=Request] a")).await;
    let request_path = client.current_url().await.expect("url").path().to_owned();
    let id = request_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    client
        .find(Locator::Css("#status"))
        .await
        .expect("status")
        .select_by_value("scheduled")
        .await
        .expect("choose");
    set_value(&client, "#scheduled_for", "2027-01-09").await;
    fill(
        &client,
        "#message",
        "Two pickers booked for Saturday, 08:00 at gate 3.",
    )
    .await;
    submit(&client, "form[action$='/reply'] button[type=submit]").await;
    assert!(page_text(&client).await.contains("Your reply is posted"));
    fill(&client, "#note", "Ask for a deposit next time.").await;
    submit(&client, "form[action$='/note'] button[type=submit]").await;
    let request = page_text(&client).await;
    assert!(request.contains("internal note") && request.contains("Scheduled"));
    shot(&client, "work-request", "1280x900").await;

    // The client sees the reply and the date, never the note.
    sign_in(
        &client,
        &server.url("/acme/portal/login"),
        "david@northwind.example",
        PASSWORD,
    )
    .await;
    wait_for_path(&client, "/acme/portal").await;
    client
        .goto(&server.url(&format!("/acme/portal/work-requests/{id}")))
        .await
        .expect("goto");
    let seen = page_text(&client).await;
    assert!(seen.contains("Two pickers booked for Saturday"), "{seen}");
    assert!(seen.contains("scheduled"));
    assert!(
        !seen.contains("deposit"),
        "an internal note reached the client"
    );
    shot(&client, "client-sees-reply", "1280x900").await;
    client
        .goto(&server.url("/acme/portal/documents"))
        .await
        .expect("goto");
    let documents = page_text(&client).await;
    assert!(
        documents.contains("December rota"),
        "the client sees the document"
    );
    client.close().await.expect("close");

    // On a phone: the menu folds behind its button and opens to every area.
    let phone = driver.client(390, 844).await;
    sign_in(
        &phone,
        &server.url("/acme/manage/login"),
        "recruiter@acme-staffing.example",
        PASSWORD,
    )
    .await;
    wait_for_path(&phone, "/acme/manage").await;
    let nav_shown = "return getComputedStyle(document.getElementById('site-nav')).display";
    let hidden = phone.execute(nav_shown, vec![]).await.expect("js");
    assert_eq!(hidden.as_str(), Some("none"), "the menu is folded");
    shot(&phone, "home", "390x844").await;
    click(&phone, ".nav-toggle").await;
    let shown = phone.execute(nav_shown, vec![]).await.expect("js");
    assert_eq!(shown.as_str(), Some("flex"), "the button opens the menu");
    let expanded = phone
        .find(Locator::Css(".nav-toggle"))
        .await
        .expect("toggle")
        .attr("aria-expanded")
        .await
        .expect("attr");
    assert_eq!(expanded.as_deref(), Some("true"));
    shot(&phone, "menu", "390x844").await;
    follow(&phone, Locator::LinkText("Work requests")).await;
    wait_for_path(&phone, "/acme/manage/work-requests").await;
    shot(&phone, "work-requests", "390x844").await;
    phone
        .goto(&server.url("/acme/manage/timesheets"))
        .await
        .expect("goto");
    shot(&phone, "timesheets", "390x844").await;
    phone
        .goto(&server.url("/acme/manage/on-site"))
        .await
        .expect("goto");
    assert!(page_text(&phone).await.contains("clocked in"));
    shot(&phone, "on-site", "390x844").await;
    phone.close().await.expect("close");
}

/// Without script the phone's menu stays open (nothing folds it), so every area is reachable.
#[tokio::test]
async fn without_script_the_phone_menu_stays_open() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let phone = driver
        .client_with(390, 844, &["--blink-settings=scriptEnabled=false"])
        .await;
    sign_in(
        &phone,
        &server.url("/acme/manage/login"),
        "recruiter@acme-staffing.example",
        PASSWORD,
    )
    .await;
    wait_for_path(&phone, "/acme/manage").await;
    let nav = phone
        .find(Locator::Css("#site-nav"))
        .await
        .expect("navigation");
    assert!(
        nav.is_displayed().await.expect("displayed"),
        "the menu is open"
    );
    let toggle = phone
        .find(Locator::Css(".nav-toggle"))
        .await
        .expect("toggle");
    assert!(
        !toggle.is_displayed().await.expect("displayed"),
        "no button that could not work"
    );
    follow(&phone, Locator::LinkText("Timesheets")).await;
    wait_for_path(&phone, "/acme/manage/timesheets").await;
    shot(&phone, "no-script-menu", "390x844").await;
    phone.close().await.expect("close");
}
