//! Who is on site now, grouped the way the pages show it (client, then worksite) — the
//! portal's view of its own clients and the agency's view of all of them.

use serde::Serialize;

use crate::db::clock_events::OnSite;

/// The people clocked in at one worksite (or at a client without one).
#[derive(Debug, Serialize)]
pub struct Site {
    pub client_id: i64,
    pub client_name: String,
    pub name: String,
    pub people: Vec<OnSite>,
}

/// Groups rows ordered by client then worksite into sites.
pub fn by_site(rows: Vec<OnSite>) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    for row in rows {
        let name = row
            .worksite_name
            .clone()
            .unwrap_or_else(|| "No worksite".into());
        match sites.last_mut() {
            Some(site) if site.name == name && site.client_id == row.client_id => {
                site.people.push(row)
            }
            _ => sites.push(Site {
                client_id: row.client_id,
                client_name: row.client_name.clone(),
                name,
                people: vec![row],
            }),
        }
    }
    sites
}
