//! Searching the portal-user list: however the matches are found (the trigram index, the
//! covering index, a walk of the sort index), a search shows exactly the users whose name,
//! email or company hold what was typed, in the list's order, counted, page by page both
//! ways, and follows users as they come, change and go.

use portal_server::db::portal_users::{
    self, Filter, Listing, PortalUser, PortalUserStatus, Seek, SortBy,
};

use crate::support::TestApp;

const SIZE: i64 = 6;

/// Adds `count` users whose names hold accents, upper and lower case, quotes and the LIKE
/// wildcards `%`, `_` and `\`; statuses, companies and sign-ins repeat so sorts have ties.
async fn seed(app: &TestApp, slug: &str, count: usize) {
    const FIRST: [&str; 5] = ["Ann", "Zoë", "ÉLODIE", "Bo", "Øyvind"];
    const LAST: [&str; 7] = [
        "Smith",
        "Jones",
        "O'Brien",
        "Per%cent",
        "Under_score",
        "Back\\slash",
        "Ångström",
    ];
    const COMPANIES: [&str; 3] = ["Northwind", "Oakridge", "100%_Club"];
    let agency = app.agency_id(slug);
    for n in 0..count {
        sqlx::query(
            "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, status, \
             last_login_at, created_at, updated_at, company, client_count) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 1)",
        )
        .bind(agency)
        .bind(format!("user{n:03}@{slug}.example"))
        .bind(FIRST[n % FIRST.len()])
        .bind(LAST[n % LAST.len()])
        .bind(["customer-supervisor", "customer-limited"][n % 2])
        .bind(["active", "invited", "deactivated"][n % 3])
        .bind((n % 4 != 0).then_some(1_700_000_000 + (n as i64 * 7919) % 50))
        .bind(1_690_000_000 + (n % 5) as i64)
        .bind(COMPANIES[n % COMPANIES.len()])
        .execute(&app.state.db().pool)
        .await
        .expect("user");
    }
}

/// The users a search should show, in order: every user of the agency whose search text is
/// LIKE what was typed, sorted by the list's columns, read straight from the table.
async fn expected(app: &TestApp, filter: &Filter) -> Vec<i64> {
    let keys: &[&str] = match filter.sort {
        SortBy::Name => &["last_name", "first_name"],
        SortBy::Email => &["email"],
        SortBy::Company => &["company"],
        SortBy::Role => &["role_id"],
        SortBy::Status => &["status"],
        SortBy::LastSignIn => &["COALESCE(last_login_at, -1)"],
        SortBy::Created => &["created_at"],
    };
    let direction = if filter.descending { " DESC" } else { "" };
    let order = keys
        .iter()
        .chain(&["id"])
        .map(|key| format!("{key}{direction}"))
        .collect::<Vec<_>>()
        .join(", ");
    let typed = filter.search.trim().to_lowercase();
    let mut literal = String::new();
    for c in typed.chars() {
        if matches!(c, '%' | '_' | '\\') {
            literal.push('\\');
        }
        literal.push(c);
    }
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM portal_users WHERE agency_id = $1 AND search_text LIKE $2 ESCAPE '\\' \
         AND ($3 = '' OR status = $3) ORDER BY {order}"
    )))
    .bind(app.agency_id("acme"))
    .bind(format!("%{literal}%"))
    .bind(filter.status.map_or("", PortalUserStatus::as_str))
    .fetch_all(&app.state.db().pool)
    .await
    .expect("expected users")
}

async fn list(app: &TestApp, filter: &Filter, seek: Seek) -> Listing {
    portal_users::list(app.state.db(), app.agency_id("acme"), filter, SIZE, seek)
        .await
        .expect("list")
}

/// The first page of a search, by name.
async fn first_page(app: &TestApp, search: &str) -> Listing {
    let filter = Filter {
        search: search.to_owned(),
        ..Filter::default()
    };
    list(app, &filter, Seek::Offset(0)).await
}

/// The users the first page of a search shows.
async fn found(app: &TestApp, search: &str) -> Vec<i64> {
    ids(&first_page(app, search).await.users)
}

fn ids(users: &[PortalUser]) -> Vec<i64> {
    users.iter().map(|user| user.id).collect()
}

/// Page by page with Next from the first page, with Previous from the last, and counted
/// from the top: each way shows the expected users once, in order, with their count.
async fn pages_agree(app: &TestApp, filter: &Filter) {
    let want = expected(app, filter).await;
    let total = i64::try_from(want.len()).expect("count");
    let what = format!(
        "{:?} status {:?} by {} {}",
        filter.search,
        filter.status,
        filter.sort.as_str(),
        if filter.descending { "desc" } else { "asc" }
    );

    let mut forward = Vec::new();
    let mut seek = Seek::Offset(0);
    loop {
        let page = list(app, filter, seek).await;
        assert_eq!(page.total, total, "{what}: count");
        forward.extend(ids(&page.users));
        match page.users.last() {
            Some(last) if forward.len() < want.len() => {
                seek = Seek::After {
                    id: last.id,
                    offset: i64::try_from(forward.len()).expect("offset"),
                };
            }
            _ => break,
        }
    }
    assert_eq!(forward, want, "{what}: Next");

    let mut backward = Vec::new();
    let mut seek = Seek::Last;
    loop {
        let page = list(app, filter, seek).await;
        assert_eq!(page.total, total, "{what}: count from the end");
        let mut shown = ids(&page.users);
        shown.extend(backward);
        backward = shown;
        match page.users.first() {
            Some(first) if backward.len() < want.len() => {
                seek = Seek::Before {
                    id: first.id,
                    offset: (total - i64::try_from(backward.len()).expect("offset") - SIZE).max(0),
                };
            }
            _ => break,
        }
    }
    assert_eq!(backward, want, "{what}: Previous from the Last page");

    for (number, chunk) in want.chunks(SIZE as usize).enumerate() {
        let offset = i64::try_from(number).expect("page") * SIZE;
        let page = list(app, filter, Seek::Offset(offset)).await;
        assert_eq!(ids(&page.users), chunk, "{what}: page at {offset}");
    }
    let past = list(app, filter, Seek::Offset(total + SIZE)).await;
    assert!(past.users.is_empty(), "{what}: past the last page");
    assert_eq!(past.total, total, "{what}: count past the last page");
}

/// Every sort, both directions, alone and with a status.
async fn every_order_agrees(app: &TestApp, search: &str) {
    for sort in SortBy::ALL {
        for descending in [false, true] {
            for status in [None, Some(PortalUserStatus::Active)] {
                let filter = Filter {
                    search: search.to_owned(),
                    status,
                    sort,
                    descending,
                    within: None,
                };
                pages_agree(app, &filter).await;
            }
        }
    }
}

/// Selective and wide searches, searches shorter than a trigram, LIKE wildcards taken
/// literally, accents and case, and what is in another agency staying there.
#[tokio::test]
async fn a_search_shows_exactly_its_matches_in_every_order() {
    let app = TestApp::spawn().await;
    seed(&app, "acme", 42).await;
    seed(&app, "brightfix", 20).await;
    for search in [
        "smith",
        "  SMITH ",
        "example",
        "acme.example",
        "brightfix",
        "a",
        "zo",
        "%",
        "_",
        "\\",
        "r%c",
        "r_s",
        "k\\s",
        "100%_",
        "o'b",
        "zoë",
        "ZOË",
        "élodie",
        "ångström",
        "user01",
        "user007@",
        "nobody here",
    ] {
        every_order_agrees(&app, search).await;
    }
    let one = first_page(&app, "user007@acme").await;
    assert_eq!(one.total, 1);
    assert_eq!(one.users[0].email, "user007@acme.example");
    let literal = first_page(&app, "r%c").await;
    assert!(literal.total > 0);
    assert!(
        literal
            .users
            .iter()
            .all(|user| user.last_name == "Per%cent"),
        "% is a percent sign, not a wildcard"
    );
}

/// Users added, renamed, deactivated and deleted are found by what they hold now, and no
/// longer by what they held.
#[tokio::test]
async fn a_search_follows_users_as_they_change() {
    let app = TestApp::spawn().await;
    seed(&app, "acme", 30).await;
    let pool = &app.state.db().pool;
    let client = app.client("acme", "Quillfeather Ltd").await;
    let added = app
        .portal_user("acme", "newcomer@quill.example", None, client, false)
        .await;
    for sql in [
        "UPDATE portal_users SET last_name = 'Fairweather' WHERE email = 'user000@acme.example'",
        "UPDATE portal_users SET email = 'renamed@zephyr.example' \
         WHERE email = 'user001@acme.example'",
        "UPDATE portal_users SET status = 'deactivated' WHERE email = 'user003@acme.example'",
        "DELETE FROM portal_users WHERE email = 'user007@acme.example'",
        "UPDATE clients SET name = 'Inkwell Partners' WHERE name = 'Quillfeather Ltd'",
    ] {
        sqlx::query(sql).execute(pool).await.expect(sql);
    }
    for search in [
        "fairweather",
        "zephyr",
        "user001",
        "user007",
        "smith",
        "quill",
        "inkwell",
        "newcomer",
    ] {
        every_order_agrees(&app, search).await;
    }
    assert_eq!(
        found(&app, "inkwell").await,
        [added],
        "the company follows the client"
    );
    assert!(found(&app, "quillfeather ltd").await.is_empty());
    assert!(found(&app, "user007@").await.is_empty(), "deleted");
    assert_eq!(found(&app, "fairweather").await.len(), 1);
    let deactivated = list(
        &app,
        &Filter {
            search: "user003".to_owned(),
            status: Some(PortalUserStatus::Deactivated),
            ..Filter::default()
        },
        Seek::Offset(0),
    )
    .await;
    assert_eq!(deactivated.total, 1, "found under its new status");
}
