//! Portal users in Chromium: an admin adds a client and a portal user with a generated
//! password; the user, in a second browser, must change it; deactivation signs them out on
//! their next request; bulk delete asks for confirmation; the list exports as XLSX.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Reader, Xlsx};
use fantoccini::{Client, Locator};
use portal_tests::Installation;

use crate::browser::{Driver, click, fill, save_screenshot, sign_in, submit, wait_for_path};

const PASSWORD: &str = "lantern-harbour-orbit";

async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

#[tokio::test]
async fn an_admin_manages_portal_users_end_to_end() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let admin = driver.client(1280, 900).await;
    sign_in(
        &admin,
        &server.url("/acme/manage/login"),
        "admin@acme-staffing.example",
        PASSWORD,
    )
    .await;
    wait_for_path(&admin, "/acme/manage").await;

    // A client first.
    admin
        .goto(&server.url("/acme/manage/clients/new"))
        .await
        .expect("goto");
    fill(&admin, "#name", "Lakeside Foods").await;
    fill(&admin, "#email", "ops@lakeside.example").await;
    submit(&admin, "form.form button[type=submit]").await;
    assert!(
        admin
            .source()
            .await
            .expect("source")
            .contains("The client was added.")
    );

    // A portal user by hand: the company fills in its email, the passphrase is generated.
    admin
        .goto(&server.url("/acme/manage/portal-users/new?mode=manual"))
        .await
        .expect("goto");
    fill(&admin, "#first_name", "Lena").await;
    fill(&admin, "#last_name", "Okafor").await;
    admin
        .find(Locator::Css("#role"))
        .await
        .expect("role")
        .select_by_value("customer-supervisor")
        .await
        .expect("role chosen");
    admin
        .find(Locator::Css("#company"))
        .await
        .expect("company")
        .select_by_label("Lakeside Foods")
        .await
        .expect("company chosen");
    let many = admin
        .find(Locator::Css("[data-scope=many]"))
        .await
        .expect("client list");
    assert!(
        !many.is_displayed().await.expect("displayed"),
        "a one-client role hides the list of clients"
    );
    assert_eq!(
        value(&admin, "#email").await,
        "ops@lakeside.example",
        "filled from the company"
    );
    fill(&admin, "#email", "lena@lakeside.example").await;
    let first = value(&admin, "#password").await;
    click(&admin, "[data-regenerate]").await;
    let mut generated = value(&admin, "#password").await;
    for _ in 0..50 {
        if generated != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        generated = value(&admin, "#password").await;
    }
    assert!(
        generated.len() >= 12 && generated != first,
        "{first} → {generated}"
    );
    save_screenshot(
        "portal-user-new-acme-1280x900.png",
        &admin.screenshot().await.expect("png"),
    );
    submit(&admin, "form[data-user-form] button[type=submit]").await;
    let url = admin.current_url().await.expect("url");
    assert!(
        url.path().starts_with("/acme/manage/portal-users/"),
        "{url}"
    );
    let user_page = url.path().to_owned();

    // Lena, in a browser of her own, must replace the password first.
    let lena = driver.client(390, 844).await;
    sign_in(
        &lena,
        &server.url("/acme/portal/login"),
        "lena@lakeside.example",
        &generated,
    )
    .await;
    lena.goto(&server.url("/acme/portal")).await.expect("goto");
    wait_for_path(&lena, "/acme/portal/account/password").await;
    fill(&lena, "#current", &generated).await;
    fill(&lena, "#password", "copper-meadow-violin").await;
    fill(&lena, "#confirm", "copper-meadow-violin").await;
    submit(&lena, "main button[type=submit]").await;
    lena.goto(&server.url("/acme/portal")).await.expect("goto");
    wait_for_path(&lena, "/acme/portal").await;

    // Deactivated: her next request finds her signed out.
    admin.goto(&server.url(&user_page)).await.expect("goto");
    submit(&admin, "form[action$='/deactivate'] button").await;
    assert!(
        admin
            .source()
            .await
            .expect("source")
            .contains("Deactivated: their sessions have ended.")
    );
    lena.goto(&server.url("/acme/portal")).await.expect("goto");
    wait_for_path(&lena, "/acme/portal/login").await;
    lena.close().await.expect("close");

    // Bulk delete of Northwind's users, after a confirmation naming how many.
    admin
        .goto(&server.url("/acme/manage/portal-users?q=northwind.example&sort=email"))
        .await
        .expect("goto");
    let picks = admin
        .find_all(Locator::Css("[data-pick]"))
        .await
        .expect("rows");
    let count = picks.len();
    assert!(count >= 2, "demo users of Northwind: {count}");
    click(&admin, "[data-select-all]").await;
    submit(&admin, "button[value=delete]").await;
    let heading = admin
        .find(Locator::Css("main h1"))
        .await
        .expect("h1")
        .text()
        .await
        .expect("text");
    assert_eq!(heading, format!("Delete {count} portal users?"));
    submit(&admin, "form[action$='/bulk/delete'] button[type=submit]").await;
    assert!(
        admin
            .source()
            .await
            .expect("source")
            .contains(&format!("Deleted {count} users."))
    );
    save_screenshot(
        "portal-users-acme-1280x900.png",
        &admin.screenshot().await.expect("png"),
    );

    // The list as XLSX, read back.
    let encoded = admin
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/acme/manage/portal-users/export?format=xlsx&q=lakeside')\
               .then(r => r.arrayBuffer())\
               .then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); done(btoa(s)); })\
               .catch(e => done('error: ' + e));",
            vec![],
        )
        .await
        .expect("download");
    let bytes = base64_decode(encoded.as_str().unwrap_or_default());
    let mut workbook = Xlsx::new(Cursor::new(bytes)).expect("an XLSX file");
    let sheet = workbook.sheet_names().first().cloned().expect("a sheet");
    let range = workbook.worksheet_range(&sheet).expect("the sheet");
    let cells: Vec<String> = range.rows().flatten().map(ToString::to_string).collect();
    assert!(cells.iter().any(|c| c == "Lena"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "lena@lakeside.example"));
    admin.close().await.expect("close");
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0_u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let Some(value) = ALPHABET.iter().position(|c| *c == byte) else {
            panic!("not base64: {text:.40}");
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}
