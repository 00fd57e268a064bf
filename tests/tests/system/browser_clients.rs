//! An admin adds a client through the form and previews the portal as one of a client's
//! contacts ("view as client"), in headless Chromium.

use std::time::Duration;

use fantoccini::{Client, Locator};
use portal_tests::Installation;

use crate::browser::{Driver, save_screenshot};

async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("field {css}"))
        .send_keys(text)
        .await
        .expect("type");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .expect("click");
}

async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..50 {
        if client
            .current_url()
            .await
            .is_ok_and(|u| u.path().starts_with(path))
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

#[tokio::test]
async fn an_admin_adds_a_client_and_views_the_portal_as_a_contact() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let client = driver.client(1280, 900).await;
    client
        .goto(&server.url("/acme/manage/login"))
        .await
        .expect("goto");
    type_into(&client, "#email", "admin@acme-staffing.example").await;
    type_into(&client, "#password", "lantern-harbour-orbit").await;
    click(&client, "button[type=submit]").await;
    wait_for_path(&client, "/acme/manage").await;

    client
        .goto(&server.url("/acme/manage/clients/new"))
        .await
        .expect("goto");
    type_into(&client, "#name", "Harbour Freight").await;
    type_into(&client, "#email", "Ops@Harbour-Freight.example").await;
    type_into(&client, "#phone", "0113 496 0101").await;
    click(&client, "form.form button[type=submit]").await;
    wait_for_path(&client, "/acme/manage/clients/").await;
    let page = client.source().await.expect("source");
    assert!(page.contains("The client was added."), "{page}");
    assert!(page.contains("ops@harbour-freight.example"));

    client
        .goto(&server.url("/acme/manage/clients?q=northwind"))
        .await
        .expect("goto");
    client
        .find(Locator::LinkText("Northwind Manufacturing"))
        .await
        .expect("client link")
        .click()
        .await
        .expect("open client");
    wait_for_path(&client, "/acme/manage/clients/").await;
    click(&client, "form[action$='/manage/preview'] button").await;
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
    click(&client, ".preview-banner button").await;
    wait_for_path(&client, "/acme/manage").await;
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("The preview has ended.")
    );
    client.close().await.expect("close");
}
