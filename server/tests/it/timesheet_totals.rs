//! The totals the database keeps beside the timesheets (migrations 0050 and 0060): after every
//! kind of write they are what the timesheets add up to, and the reports, the pending count
//! and the worker choices that read them answer as the timesheets themselves do.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use portal_server::dates::{first_of_month, iso, monday_of, parse_date, today};
use portal_server::db::scope::client_list;
use portal_server::db::timesheets::{self, Grouping, TimesheetStatus, Totals};
use portal_server::feed::import::{self, ImportKind};
use serde_json::json;
use time::{Date, Duration};

use crate::feed_support::{decide, decider, put, seed_references, send, shift, token};
use crate::portal_support::{
    approve_all_pending_shown, client_id, demo_app, northwind_shift, pending_of, signed_in, status,
};
use crate::support::TestApp;

/// The four tables of totals, keyed as stored.
#[derive(Debug, Default, PartialEq, Eq)]
struct AllTotals {
    /// (agency, client, day) → sheets, pending, entries, minutes, charge.
    days: BTreeMap<(i64, i64, String), [i64; 5]>,
    /// (agency, client, Monday, worker, worksite or 0) → sheets, entries, minutes, charge.
    weeks: Buckets,
    /// (agency, client, first of the month, worker, worksite or 0) → the same.
    months: Buckets,
    /// (agency, client, worker) → sheets.
    workers: BTreeMap<(i64, i64, i64), i64>,
}

type Detail = (i64, i64, Option<i64>, i64, String, String, i64, i64);
type DayRow = (i64, i64, String, i64, i64, i64, i64, i64);
type BucketRow = (i64, i64, String, i64, i64, i64, i64, i64, i64);
type Buckets = BTreeMap<(i64, i64, String, i64, i64), [i64; 4]>;

/// What the week or month totals (`table`, keyed by `start`) hold.
async fn stored_buckets(app: &TestApp, table: &str, start: &str) -> Buckets {
    let rows: Vec<BucketRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT agency_id, client_id, {start}, worker_id, worksite_id, sheets, entries, \
             minutes, charge_cents FROM {table}"
    )))
    .fetch_all(&app.state.db().pool)
    .await
    .expect(table);
    rows.into_iter()
        .map(|(a, c, w, k, site, s, e, m, ch)| ((a, c, w, k, site), [s, e, m, ch]))
        .collect()
}

/// What the totals tables hold.
async fn stored(app: &TestApp) -> AllTotals {
    let pool = &app.state.db().pool;
    let days: Vec<DayRow> = sqlx::query_as(
        "SELECT agency_id, client_id, work_date, sheets, pending, entries, minutes, \
         charge_cents FROM timesheet_day_totals",
    )
    .fetch_all(pool)
    .await
    .expect("day totals");
    let workers: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT agency_id, client_id, worker_id, sheets FROM timesheet_client_workers",
    )
    .fetch_all(pool)
    .await
    .expect("client workers");
    AllTotals {
        days: days
            .into_iter()
            .map(|(a, c, d, s, p, e, m, ch)| ((a, c, d), [s, p, e, m, ch]))
            .collect(),
        weeks: stored_buckets(app, "timesheet_week_totals", "week").await,
        months: stored_buckets(app, "timesheet_month_totals", "month").await,
        workers: workers
            .into_iter()
            .map(|(a, c, k, s)| ((a, c, k), s))
            .collect(),
    }
}

/// What the timesheets add up to, counted here from every row.
async fn expected(app: &TestApp) -> AllTotals {
    let rows: Vec<Detail> = sqlx::query_as(
        "SELECT agency_id, client_id, worksite_id, worker_id, work_date, status, \
         minutes_worked, charge_amount_cents FROM timesheets",
    )
    .fetch_all(&app.state.db().pool)
    .await
    .expect("timesheets");
    let mut totals = AllTotals::default();
    for (agency, client, site, worker, date, status, minutes, charge) in rows {
        let counted = i64::from(status != "rejected");
        let pending = i64::from(status == "pending");
        let day = parse_date(&date).expect("stored date");
        let monday = iso(monday_of(day));
        let month = iso(first_of_month(day));
        let day = totals.days.entry((agency, client, date)).or_default();
        for (sum, add) in
            day.iter_mut()
                .zip([1, pending, counted, counted * minutes, counted * charge])
        {
            *sum += add;
        }
        for (buckets, start) in [(&mut totals.weeks, monday), (&mut totals.months, month)] {
            let bucket = buckets
                .entry((agency, client, start, worker, site.unwrap_or(0)))
                .or_default();
            for (sum, add) in
                bucket
                    .iter_mut()
                    .zip([1, counted, counted * minutes, counted * charge])
            {
                *sum += add;
            }
        }
        *totals.workers.entry((agency, client, worker)).or_default() += 1;
    }
    totals
}

/// The totals tables hold what the timesheets add up to, and the reports of every agency
/// over its clients answer as the timesheets do.
async fn assert_totals_follow(app: &TestApp, after: &str) {
    let stored = stored(app).await;
    assert!(!stored.days.is_empty(), "after {after}: no totals at all");
    assert_eq!(stored, expected(app).await, "after {after}");
    assert_reports_follow(app, after).await;
}

/// Ranges that start and end inside weeks and months, across the first day of each month of
/// the timesheets' dates, over whole months or within them, and one over all the dates.
fn ranges_across_months(first: Date, last: Date) -> Vec<(Date, Date)> {
    let mut ranges = vec![(first - Duration::days(40), last + Duration::days(40))];
    let mut month = first_of_month(first);
    while month <= last {
        let next = first_of_month(month + Duration::days(31));
        for (start, end) in [(-12, 2), (-3, 17), (-1, 40), (5, 36), (-20, 45)] {
            ranges.push((month + Duration::days(start), month + Duration::days(end)));
        }
        ranges.push((month, next - Duration::days(1)));
        month = next;
    }
    ranges
}

async fn assert_reports_follow(app: &TestApp, after: &str) {
    let pool = &app.state.db().pool;
    let agencies: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT agency_id, MIN(work_date), MAX(work_date) FROM timesheets GROUP BY agency_id",
    )
    .fetch_all(pool)
    .await
    .expect("dates");
    for (agency, first, last) in agencies {
        let clients: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 ORDER BY id")
                .bind(agency)
                .fetch_all(pool)
                .await
                .expect("clients");
        let dates = [&first, &last].map(|d| parse_date(d).expect("stored date"));
        for (from, to) in ranges_across_months(dates[0], dates[1]) {
            for grouping in [Grouping::Day, Grouping::Worker, Grouping::Worksite] {
                let read = timesheets::totals(pool, agency, &clients, (from, to), grouping)
                    .await
                    .expect("totals");
                let range = (iso(from), iso(to));
                let reference = added_up_from_the_timesheets(
                    app,
                    agency,
                    &clients,
                    (&range.0, &range.1),
                    grouping,
                )
                .await;
                assert_eq!(read, reference, "after {after}: {from}..{to} {grouping:?}");
            }
        }
    }
}

#[tokio::test]
async fn totals_follow_the_demo_data_and_the_portals_decisions() {
    let app = demo_app().await;
    assert_totals_follow(&app, "the demo data").await;

    let mut david = signed_in(&app, "acme", "david@northwind.example").await;
    let pending = pending_of(&app, "acme", "Northwind Manufacturing").await;
    let page = format!("/acme/portal/timesheets/{}", pending[0]);
    let approved = david.submit(&page, &format!("{page}/approve"), &[]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_totals_follow(&app, "approving one").await;

    let page = format!("/acme/portal/timesheets/{}", pending[1]);
    let reason = [("reason", "Not on site that day")];
    let rejected = david
        .submit(&page, &format!("{page}/reject"), &reason)
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, pending[1]).await, "rejected");
    assert_totals_follow(&app, "rejecting one").await;

    let all = approve_all_pending_shown(&mut david, "acme").await;
    assert_eq!(all.status, StatusCode::SEE_OTHER);
    assert!(
        pending_of(&app, "acme", "Northwind Manufacturing")
            .await
            .is_empty()
    );
    assert_totals_follow(&app, "approving all shown").await;

    // A timesheet recorded directly, as the demo data does.
    northwind_shift(&app, "22:00", "06:00").await;
    assert_totals_follow(&app, "recording one without a worksite").await;
}

#[tokio::test]
async fn totals_follow_the_data_feed_its_batches_and_the_csv_import() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let created = put(&app, &token, "acme", "timesheets", "T1", shift(), "created").await;
    assert_totals_follow(&app, "a feed upsert that creates").await;

    let mut moved = shift();
    moved["work_date"] = json!("2026-10-30");
    moved["client"] = json!("C2");
    moved["worksite"] = json!("S2");
    moved["end_time"] = json!("18:00");
    put(
        &app,
        &token,
        "acme",
        "timesheets",
        "T1",
        moved.clone(),
        "updated",
    )
    .await;
    assert_totals_follow(
        &app,
        "a feed upsert that moves it to another client, week and month",
    )
    .await;

    let id = created["id"].as_i64().expect("id");
    let user = decider(&app, "acme").await;
    let rejected = TimesheetStatus::Rejected;
    assert!(decide(&app, "acme", (user, id), rejected, Some("Wrong day")).await);
    assert_totals_follow(&app, "a rejection").await;
    moved["work_date"] = json!("2026-11-10");
    put(&app, &token, "acme", "timesheets", "T1", moved, "updated").await;
    assert_totals_follow(&app, "a resubmission").await;

    // Two new timesheets on other days and a row the feed refuses.
    let rows: Vec<serde_json::Value> = [
        ("T2", "2026-11-04", "W1"),
        ("T3", "2026-11-05", "W-404"),
        ("T4", "2026-11-08", "W1"),
    ]
    .into_iter()
    .map(|(external_id, date, worker)| {
        let mut row = shift();
        row["external_id"] = json!(external_id);
        row["work_date"] = json!(date);
        row["worker"] = json!(worker);
        row
    })
    .collect();
    let (response, answer) = send(
        &app,
        "POST",
        "/api/v1/acme/timesheets/batch",
        &token,
        Some(json!({ "rows": rows })),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(answer["summary"]["created"], 2);
    assert_totals_follow(&app, "a batch with a refused row").await;

    let csv = "external_id,worker,client,worksite,work_date,start_time,end_time,break_minutes,charge_rate_cents,pay_rate_cents\n\
               T5,W1,C2,S2,2026-11-11,07:00,15:00,30,2700,1900\n\
               T2,W1,C1,,2026-11-04,22:00,06:30,0,2550,1800\n\
               T6,W404,C1,S1,2026-11-11,07:00,15:00,30,2700,1900\n";
    let agency = app.agency_id("acme");
    let before = stored(&app).await;
    let actor = portal_server::auth::audit_actor("cli", None, "portal import", "");
    for dry_run in [true, false] {
        let parsed = import::parse(ImportKind::Timesheets, csv).expect("parse");
        let pool = &app.state.db().pool;
        let kind = ImportKind::Timesheets;
        let (_, summary) = import::run(pool, agency, actor, kind, parsed, dry_run, || {})
            .await
            .expect("import");
        assert_eq!(
            (summary.created, summary.updated, summary.invalid),
            (1, 1, 1)
        );
        if dry_run {
            assert_eq!(stored(&app).await, before, "a dry run leaves the totals");
        }
    }
    assert_totals_follow(&app, "the CSV import").await;
}

#[tokio::test]
async fn totals_follow_direct_changes_and_deletions_and_empty_rows_go() {
    let app = demo_app().await;
    let pool = &app.state.db().pool;
    let agency = app.agency_id("acme");
    let northwind = client_id(&app, "acme", "Northwind Manufacturing").await;
    let fabrikam = client_id(&app, "acme", "Fabrikam Foods").await;
    sqlx::query(
        "UPDATE timesheets SET client_id = $1, worksite_id = NULL, minutes_worked = 60, \
         charge_amount_cents = 100 WHERE agency_id = $2 AND client_id = $3 AND status = 'approved'",
    )
    .bind(fabrikam)
    .bind(agency)
    .bind(northwind)
    .execute(pool)
    .await
    .expect("move");
    assert_totals_follow(&app, "an update of many rows").await;

    // Pending timesheets moved to another worker, decided, and put on the last day of last
    // month or the first of this one.
    let month = first_of_month(today());
    let worker: i64 = sqlx::query_scalar("SELECT MIN(id) FROM workers WHERE agency_id = $1")
        .bind(agency)
        .fetch_one(pool)
        .await
        .expect("worker");
    let moves = [
        (month - Duration::days(1), "approved", 0_i64),
        (month, "rejected", 1),
    ];
    for (day, status, share) in moves {
        sqlx::query(
            "UPDATE timesheets SET work_date = $1, worker_id = $2, status = $3 \
             WHERE agency_id = $4 AND status = 'pending' AND id % 3 = $5",
        )
        .bind(iso(day))
        .bind(worker)
        .bind(status)
        .bind(agency)
        .bind(share)
        .execute(pool)
        .await
        .expect("move");
    }
    assert_totals_follow(&app, "moving timesheets across a month's start").await;

    sqlx::query("DELETE FROM timesheets WHERE agency_id = $1 AND client_id = $2")
        .bind(agency)
        .bind(northwind)
        .execute(pool)
        .await
        .expect("delete");
    assert_totals_follow(&app, "deleting a client's timesheets").await;
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM timesheet_day_totals WHERE client_id = $1) \
         + (SELECT COUNT(*) FROM timesheet_week_totals WHERE client_id = $1) \
         + (SELECT COUNT(*) FROM timesheet_month_totals WHERE client_id = $1) \
         + (SELECT COUNT(*) FROM timesheet_client_workers WHERE client_id = $1)",
    )
    .bind(northwind)
    .fetch_one(pool)
    .await
    .expect("count");
    assert_eq!(
        left, 0,
        "no totals rows are left for a client without timesheets"
    );
}

/// The reports' totals as they were added up before there were totals tables: every matching
/// timesheet, grouped. The reference the totals are checked against.
async fn added_up_from_the_timesheets(
    app: &TestApp,
    agency_id: i64,
    client_ids: &[i64],
    (from, to): (&str, &str),
    grouping: Grouping,
) -> Vec<Totals> {
    // Groups with the same label (two worksites of one name) in the order of their ids.
    let (key, label, joins, group, then) = match grouping {
        Grouping::Day => (
            "t.work_date",
            "t.work_date",
            "",
            "t.work_date",
            "t.work_date",
        ),
        Grouping::Worker => (
            "CAST(t.worker_id AS TEXT)",
            "w.first_name || ' ' || w.last_name",
            "JOIN workers w ON w.id = t.worker_id",
            "t.worker_id, w.first_name, w.last_name",
            "t.worker_id",
        ),
        Grouping::Worksite => (
            "CAST(COALESCE(t.worksite_id, 0) AS TEXT)",
            "COALESCE(s.name, 'No worksite')",
            "LEFT JOIN worksites s ON s.id = t.worksite_id",
            "t.worksite_id, s.name",
            "COALESCE(t.worksite_id, 0)",
        ),
    };
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, COUNT(*) AS entries, \
         CAST(SUM(t.minutes_worked) AS BIGINT) AS minutes, \
         CAST(SUM(t.charge_amount_cents) AS BIGINT) AS charge_cents \
         FROM timesheets t {joins} WHERE t.agency_id = $1 AND t.client_id IN ({}) \
         AND t.work_date >= $2 AND t.work_date <= $3 AND t.status <> 'rejected' \
         GROUP BY {group} ORDER BY 2, {then}",
        client_list(client_ids)
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(from)
        .bind(to)
        .fetch_all(&app.state.db().pool)
        .await
        .expect("reference totals")
}

#[tokio::test]
async fn reports_pending_counts_and_worker_choices_answer_as_the_timesheets_do() {
    let app = demo_app().await;
    let pool = &app.state.db().pool;
    let start = monday_of(today()) - Duration::weeks(5);
    for slug in ["acme", "brightfix"] {
        let agency = app.agency_id(slug);
        let all: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 ORDER BY id")
                .bind(agency)
                .fetch_all(pool)
                .await
                .expect("clients");
        let mut scopes: Vec<Vec<i64>> = all.iter().map(|id| vec![*id]).collect();
        scopes.push(all.clone());
        let mut compared = 0;
        let mut worked = 0;
        for scope in &scopes {
            for offset in 0..40 {
                let from = start + Duration::days(offset);
                for length in [0, 1, 3, 4, 6, 9, 13, 20, 45, 62] {
                    let to = from + Duration::days(length);
                    for grouping in [Grouping::Day, Grouping::Worker, Grouping::Worksite] {
                        let read = timesheets::totals(pool, agency, scope, (from, to), grouping)
                            .await
                            .expect("totals");
                        let reference = added_up_from_the_timesheets(
                            &app,
                            agency,
                            scope,
                            (&iso(from), &iso(to)),
                            grouping,
                        )
                        .await;
                        assert_eq!(
                            read, reference,
                            "{slug} {scope:?} {from}..{to} {grouping:?}"
                        );
                        compared += usize::from(!reference.is_empty());
                    }
                }
            }
            let pending: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM timesheets WHERE agency_id = $1 AND status = 'pending' \
                 AND client_id IN ({})",
                client_list(scope)
            )))
            .bind(agency)
            .fetch_one(pool)
            .await
            .expect("pending");
            // The dashboard's glance: the pending count, and each of the weeks around the data
            // added up as the report by day adds it up.
            for weeks_back in 0..6 {
                let monday = monday_of(today()) - Duration::weeks(weeks_back);
                let glance = timesheets::glance(pool, agency, scope, monday)
                    .await
                    .expect("glance");
                assert_eq!(glance.pending, pending, "{slug} {scope:?}");
                let week = |first: Date| async move {
                    timesheets::totals(
                        pool,
                        agency,
                        scope,
                        (first, first + Duration::days(6)),
                        Grouping::Day,
                    )
                    .await
                    .expect("week")
                    .iter()
                    .map(|day| day.minutes)
                    .sum::<i64>()
                };
                assert_eq!(glance.this_week, week(monday).await, "{slug} {monday}");
                worked += glance.this_week;
                assert_eq!(
                    glance.last_week,
                    week(monday - Duration::weeks(1)).await,
                    "{slug} {monday}"
                );
            }
            let choices = timesheets::workers_for_clients(pool, agency, scope)
                .await
                .expect("choices");
            let reference: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT w.id, w.first_name || ' ' || w.last_name FROM workers w \
                 WHERE w.agency_id = $1 AND EXISTS (SELECT 1 FROM timesheets t \
                 WHERE t.agency_id = $1 AND t.worker_id = w.id AND t.client_id IN ({})) \
                 ORDER BY w.last_name, w.first_name, w.id",
                client_list(scope)
            )))
            .bind(agency)
            .fetch_all(pool)
            .await
            .expect("reference choices");
            assert!(!reference.is_empty(), "{slug}: the demo has workers");
            assert_eq!(choices, reference);
        }
        assert!(compared > 100, "{slug}: the demo data fills the reports");
        assert!(worked > 0, "{slug}: the weeks of the glance hold hours");
    }
}
