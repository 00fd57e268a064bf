//! `portal demo seed --scale large`: data at the size the portal is measured at. The first demo
//! agency (`acme`) gets 2,000 clients, 20,000 workers, 100,000 portal users and 1,000,000
//! timesheets over a year; every other configured agency that is not a demo agency gets a
//! small set of the same shape. The benchmarks build their databases with the same functions.
//!
//! Rows go in by the hundred per statement, the way a migration from another system would
//! load them, and the totals the triggers keep follow as they would for any write.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::db::clients::{self, NewClient};
use crate::db::workers::{self, NewWorker};
use crate::db::{Db, begin_write};
use crate::plugins::RoleScope;
use crate::state::AppState;

pub use crate::db::bulk::{
    PortalUsers, SeededClient, Timesheets, portal_users, settle, timesheets,
};
use crate::db::bulk::{USERS_PER_STATEMENT, has_client};

/// How much data one agency gets.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub clients: usize,
    pub workers: usize,
    pub portal_users: usize,
    pub timesheets: usize,
    /// Days back from today the timesheets spread over; the last week's wait for approval.
    pub days: usize,
}

/// The agency the portal is measured with.
pub const LARGE: Shape = Shape {
    clients: 2_000,
    workers: 20_000,
    portal_users: 100_000,
    timesheets: 1_000_000,
    days: 364,
};

/// Each of the other agencies beside it.
pub const SMALL: Shape = Shape {
    clients: 5,
    workers: 40,
    portal_users: 60,
    timesheets: 2_000,
    days: 91,
};

/// Seeds `big` (`portal demo seed --scale large`: [`LARGE`]) into `acme` and `small`
/// ([`SMALL`]) into every other agency but the demo ones. Agencies that already have the
/// data are left alone. Portal users who are active sign in with `password_hash` (the demo
/// password): `user0@client0.example` has the role set's first single-client role.
pub async fn seed(
    state: &AppState,
    password_hash: &str,
    big: Shape,
    small: Shape,
) -> anyhow::Result<()> {
    let mut plan: Vec<(String, Shape)> = vec![("acme".into(), big)];
    let mut others: Vec<String> = state
        .agencies()
        .map(|a| a.slug.clone())
        .filter(|slug| !super::DEMO_SLUGS.contains(&slug.as_str()))
        .collect();
    others.sort();
    plan.extend(others.into_iter().map(|slug| (slug, small)));
    let bar = ProgressBar::new(plan.iter().map(|(_, shape)| steps(shape)).sum()).with_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for (slug, shape) in &plan {
        let agency = state
            .agency(slug)
            .with_context(|| format!("the large data set needs an agency \"{slug}\""))?;
        if has_client(state.db(), agency.id, &client_name(0)).await? {
            bar.inc(steps(shape));
            bar.println(format!("agency \"{slug}\" already has the large data set"));
            continue;
        }
        let roles: Vec<String> = state
            .plugins()
            .agency(slug)
            .map(|set| {
                set.roles()
                    .iter()
                    .filter(|role| matches!(role.scope, RoleScope::SingleClient))
                    .map(|role| role.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        if roles.is_empty() {
            bail!("agency \"{slug}\" offers no single-client role to give its portal users");
        }
        bar.set_message(format!("{slug}: clients"));
        let clients = clients_with_sites(state.db(), agency.id, shape.clients, client_name).await?;
        bar.inc(1);
        bar.set_message(format!("{slug}: workers"));
        let first_worker = workers_named(state.db(), agency.id, shape.workers).await?;
        bar.inc(1);
        bar.set_message(format!("{slug}: portal users"));
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let users = PortalUsers {
            count: shape.portal_users,
            roles: &roles,
            password_hash: Some(password_hash),
        };
        portal_users(state.db(), agency.id, &clients, &users, || bar.inc(1)).await?;
        bar.set_message(format!("{slug}: timesheets"));
        let sheets = Timesheets {
            count: shape.timesheets,
            days: shape.days,
            first_worker,
            workers: shape.workers,
        };
        timesheets(state.db(), agency.id, &clients, &sheets, || bar.inc(1)).await?;
        if shape.timesheets > SMALL.timesheets {
            // Fresh statistics after a large load: PostgreSQL also replans the totals
            // triggers, whose plans cached on the empty tables read the whole of them on
            // every statement after (36 ms a statement against 4 ms).
            bar.set_message("statistics");
            settle(state.db()).await?;
        }
        bar.println(format!(
            "agency \"{slug}\": {} clients, {} workers, {} portal users, {} timesheets",
            shape.clients, shape.workers, shape.portal_users, shape.timesheets
        ));
    }
    bar.set_message("statistics");
    settle(state.db()).await?;
    bar.finish_and_clear();
    println!("large data set ready in {} agencies", plan.len());
    Ok(())
}

/// Progress steps of one agency: clients, workers, a step per statement of users and one
/// per day of timesheets.
fn steps(shape: &Shape) -> u64 {
    (2 + shape.portal_users.div_ceil(USERS_PER_STATEMENT) + shape.days.min(shape.timesheets)) as u64
}

fn client_name(n: usize) -> String {
    format!("Client {n:04}")
}

/// `count` clients named by `name`, then a "Main site" for each. The ids of each come out
/// consecutive (one writer, in order), which [`timesheets`] counts on; anything else is an
/// error rather than a quietly wrong data set.
pub async fn clients_with_sites(
    db: &Db,
    agency_id: i64,
    count: usize,
    name: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<SeededClient>> {
    let mut tx = begin_write(&db.pool).await?;
    let mut seeded = Vec::with_capacity(count);
    for n in 0..count {
        let name = name(n);
        let new = NewClient {
            name: &name,
            ..NewClient::default()
        };
        let id = clients::create(&mut *tx, agency_id, &new).await?;
        seeded.push(SeededClient { id, site: 0, name });
    }
    for client in &mut seeded {
        client.site =
            clients::create_worksite(&mut *tx, agency_id, client.id, "Main site", "").await?;
    }
    tx.commit().await?;
    let consecutive = |ids: Vec<i64>| ids.windows(2).all(|w| w[1] == w[0] + 1);
    if !consecutive(seeded.iter().map(|c| c.id).collect())
        || !consecutive(seeded.iter().map(|c| c.site).collect())
    {
        bail!("clients or worksites were given ids out of order; seed into a quiet database");
    }
    Ok(seeded)
}

/// `count` workers ("Sam Worker00000", …) with consecutive ids; returns the first id.
pub async fn workers_named(db: &Db, agency_id: i64, count: usize) -> anyhow::Result<i64> {
    let mut tx = begin_write(&db.pool).await?;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let last = format!("Worker{n:05}");
        let new = NewWorker {
            first_name: "Sam",
            last_name: &last,
            ..NewWorker::default()
        };
        ids.push(workers::create(&mut *tx, agency_id, &new).await?);
    }
    tx.commit().await?;
    if ids.windows(2).any(|w| w[1] != w[0] + 1) {
        bail!("workers were given ids out of order; seed into a quiet database");
    }
    ids.first().copied().context("no workers to seed")
}
