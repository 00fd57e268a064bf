//! What needs the agency's attention now, per client and in total: timesheets waiting for the
//! client (and those past the approval deadline), rejected ones waiting for the agency, open
//! work requests by urgency and age, who is clocked in, invitations nobody accepted, and
//! emails that failed. The staff home and `GET /api/v1/{agency}/attention` show it; each
//! figure links to the list it counts.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Duration;

use crate::agency::Agency;
use crate::dates::{iso, today};
use crate::db::agency_settings;
use crate::db::agency_timesheets::{self, Waiting};
use crate::db::{Timestamp, clients, clock_events, outbox, portal_users, work_requests};
use crate::error::AppResult;
use crate::state::AppState;
use crate::work_requests::URGENCIES;

/// Days after which an invitation nobody accepted is worth chasing.
pub const STALE_INVITATION_DAYS: i64 = 7;

/// The clients the home lists one by one, most in need first.
pub const CLIENTS_SHOWN: usize = 25;

/// Open work requests of one urgency (or of a client).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Requests {
    pub open: i64,
    pub urgent: i64,
    pub high: i64,
    /// When the oldest open one was filed.
    pub oldest: Option<Timestamp>,
}

/// One client's share.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientAttention {
    pub client_id: i64,
    pub client_name: String,
    pub timesheets: Waiting,
    pub requests: Requests,
    pub on_site: i64,
}

/// Everything the home shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attention {
    pub deadline_days: i64,
    /// Timesheets worked before this day and still pending are overdue.
    pub deadline: String,
    pub timesheets: Waiting,
    pub requests: Requests,
    /// Open requests per urgency, most urgent first: `(urgency, count)`.
    pub by_urgency: Vec<(String, i64)>,
    pub on_site: i64,
    pub stale_invitations: i64,
    pub stale_invitation_days: i64,
    pub failed_emails: i64,
    /// Clients with something waiting, most in need first (at most [`CLIENTS_SHOWN`]).
    pub clients: Vec<ClientAttention>,
    /// How many clients have something waiting in all.
    pub clients_waiting: usize,
}

/// Reads what needs attention for the agency.
pub async fn gather(state: &AppState, agency: &Agency) -> AppResult<Attention> {
    read(state, agency, None).await
}

/// What needs attention for one client (its page in the manage area).
pub async fn of_client(state: &AppState, agency: &Agency, client_id: i64) -> AppResult<Attention> {
    read(state, agency, Some(client_id)).await
}

async fn read(state: &AppState, agency: &Agency, client: Option<i64>) -> AppResult<Attention> {
    let pool = &state.db().pool;
    let settings = agency_settings::effective(pool, agency, &state.settings().security).await?;
    let deadline_days = settings.approval_deadline_days;
    let deadline = iso(today() - Duration::days(deadline_days));
    let mut per_client: BTreeMap<i64, ClientAttention> = BTreeMap::new();
    let mut attention = Attention {
        deadline_days,
        deadline: deadline.clone(),
        stale_invitation_days: STALE_INVITATION_DAYS,
        ..Attention::default()
    };
    for waiting in agency_timesheets::waiting(pool, agency.id, &deadline, client).await? {
        let total = &mut attention.timesheets;
        total.pending += waiting.pending;
        total.pending_minutes += waiting.pending_minutes;
        total.pending_charge_cents += waiting.pending_charge_cents;
        total.overdue += waiting.overdue;
        total.rejected += waiting.rejected;
        total.oldest_pending =
            earliest(total.oldest_pending.take(), waiting.oldest_pending.clone());
        let client_id = waiting.client_id;
        per_client.entry(client_id).or_default().timesheets = waiting;
    }
    let mut by_urgency: BTreeMap<String, i64> = BTreeMap::new();
    for open in work_requests::open_by_client(pool, agency.id, client).await? {
        *by_urgency.entry(open.urgency.clone()).or_default() += open.requests;
        for requests in [
            &mut attention.requests,
            &mut per_client.entry(open.client_id).or_default().requests,
        ] {
            requests.open += open.requests;
            match open.urgency.as_str() {
                "urgent" => requests.urgent += open.requests,
                "high" => requests.high += open.requests,
                _ => {}
            }
            requests.oldest = Some(requests.oldest.map_or(open.oldest, |o| o.min(open.oldest)));
        }
    }
    // Most urgent first.
    attention.by_urgency = URGENCIES
        .iter()
        .rev()
        .filter_map(|(u, _)| by_urgency.get(*u).map(|n| ((*u).to_owned(), *n)))
        .collect();
    let on_site = match client {
        Some(client) => clock_events::on_site(pool, agency.id, &[client]).await?,
        None => clock_events::on_site_everywhere(pool, agency.id).await?,
    };
    for person in on_site {
        attention.on_site += 1;
        per_client.entry(person.client_id).or_default().on_site += 1;
    }
    let invited_before = Timestamp::now().plus_seconds(-STALE_INVITATION_DAYS * 24 * 60 * 60);
    attention.stale_invitations =
        portal_users::invited_before(pool, agency.id, invited_before).await?;
    attention.failed_emails = outbox::failed_count(pool, agency.id).await?;

    let mut clients: Vec<ClientAttention> = per_client
        .into_iter()
        .map(|(client_id, mut row)| {
            row.client_id = client_id;
            row
        })
        .collect();
    clients.sort_by_key(|c| {
        std::cmp::Reverse((
            c.timesheets.overdue,
            c.requests.urgent,
            c.timesheets.rejected,
            c.timesheets.pending,
            c.requests.open,
            c.on_site,
        ))
    });
    attention.clients_waiting = clients.len();
    clients.truncate(CLIENTS_SHOWN);
    let ids: Vec<i64> = clients.iter().map(|c| c.client_id).collect();
    let names: BTreeMap<i64, String> = clients::named(pool, agency.id, &ids)
        .await?
        .into_iter()
        .collect();
    for client in &mut clients {
        client.client_name = names
            .get(&client.client_id)
            .cloned()
            .unwrap_or_else(|| format!("Client {} (archived)", client.client_id));
    }
    attention.clients = clients;
    Ok(attention)
}

fn earliest(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
