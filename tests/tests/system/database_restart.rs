//! PostgreSQL restarting under a running server: while it is away, every request is answered
//! at once with a 503 (the themed error page, or a problem object for the API) instead of
//! hanging or crashing; once it is back, the same server serves again without a restart.
//!
//! The test runs its own cluster (the shared one serves the other tests), in the PostgreSQL
//! pass only.

use std::time::Duration;

use portal_server::db::Backend;
use portal_tests::{Installation, PrivatePostgres, backend, browser, sign_in};
use reqwest::StatusCode;
use sqlx::{Connection, Executor};

const PASSWORD: &str = "lantern-harbour-orbit";

#[tokio::test]
async fn requests_fail_cleanly_while_postgres_restarts_and_recover_without_a_server_restart() {
    if backend() != Backend::Postgres {
        eprintln!("skipped on SQLite: restarts a PostgreSQL server");
        return;
    }
    let Some(cluster) = PrivatePostgres::start("portal").await else {
        return;
    };
    let installation = Installation::new().await;
    installation.edit_main_config(
        &format!(
            "url = \"{}\"\nmax_connections = 4\n",
            installation.database.url
        ),
        &format!(
            "url = \"{}\"\nmax_connections = 4\nacquire_timeout_seconds = 2\n",
            cluster.url("portal")
        ),
    );
    let seeded = installation.portal(&["demo", "seed"]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let token = installation.api_token("acme");
    let mut server = installation.serve().await;

    let david = browser();
    let signed_in = sign_in(
        &david,
        &server.url("/acme/portal/login"),
        "david@northwind.example",
        PASSWORD,
    )
    .await
    .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let dashboard = server.url("/acme/portal");
    let api = browser();
    let clients_url = server.url("/api/v1/acme/clients");
    let clients = || api.get(&clients_url).bearer_auth(&token).send();
    let status = |response: reqwest::Result<reqwest::Response>| {
        response.expect("an answer, not a hang").status()
    };
    assert_eq!(status(david.get(&dashboard).send().await), StatusCode::OK);
    assert_eq!(status(clients().await), StatusCode::OK);

    // A request in flight when the database goes: it waits on a lock the test holds on the
    // sessions table, and the shutdown ends its query.
    let mut blocker = sqlx::AnyConnection::connect(&cluster.url("portal"))
        .await
        .expect("connect");
    blocker
        .execute("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let in_flight = tokio::spawn(david.get(&dashboard).send());
    let mut waiting = 0;
    while waiting == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        )
        .fetch_one(&mut blocker)
        .await
        .expect("pg_stat_activity");
    }

    cluster.stop();
    assert_eq!(
        status(in_flight.await.expect("join")),
        StatusCode::SERVICE_UNAVAILABLE,
        "the request whose query the shutdown ended"
    );
    drop(blocker);
    // Then every request is answered 503 at once: a page, the API, the readiness check.
    for _ in 0..2 {
        let page = david
            .get(&dashboard)
            .send()
            .await
            .expect("an answer, not a hang");
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = page.text().await.expect("body");
        assert!(
            body.contains("Please try again in a moment") && body.contains("Acme Staffing"),
            "the agency's error page: {body}"
        );
        let problem = clients().await.expect("an answer, not a hang");
        assert_eq!(problem.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            problem
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let ready = api.get(server.url("/readyz")).send().await;
        assert_eq!(status(ready), StatusCode::SERVICE_UNAVAILABLE);
    }
    let alive = api.get(server.url("/healthz")).send().await;
    assert_eq!(status(alive), StatusCode::OK, "the process itself answers");
    assert!(server.is_running());

    cluster.start_again();
    // The very first requests after the database is back succeed: broken connections are
    // found and replaced when taken from the pool, and the session survived in the database.
    assert_eq!(status(david.get(&dashboard).send().await), StatusCode::OK);
    assert_eq!(status(clients().await), StatusCode::OK);
    let ready = api.get(server.url("/readyz")).send().await;
    assert_eq!(status(ready), StatusCode::OK);
    assert!(server.is_running());
}
