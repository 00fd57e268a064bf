//! Data-feed batch bodies (`POST /api/v1/{agency}/{kind}/batch`): raw bytes through
//! `feed::batch_rows`, as the handler reads them, then every row through `feed::apply_rows`
//! — field checks, references resolved by external id, the upsert — against a SQLite
//! database holding one agency with a client `C1`, its worksite `S1` and a worker `W1`. The
//! first byte picks the kind of row. Every batch is a dry run, so each input starts from the
//! same database.
//!
//! Checks beyond "no panic": no body makes a server error (only per-row field problems);
//! results come back one per row, in order; and sending a batch twice changes nothing the
//! second time (each row with an external id of its own is `unchanged` after it was
//! `created` or `updated`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portal_server::config::{DatabaseConfig, Secret};
use portal_server::db::Db;
use portal_server::db::audit::Actor;
use portal_server::feed::clients::Clients;
use portal_server::feed::clock_events::ClockEvents;
use portal_server::feed::invoices::Invoices;
use portal_server::feed::jobs::Jobs;
use portal_server::feed::quotes::Quotes;
use portal_server::feed::timesheets::Timesheets;
use portal_server::feed::workers::Workers;
use portal_server::feed::worksites::Worksites;
use portal_server::feed::{self, Entity, RowResult, Rows};
use serde_json::{Value, json};

const ACTOR: Actor<'static> = Actor {
    kind: "system",
    id: None,
    label: "fuzz",
    ip: "",
};

/// The database (kept for the whole run) and the agency the rows belong to.
struct Feed {
    runtime: tokio::runtime::Runtime,
    db: Db,
    agency_id: i64,
    _dir: tempfile::TempDir,
}

fn setup() -> Feed {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = DatabaseConfig {
        url: Secret::new(format!("sqlite://{}/feed.db", dir.path().display())),
        max_connections: 1,
        acquire_timeout_seconds: 60,
    };
    let (db, agency_id) = runtime.block_on(async {
        let db = Db::connect(&config).await.expect("the database");
        db.migrate().await.expect("the schema");
        let agency_id: i64 = sqlx::query_scalar(
            "INSERT INTO agencies (slug, config_key, display_name, created_at) \
             VALUES ('fuzz', 'fuzz', 'Fuzz', 0) RETURNING id",
        )
        .fetch_one(&db.pool)
        .await
        .expect("the agency");
        let client = json!({ "name": "Client One" });
        let site = json!({ "client": "C1", "name": "Site" });
        let worker = json!({ "first_name": "Ada", "last_name": "L" });
        seed::<Clients>(&db, agency_id, "C1", client).await;
        seed::<Worksites>(&db, agency_id, "S1", site).await;
        seed::<Workers>(&db, agency_id, "W1", worker).await;
        (db, agency_id)
    });
    Feed {
        runtime,
        db,
        agency_id,
        _dir: dir,
    }
}

async fn seed<E: Entity>(db: &Db, agency_id: i64, external_id: &str, row: Value) {
    let row = row.as_object().cloned().unwrap_or_default();
    let rows = vec![(0, external_id.to_owned(), row)];
    let (results, _) = feed::apply_rows::<E>(&db.pool, agency_id, ACTOR, rows, false, || {})
        .await
        .expect("the seed rows");
    assert!(results[0].errors.is_empty(), "{:?}", results[0].errors);
}

fuzz_target!(|data: &[u8]| {
    static FEED: OnceLock<Feed> = OnceLock::new();
    let feed = FEED.get_or_init(setup);
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let Ok((rows, _)) = feed::batch_rows(body) else {
        return;
    };
    let run = match kind % 8 {
        0 => twice::<Clients>,
        1 => twice::<Worksites>,
        2 => twice::<Workers>,
        3 => twice::<Timesheets>,
        4 => twice::<ClockEvents>,
        5 => twice::<Invoices>,
        6 => twice::<Jobs>,
        _ => twice::<Quotes>,
    };
    run(feed, rows);
});

/// Applies `rows` and then the same rows again, in one dry run.
fn twice<E: Entity>(feed: &Feed, rows: Rows) {
    let count = rows.len();
    let again = rows
        .iter()
        .map(|(index, external_id, values)| (index + count, external_id.clone(), values.clone()));
    let both: Rows = rows.iter().cloned().chain(again).collect();
    let applied = feed.runtime.block_on(feed::apply_rows::<E>(
        &feed.db.pool,
        feed.agency_id,
        ACTOR,
        both,
        true,
        || {},
    ));
    let results: Vec<RowResult> = match applied {
        Ok((results, _)) => results,
        Err(err) => panic!("a {} batch made a server error: {err:?}", E::KIND),
    };
    assert_eq!(results.len(), 2 * count);
    for (at, result) in results.iter().enumerate() {
        assert_eq!(
            result.row,
            rows[at % count].0 + if at < count { 0 } else { count }
        );
    }
    for (first, second) in results[..count].iter().zip(&results[count..]) {
        let own = rows
            .iter()
            .filter(|(_, external_id, _)| *external_id == first.external_id)
            .count()
            == 1;
        if own && matches!(first.status, "created" | "updated") {
            assert_eq!(
                second.status,
                "unchanged",
                "a {} sent again was {} ({:?})",
                E::KIND,
                second.status,
                second.errors
            );
        }
    }
}
