//! Two `portal serve` processes on one PostgreSQL database, as behind a load balancer: a
//! request may land on either, so sessions, deactivations and sign-in throttling must hold
//! across both. (Email workers on both sending each email once is proven in `mail.rs`.)

use portal_server::db::Backend;
use portal_server::db::accounts::{self, AccountKind};
use portal_server::state::AppState;
use portal_tests::{Installation, Server, backend, browser, post_form};
use reqwest::StatusCode;

const PASSWORD: &str = "lantern-harbour-orbit";

/// A seeded installation with two servers, or `None` on SQLite (one process per file).
async fn two_servers(extra_config: Option<&str>) -> Option<(Installation, Server, Server)> {
    if backend() != Backend::Postgres {
        eprintln!("skipped on SQLite: several processes share a PostgreSQL database only");
        return None;
    }
    let installation = Installation::with_demo_data().await;
    if let Some(extra) = extra_config {
        installation.edit_main_config(
            "[log]\nlevel = \"warn\"\n",
            &format!("[log]\nlevel = \"warn\"\n\n{extra}"),
        );
    }
    let (first, second) = tokio::join!(installation.serve(), installation.serve());
    Some((installation, first, second))
}

/// Signs in at acme's `area` (`portal` or `manage`) on `server`.
async fn sign_in(
    client: &reqwest::Client,
    server: &Server,
    area: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let login = server.url(&format!("/acme/{area}/login"));
    portal_tests::sign_in(client, &login, email, password)
        .await
        .expect("sign in")
}

async fn status_of(client: &reqwest::Client, url: &str) -> StatusCode {
    client.get(url).send().await.expect("get").status()
}

#[tokio::test]
async fn a_session_from_one_server_is_valid_on_the_other_until_signed_out_there() {
    let Some((_installation, first, second)) = two_servers(None).await else {
        return;
    };
    let browser = browser();
    let signed_in = sign_in(
        &browser,
        &first,
        "portal",
        "david@northwind.example",
        PASSWORD,
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);

    for server in [&first, &second] {
        assert_eq!(
            status_of(&browser, &server.url("/acme/portal")).await,
            StatusCode::OK,
            "{}",
            server.base
        );
    }

    // Sign out on the second server: the first no longer knows the session either.
    let signed_out = post_form(
        &browser,
        &second.url("/acme/portal"),
        &second.url("/acme/portal/logout"),
        &[],
    )
    .await
    .expect("sign out");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        status_of(&browser, &first.url("/acme/portal")).await,
        StatusCode::SEE_OTHER,
        "signed out on one server, still signed in on the other"
    );
}

#[tokio::test]
async fn a_deactivation_on_one_server_ends_the_session_on_the_other_at_once() {
    let Some((installation, first, second)) = two_servers(None).await else {
        return;
    };
    let state = AppState::build(installation.settings(), &installation.config)
        .await
        .expect("state");
    let acme = state.agency("acme").expect("acme");
    let recruiter = accounts::by_email(
        &state.db().pool,
        AccountKind::Staff,
        acme.id,
        "recruiter@acme-staffing.example",
    )
    .await
    .expect("query")
    .expect("the demo recruiter");

    // The recruiter works on the first server; cookies are per host, so a second client.
    let recruiter_browser = browser();
    let signed_in = sign_in(
        &recruiter_browser,
        &first,
        "manage",
        "recruiter@acme-staffing.example",
        PASSWORD,
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        status_of(&recruiter_browser, &first.url("/acme/manage")).await,
        StatusCode::OK
    );

    // The admin, on the second server, deactivates the recruiter.
    let admin = browser();
    let signed_in = sign_in(
        &admin,
        &second,
        "manage",
        "admin@acme-staffing.example",
        PASSWORD,
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let deactivated = post_form(
        &admin,
        &second.url("/acme/manage/staff"),
        &second.url(&format!("/acme/manage/staff/{}/deactivate", recruiter.id)),
        &[],
    )
    .await
    .expect("deactivate");
    assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);

    // The recruiter's very next request, on the first server, is no longer signed in.
    assert_eq!(
        status_of(&recruiter_browser, &first.url("/acme/manage")).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn failed_sign_ins_on_both_servers_count_towards_one_lock() {
    let Some((_installation, first, second)) = two_servers(Some(
        "[security]\nthrottle_delay_after = 3\nthrottle_lock_after = 4\n",
    ))
    .await
    else {
        return;
    };
    let email = "david@northwind.example";
    // Two failures on each server: neither alone reaches the lock threshold of four.
    for server in [&first, &second, &first, &second] {
        let failed = sign_in(&browser(), server, "portal", email, "wrong password").await;
        assert_ne!(failed.status(), StatusCode::SEE_OTHER, "{}", server.base);
    }
    for server in [&first, &second] {
        let refused = sign_in(&browser(), server, "portal", email, PASSWORD).await;
        assert_ne!(
            refused.status(),
            StatusCode::SEE_OTHER,
            "the right password signed in on {} while the account is locked",
            server.base
        );
    }
}
