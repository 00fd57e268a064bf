//! The sign-in pages in headless Chromium: both demo agencies, each with its own look down to
//! the wallpaper and logo. Screenshots go to `tests/artifacts/`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use portal_tests::{Installation, free_port, repo_root};

/// ChromeDriver started for one test; `None` (with a note) when the run has no browser.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(crate) fn start() -> Option<Self> {
        let Some(path) = std::env::var_os("PORTAL_CHROMEDRIVER") else {
            eprintln!(
                "browser test skipped: PORTAL_CHROMEDRIVER is not set (cargo xtask test sets it)"
            );
            return None;
        };
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    pub(crate) async fn client(&self, width: u32, height: u32) -> Client {
        self.client_with(width, height, &[]).await
    }

    /// A browser of this size with Chromium arguments of its own (script off, say).
    pub(crate) async fn client_with(&self, width: u32, height: u32, extra: &[&str]) -> Client {
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            format!("--window-size={width},{height}"),
        ];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args }),
        );
        for _ in 0..50 {
            // ChromeDriver speaks plain HTTP on loopback: no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            if let Ok(client) = ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("cannot connect to chromedriver at {}", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn save_screenshot(name: &str, png: &[u8]) {
    let dir = repo_root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// Replaces the text of the field `css` with `text`.
pub(crate) async fn fill(client: &Client, css: &str, text: &str) {
    let field = find(client, Locator::Css(css)).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// Clicks `css` where no new page follows (a script runs, a menu opens).
pub(crate) async fn click(client: &Client, css: &str) {
    find(client, Locator::Css(css))
        .await
        .click()
        .await
        .expect("click");
}

/// Clicks `css` and waits for the page it leads to (a form post, its redirect and the next
/// page's load): the old page's document goes stale, then the new one finishes loading.
/// Anything done before that may abandon the post or read the old page.
pub(crate) async fn submit(client: &Client, css: &str) {
    follow(client, Locator::Css(css)).await;
}

/// Clicks what `locator` finds (a link, a button) and waits for the page it leads to, as
/// [`submit`] does.
pub(crate) async fn follow(client: &Client, locator: Locator<'_>) {
    let old = client.find(Locator::Css("html")).await.expect("a page");
    find(client, locator).await.click().await.expect("click");
    for _ in 0..150 {
        if old.tag_name().await.is_err() && loaded(client).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{locator:?} led to no new page: still at {}",
        here(client).await
    );
}

/// Waits until the page's path is exactly `path` and the page has loaded.
pub(crate) async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..150 {
        if client.current_url().await.is_ok_and(|u| u.path() == path) && loaded(client).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {path}: at {}", here(client).await);
}

/// Signs in on the sign-in page at `url` and waits for the page that follows.
pub(crate) async fn sign_in(client: &Client, url: &str, email: &str, password: &str) {
    client.goto(url).await.expect("goto");
    fill(client, "#email", email).await;
    fill(client, "#password", password).await;
    submit(client, "form button[type=submit]").await;
}

async fn find(client: &Client, locator: Locator<'_>) -> Element {
    match client.find(locator).await {
        Ok(element) => element,
        Err(_) => panic!("no {locator:?} on {}", here(client).await),
    }
}

async fn loaded(client: &Client) -> bool {
    client
        .execute("return document.readyState", vec![])
        .await
        .is_ok_and(|state| state == "complete")
}

async fn here(client: &Client) -> String {
    client
        .current_url()
        .await
        .map_or_else(|e| format!("({e})"), |u| u.to_string())
}

#[tokio::test]
async fn each_agency_sign_in_page_shows_its_own_branding() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::new().await;
    let server = installation.serve().await;
    let mut looks = Vec::new();
    for (slug, name, size) in [
        ("acme", "Acme Staffing", (1280, 800)),
        ("brightfix", "BrightFix Facilities", (1280, 800)),
        ("acme", "Acme Staffing", (390, 844)),
    ] {
        let client = driver.client(size.0, size.1).await;
        client
            .goto(&server.url(&format!("/{slug}/portal/login")))
            .await
            .expect("goto");
        let title = client.title().await.expect("title");
        assert!(title.ends_with(name), "{title}");
        let logo = client
            .find(Locator::Css(".login-brand img"))
            .await
            .expect("logo");
        assert_eq!(logo.attr("alt").await.expect("alt").as_deref(), Some(name));
        let logo_loaded = client
            .execute(
                "return document.querySelector('.login-brand img').naturalWidth > 0",
                vec![],
            )
            .await
            .expect("js");
        assert_eq!(
            logo_loaded,
            serde_json::Value::Bool(true),
            "{slug} logo did not load"
        );
        let wallpaper = client
            .execute(
                "return document.querySelector('.login-wallpaper img').naturalWidth",
                vec![],
            )
            .await
            .expect("js");
        assert!(
            wallpaper.as_u64().unwrap_or(0) > 0,
            "{slug} wallpaper did not load"
        );
        // Labels belong to their fields, and the keyboard reaches them in order.
        let email = client
            .find(Locator::Css("label[for=email] + input#email"))
            .await;
        assert!(email.is_ok(), "email field is labelled");
        let button_color = client
            .execute("return getComputedStyle(document.querySelector('.button-primary')).backgroundColor", vec![])
            .await
            .expect("js");
        looks.push(button_color.as_str().unwrap_or_default().to_owned());
        let width = client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .expect("js");
        assert_eq!(
            width,
            serde_json::Value::Bool(true),
            "{slug} scrolls sideways at {size:?}"
        );
        let png = client.screenshot().await.expect("screenshot");
        save_screenshot(&format!("login-{slug}-{}x{}.png", size.0, size.1), &png);
        client.close().await.expect("close");
    }
    assert_ne!(looks[0], looks[1], "both agencies look the same: {looks:?}");
}

#[tokio::test]
async fn a_client_contact_signs_in_with_the_keyboard_and_out_again() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let client = driver.client(390, 844).await;
    client
        .goto(&server.url("/acme/portal/login"))
        .await
        .expect("goto");
    // Keyboard only: focus the email field, type, Tab to the password, Enter submits.
    client
        .find(Locator::Id("email"))
        .await
        .expect("email")
        .click()
        .await
        .expect("focus");
    client
        .active_element()
        .await
        .expect("active")
        .send_keys("david@northwind.example\u{E004}lantern-harbour-orbit\u{E007}")
        .await
        .expect("type");
    wait_for_path(&client, "/acme/portal").await;
    let heading = client
        .find(Locator::Css("main h1"))
        .await
        .expect("h1")
        .text()
        .await
        .expect("text");
    assert_eq!(heading, "Welcome, David Thompson");
    let page = client.source().await.expect("source");
    assert!(
        page.contains("Northwind Manufacturing") && !page.contains("Contoso"),
        "only their company"
    );
    save_screenshot(
        "portal-home-acme-390x844.png",
        &client.screenshot().await.expect("screenshot"),
    );
    // On a phone the menu opens from its button, with Enter like any button.
    let toggle = client
        .find(Locator::Css(".nav-toggle"))
        .await
        .expect("menu button");
    toggle.send_keys("\u{E007}").await.expect("Enter");
    assert_eq!(
        toggle.attr("aria-expanded").await.expect("attr").as_deref(),
        Some("true")
    );
    submit(&client, ".site-nav button").await;
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/acme/portal/login"
    );
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("You have signed out.")
    );
    client
        .goto(&server.url("/acme/portal"))
        .await
        .expect("goto");
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/acme/portal/login"
    );
    client.close().await.expect("close");
}

/// The admin's email page and branding preview in Chromium, on a desktop and a phone: the
/// navigation marks the page, the table stacks instead of scrolling the page sideways.
#[tokio::test]
async fn an_admin_sees_the_email_outbox_and_the_branding_preview() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::new().await;
    let mut create = std::process::Command::new(portal_tests::portal_bin())
        .arg("--config")
        .arg(&installation.config)
        .args([
            "staff",
            "create",
            "--agency",
            "acme",
            "--email",
            "ada@acme-staffing.example",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("portal staff create");
    if let Some(mut stdin) = create.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(b"lantern-harbour-orbit\n")
            .expect("password");
    }
    assert!(create.wait().expect("staff create").success());
    let state =
        portal_server::state::AppState::build(installation.settings(), &installation.config)
            .await
            .expect("state");
    let acme = state.agency("acme").expect("acme");
    for (template, to) in [
        ("invite", "laura.chen@northwind.example"),
        ("password-reset", "david.clarke@northwind.example"),
        ("timesheet-rejected", "recruiter@acme-staffing.example"),
    ] {
        let mut conn = state.db().pool.acquire().await.expect("connection");
        let vars = portal_server::mail::sample_variables(template, &acme.theme.agency_url);
        portal_server::mail::enqueue(
            &mut conn,
            &acme,
            portal_server::mail::Email { template, to, vars },
        )
        .await
        .expect("enqueue");
    }
    state.db().pool.close().await;
    let server = installation.serve().await;

    for size in [(1280, 800), (390, 844)] {
        let client = driver.client(size.0, size.1).await;
        sign_in(
            &client,
            &server.url("/acme/manage/login"),
            "ada@acme-staffing.example",
            "lantern-harbour-orbit",
        )
        .await;
        client
            .goto(&server.url("/acme/manage/outbox"))
            .await
            .expect("goto");
        if size.0 < 640 {
            click(&client, ".nav-toggle").await;
        }
        let current = client
            .find(Locator::Css(".site-nav a[aria-current=page]"))
            .await
            .expect("current page in the navigation");
        assert_eq!(current.text().await.expect("text"), "Email");
        let rows = client
            .find_all(Locator::Css(".table tbody tr"))
            .await
            .expect("rows");
        assert_eq!(rows.len(), 3);
        let fits = client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .expect("js");
        assert_eq!(
            fits,
            serde_json::Value::Bool(true),
            "outbox scrolls sideways at {size:?}"
        );
        let png = client.screenshot().await.expect("screenshot");
        save_screenshot(&format!("outbox-acme-{}x{}.png", size.0, size.1), &png);

        client
            .goto(&server.url("/acme/manage/branding/emails/invite"))
            .await
            .expect("goto");
        let frame = client
            .find(Locator::Css("iframe.preview-frame"))
            .await
            .expect("preview frame");
        assert!(
            frame
                .attr("src")
                .await
                .expect("src")
                .is_some_and(|src| src.ends_with("/emails/invite/html"))
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let png = client.screenshot().await.expect("screenshot");
        save_screenshot(&format!("branding-acme-{}x{}.png", size.0, size.1), &png);
        client.close().await.expect("close");
    }
}

/// No page of either area scrolls sideways on a phone: wide tables scroll inside their box
/// (or stack into cards), and nothing hidden for screen readers widens the page.
#[tokio::test]
async fn every_page_fits_a_phone() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let installation = Installation::with_demo_data().await;
    let server = installation.serve().await;
    let areas = [
        (
            "/acme/manage/login",
            "admin@acme-staffing.example",
            &[
                "/acme/manage",
                "/acme/manage/timesheets",
                "/acme/manage/timesheets?status=rejected",
                "/acme/manage/timesheets/1",
                "/acme/manage/timesheets/locks",
                "/acme/manage/work-requests",
                "/acme/manage/work-requests/1",
                "/acme/manage/on-site",
                "/acme/manage/on-site/fire-roll",
                "/acme/manage/clients",
                "/acme/manage/clients/1",
                "/acme/manage/portal-users",
                "/acme/manage/staff",
                "/acme/manage/audit",
                "/acme/manage/api-tokens",
                "/acme/manage/plugins",
                "/acme/manage/outbox",
                "/acme/manage/branding",
                "/acme/manage/settings",
                "/acme/manage/import",
                "/acme/manage/account",
            ][..],
        ),
        (
            "/acme/portal/login",
            "david@northwind.example",
            &[
                "/acme/portal",
                "/acme/portal/timesheets",
                "/acme/portal/reports",
                "/acme/portal/on-site",
                "/acme/portal/invoices",
                "/acme/portal/documents",
                "/acme/portal/work-requests",
                "/acme/portal/work-requests/new",
                "/acme/portal/users",
                "/acme/portal/account",
            ][..],
        ),
    ];
    for (login, email, pages) in areas {
        let client = driver.client(390, 844).await;
        sign_in(&client, &server.url(login), email, "lantern-harbour-orbit").await;
        for page in pages {
            client.goto(&server.url(page)).await.expect("goto");
            let widest = client
                .execute("return document.documentElement.scrollWidth", vec![])
                .await
                .expect("js");
            let width = client
                .execute("return window.innerWidth", vec![])
                .await
                .expect("js");
            assert!(
                widest.as_u64() <= width.as_u64(),
                "{page} is {widest} wide on a {width} px phone"
            );
        }
        client.close().await.expect("close");
    }
}
