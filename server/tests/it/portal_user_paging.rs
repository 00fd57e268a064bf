//! Paging the portal-user list: Next and Previous links seek from the user next to the
//! page, the Last link reads from the other end, and every way through the list shows each
//! user once, in the same order as counting pages from the top.

use axum::http::StatusCode;
use portal_server::db::portal_users::SortBy;

use crate::clients::admin;
use crate::support::{Browser, TestApp};

const USERS: &str = "/acme/manage/portal-users";

/// Adds `count` users in one statement: names, roles, companies and statuses repeat, so
/// every sort has ties for the id to break, and every third user has never signed in.
async fn seed(app: &TestApp, count: usize) {
    let agency = app.agency_id("acme");
    let rows: Vec<String> = (0..count)
        .map(|n| {
            let login = if n % 3 == 0 {
                "NULL".to_owned()
            } else {
                (1_700_000_000 + (n * 7919) % 1_000).to_string()
            };
            format!(
                "({agency}, 'user{n:04}@client{}.example', '{}', '{}', '{}', '{}', {login}, \
                 {}, 0, '{}', 1)",
                n % 3,
                ["Ann", "Bo", "Cy"][n % 3],
                ["Smith", "Jones", "Brown", "Adams"][n % 4],
                ["customer-supervisor", "customer-limited"][n % 2],
                ["active", "invited", "deactivated"][n % 3],
                1_690_000_000 + (n % 5),
                ["Northwind", "Oakridge"][n % 2],
            )
        })
        .collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, status, \
         last_login_at, created_at, updated_at, company, client_count) VALUES {}",
        rows.join(", ")
    )))
    .execute(&app.state.db().pool)
    .await
    .expect("users");
}

/// The emails of the users a page shows, in order.
fn emails(body: &str) -> Vec<String> {
    body.split("data-label=\"Email\">")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// The target of the page's link with this `rel` (or text, for First and Last).
fn link(body: &str, label: &str) -> Option<String> {
    body.split("<a href=\"").skip(1).find_map(|rest| {
        let (href, after) = rest.split_once('"')?;
        let after = after.trim_start();
        (after.starts_with(&format!("rel=\"{label}\"")) || after.starts_with(&format!(">{label}<")))
            .then(|| format!("{USERS}{}", href.replace("&amp;", "&")))
    })
}

async fn page(admin: &mut Browser<'_>, path: &str) -> String {
    let page = admin.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}");
    page.body
}

/// Follows the `rel` links from `start` for at most `pages` pages; the emails of each page.
async fn walk(admin: &mut Browser<'_>, start: &str, rel: &str, pages: usize) -> Vec<Vec<String>> {
    let mut seen = Vec::new();
    let mut next = Some(start.to_owned());
    while let Some(path) = next.take() {
        let body = page(admin, &path).await;
        seen.push(emails(&body));
        if seen.len() < pages {
            next = link(&body, rel);
        }
    }
    seen
}

/// Every sort, both directions, with and without a filter: Next from the first page,
/// Previous from the Last, and `page=N` counted from the top show the same pages.
async fn ways_through_agree(admin: &mut Browser<'_>, filters: &[&str], size: usize, pages: usize) {
    for sort in SortBy::ALL.map(SortBy::as_str) {
        for dir in ["asc", "desc"] {
            for filter in filters {
                let list = format!("{USERS}?sort={sort}&dir={dir}&size={size}{filter}");
                let forward = walk(admin, &list, "next", pages).await;
                let mut counted = Vec::new();
                for n in 1..=forward.len() {
                    counted.push(emails(&page(admin, &format!("{list}&page={n}")).await));
                }
                assert_eq!(forward, counted, "{list}: Next against page=N");
                let first = page(admin, &list).await;
                if let Some(last) = link(&first, "Last") {
                    let mut backward = walk(admin, &last, "prev", pages).await;
                    backward.reverse();
                    let mut tail = Vec::new();
                    let last_number = last
                        .split("page=")
                        .nth(1)
                        .and_then(|rest| rest.split('&').next())
                        .and_then(|n| n.parse::<usize>().ok())
                        .expect("page number");
                    for n in last_number + 1 - backward.len()..=last_number {
                        tail.push(emails(&page(admin, &format!("{list}&page={n}")).await));
                    }
                    assert_eq!(backward, tail, "{list}: Previous from Last against page=N");
                }
            }
        }
    }
}

#[tokio::test]
async fn next_previous_and_last_show_every_user_once_in_every_order() {
    let app = TestApp::spawn().await;
    seed(&app, 47).await;
    let mut admin = admin(&app).await;
    let filters = [
        "",
        "&status=active",
        "&q=smith",
        "&q=client1&status=invited",
    ];
    ways_through_agree(&mut admin, &filters, 10, usize::MAX).await;

    let all = walk(
        &mut admin,
        &format!("{USERS}?sort=email&size=10"),
        "next",
        usize::MAX,
    )
    .await;
    let flat: Vec<String> = all.concat();
    let expected: Vec<String> = (0..47)
        .map(|n| format!("user{n:04}@client{}.example", n % 3))
        .collect();
    assert_eq!(flat, expected, "every user once, by email");
    assert_eq!(all.len(), 5);
    let second = page(&mut admin, &format!("{USERS}?sort=email&size=10&page=2")).await;
    assert!(second.contains("11–20 of 47"), "{second}");
    assert!(
        link(&second, "First").is_none(),
        "Previous is the first page"
    );
    let last = link(&second, "Last").expect("a Last link");
    assert!(last.contains("at=end"), "{last}");
    let last = page(&mut admin, &last).await;
    assert!(
        last.contains("41–47 of 47"),
        "the Last page is numbered: {last}"
    );
    assert!(link(&last, "Next").is_none() && link(&last, "Last").is_none());
}

#[tokio::test]
async fn a_search_matching_many_users_walks_the_sort_index() {
    let app = TestApp::spawn().await;
    // More than the list sorts in one go (10,000): the search pages like the full list.
    seed(&app, 10_100).await;
    // And a thousand it does not match, first in the order by name.
    sqlx::query(
        "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, status, \
         last_login_at, created_at, updated_at, company, client_count) \
         SELECT agency_id, 'other' || id || '@elsewhere.test', first_name, 'Aardvark', \
         role_id, status, last_login_at, created_at, updated_at, company, client_count \
         FROM portal_users WHERE id IN (SELECT id FROM portal_users ORDER BY id LIMIT 1000)",
    )
    .execute(&app.state.db().pool)
    .await
    .expect("users the search does not match");
    let mut admin = admin(&app).await;
    let wide = page(&mut admin, &format!("{USERS}?q=example&size=100")).await;
    assert!(
        wide.contains("1–100 of more than 10000"),
        "a wide search is counted so far: {wide}"
    );
    assert!(link(&wide, "Last").is_none(), "no last page to jump to");
    let end = page(&mut admin, &format!("{USERS}?q=example&size=100&at=end")).await;
    assert_eq!(emails(&end), emails(&wide), "at=end shows the first page");
    let below = page(
        &mut admin,
        &format!("{USERS}?q=example&status=active&size=100"),
    )
    .await;
    assert!(below.contains("1–100 of 3367"), "counted when fewer match");
    // The walk passes the thousand, in several rounds, before its first page is full.
    let walked = page(&mut admin, &format!("{USERS}?q=example&sort=name&size=100")).await;
    let listed = page(&mut admin, &format!("{USERS}?sort=name&size=100&page=11")).await;
    assert!(listed.contains("1001–1100 of 11100"), "{listed}");
    assert_eq!(
        emails(&walked),
        emails(&listed),
        "the first users that match"
    );
    let narrow = page(&mut admin, &format!("{USERS}?q=user00&size=100")).await;
    assert!(narrow.contains("1–100 of 100"), "narrow search counts");
    ways_through_agree(
        &mut admin,
        &["&q=example", "&q=smith&status=active"],
        100,
        3,
    )
    .await;
}

#[tokio::test]
async fn a_page_next_to_a_deleted_user_falls_back_to_its_number() {
    let app = TestApp::spawn().await;
    seed(&app, 25).await;
    let mut admin = admin(&app).await;
    let first = page(&mut admin, &format!("{USERS}?sort=email&size=10")).await;
    let next = link(&first, "next").expect("next");
    let boundary = emails(&first).pop().expect("a user");
    sqlx::query("DELETE FROM portal_users WHERE email = $1")
        .bind(&boundary)
        .execute(&app.state.db().pool)
        .await
        .expect("delete");
    let second = page(&mut admin, &next).await;
    assert!(second.contains("11–20 of 24"), "{second}");
    assert_eq!(
        emails(&second).first().map(String::as_str),
        Some("user0011@client2.example"),
        "counted from the top once the user is gone"
    );
}

#[tokio::test]
async fn counts_follow_users_coming_going_and_changing_status() {
    let app = TestApp::spawn().await;
    seed(&app, 30).await;
    let pool = &app.state.db().pool;
    let mut admin = admin(&app).await;
    let summary = |body: &str| {
        body.split("class=\"summary\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(summary(&page(&mut admin, USERS).await), "1–25 of 30");
    for sql in [
        "UPDATE portal_users SET status = 'deactivated' WHERE email = 'user0000@client0.example'",
        "DELETE FROM portal_users WHERE email = 'user0003@client0.example'",
        "UPDATE portal_users SET first_name = 'Di' WHERE email = 'user0006@client0.example'",
    ] {
        sqlx::query(sql).execute(pool).await.expect(sql);
    }
    for (status, expected) in [
        ("", "1–25 of 29"),
        ("active", "1–8 of 8"),
        ("invited", "1–10 of 10"),
        ("deactivated", "1–11 of 11"),
    ] {
        let body = page(&mut admin, &format!("{USERS}?status={status}")).await;
        assert_eq!(summary(&body), expected, "status {status:?}");
    }
}
