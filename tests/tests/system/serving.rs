//! `portal serve` over real HTTP.

use portal_server::db::Backend;
use portal_tests::{Installation, backend};

#[tokio::test]
async fn serves_the_sign_in_page_and_stops_gracefully() {
    let installation = Installation::new().await;
    let server = installation.serve().await;
    let page = reqwest::get(server.url("/acme/portal/login"))
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    let body = page.text().await.expect("body");
    assert!(
        body.contains("Acme Staffing") && body.contains("name=\"password\""),
        "{body}"
    );
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn two_servers_on_one_postgres_migrate_without_racing() {
    if backend() != Backend::Postgres {
        eprintln!("skipped on SQLite: several processes share a PostgreSQL database only");
        return;
    }
    let installation = Installation::new().await;
    // Both start at once against a database that has never been migrated.
    let (first, second) = tokio::join!(installation.serve(), installation.serve());
    for server in [&first, &second] {
        let page = reqwest::get(server.url("/brightfix/portal/login"))
            .await
            .expect("get");
        assert_eq!(page.status(), 200, "{}", server.base);
    }
    let output = installation.portal(&["agency", "list"]);
    let listing = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        listing
            .lines()
            .filter(|l| l.starts_with("acme ") || l.starts_with("brightfix "))
            .count(),
        2,
        "{listing}"
    );
}
