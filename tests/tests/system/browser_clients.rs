//! An admin adds a client through the form and previews the portal as one of a client's
//! contacts ("view as client"), in headless Chromium.

use fantoccini::Locator;
use portal_tests::Installation;

use crate::browser::{Driver, fill, follow, save_screenshot, sign_in, submit, wait_for_path};

#[tokio::test]
async fn an_admin_adds_a_client_and_views_the_portal_as_a_contact() {
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
        "lantern-harbour-orbit",
    )
    .await;
    wait_for_path(&client, "/acme/manage").await;

    client
        .goto(&server.url("/acme/manage/clients/new"))
        .await
        .expect("goto");
    fill(&client, "#name", "Harbour Freight").await;
    fill(&client, "#email", "Ops@Harbour-Freight.example").await;
    fill(&client, "#phone", "0113 496 0101").await;
    submit(&client, "form.form button[type=submit]").await;
    let page = client.source().await.expect("source");
    assert!(page.contains("The client was added."), "{page}");
    assert!(page.contains("ops@harbour-freight.example"));

    client
        .goto(&server.url("/acme/manage/clients?q=northwind"))
        .await
        .expect("goto");
    follow(&client, Locator::LinkText("Northwind Manufacturing")).await;
    submit(&client, "form[action$='/manage/preview'] button").await;
    wait_for_path(&client, "/acme/portal").await;
    let banner = client
        .find(Locator::Css(".preview-banner"))
        .await
        .expect("banner")
        .text()
        .await
        .expect("text");
    assert!(
        banner.contains("Viewing as") && banner.contains("read only"),
        "{banner}"
    );
    let sign_out = client
        .find(Locator::Css(".site-nav button"))
        .await
        .expect("sign-out button");
    assert!(
        !sign_out.is_enabled().await.expect("enabled?"),
        "the portal's own buttons are disabled in a preview"
    );
    save_screenshot(
        "view-as-client-acme-1280x900.png",
        &client.screenshot().await.expect("screenshot"),
    );
    submit(&client, ".preview-banner button").await;
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("The preview has ended.")
    );
    client.close().await.expect("close");
}
