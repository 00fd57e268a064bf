//! Agencies from configuration mirrored into the database.

use portal_server::db::agencies::{self, SyncError};

use crate::support::TestApp;

#[tokio::test]
async fn sync_is_idempotent_and_refuses_a_renamed_slug() {
    let app = TestApp::spawn().await;
    let pool = &app.state.db().pool;
    let acme = app.state.agency("acme").expect("acme");
    let again = agencies::sync(pool, "acme", "acme", "Acme Staffing")
        .await
        .expect("sync");
    assert_eq!(again, acme.id);

    let renamed = agencies::sync(pool, "acme", "acme-staffing", "Acme Staffing").await;
    match renamed {
        Err(SyncError::SlugChanged { old, new }) => {
            assert_eq!((old.as_str(), new.as_str()), ("acme", "acme-staffing"));
        }
        other => panic!("expected a refused rename, got {other:?}"),
    }
    // A renamed file keeping its slug is still the same agency.
    let moved = agencies::sync(pool, "acme-renamed", "acme", "Acme")
        .await
        .expect("moved");
    assert_eq!(moved, acme.id);
    let rows = agencies::list(pool).await.expect("list");
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn concurrent_syncs_of_a_new_agency_agree() {
    let app = TestApp::spawn().await;
    let pool = app.state.db().pool.clone();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(
                async move { agencies::sync(&pool, "initech", "initech", "Initech").await },
            )
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("join").expect("sync"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}
