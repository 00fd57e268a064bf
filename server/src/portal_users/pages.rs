//! What the portal-user pages of the manage area and of the portal (client admins managing
//! their colleagues) share: the list's query and page, the form's fields and choices, and the
//! notice after an action.

use crate::agency::Agency;
use crate::db::clients;
use crate::db::outbox::Page;
use crate::db::portal_users::{self, Filter, Listing, PortalUserStatus, Seek, SortBy};
use crate::error::AppResult;
use crate::paging::Pager;
use crate::plugins::RoleScope;
use crate::portal_users::{
    self as rules, CreateMode, Granter, NewUserInput, PortalUserInput, Sent,
};
use crate::state::AppState;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

/// The list's query string: `?q=&status=&sort=&dir=&page=&size=`, and on the pages its
/// links lead to, `after` or `before`: the user next to the page, so it is a seek, not a
/// count of the rows before it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub size: Option<u32>,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
    /// `end`: the last page, whatever number it has by now (the Last link).
    #[serde(default)]
    pub at: String,
}

impl ListQuery {
    pub fn filter(&self) -> Filter {
        Filter {
            search: self.q.trim().to_owned(),
            status: PortalUserStatus::parse(&self.status),
            sort: SortBy::parse(&self.sort).unwrap_or_default(),
            descending: self.dir == "desc",
            within: None,
        }
    }

    pub fn page(&self) -> Page {
        Page::new(self.page, self.size)
    }

    /// Where the page begins: next to the user the link named, at the end, or counted from
    /// the top.
    pub fn seek(&self) -> Seek {
        let page = self.page();
        let offset = i64::from(page.number - 1) * i64::from(page.size);
        match (self.after, self.before) {
            (Some(id), _) => Seek::After { id, offset },
            (None, Some(id)) => Seek::Before { id, offset },
            (None, None) if self.at == "end" => Seek::Last,
            (None, None) => Seek::Offset(offset),
        }
    }

    /// The page as shown once the list is counted: for the Last link the last one, or the
    /// first when the list has more rows than it counts.
    pub fn shown_page(&self, listing: &Listing) -> Page {
        let page = self.page();
        if self.seek() != Seek::Last {
            return page;
        }
        let size = i64::from(page.size);
        let number = if listing.more {
            1
        } else {
            portal_users::last_page_offset(listing.total, size) / size + 1
        };
        Page::new(u32::try_from(number).ok(), Some(page.size))
    }

    /// The query string of this list with other sorting or paging, for links; `next_to`
    /// names the user the page starts after (`"after"`) or ends before (`"before"`).
    pub fn link(
        &self,
        sort: SortBy,
        descending: bool,
        page: Option<u32>,
        next_to: Option<(&str, String)>,
    ) -> String {
        let mut pairs = vec![("q", self.q.clone()), ("status", self.status.clone())];
        pairs.push(("sort", sort.as_str().to_owned()));
        pairs.push(("dir", if descending { "desc" } else { "asc" }.to_owned()));
        pairs.push(("size", self.page().size.to_string()));
        if let Some(page) = page {
            pairs.push(("page", page.to_string()));
        }
        if let Some((side, value)) = next_to {
            pairs.push((side, value));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// What happened on the last action, shown above the list.
#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    count: Option<u64>,
}

impl Done {
    pub fn notice(&self) -> Option<String> {
        let n = self.count.unwrap_or(0);
        let users = |n: u64| {
            if n == 1 {
                "1 user".to_owned()
            } else {
                format!("{n} users")
            }
        };
        Some(match self.done.as_deref()? {
            "invited" => "Invitation sent.".to_owned(),
            "created" => "Portal user created.".to_owned(),
            "not-sent" => crate::mail::PORTAL_DISABLED_NOTICE.to_owned(),
            "not-sent-client" => crate::mail::CLIENT_PORTAL_DISABLED_NOTICE.to_owned(),
            "saved" => "Changes saved.".to_owned(),
            "password" => "Password set. They must choose a new one when they next sign in; their sessions have ended.".to_owned(),
            "reset-sent" => "A password reset link was sent.".to_owned(),
            "resent" => "The invitation was sent again.".to_owned(),
            "limited" => format!(
                "Not sent: invitations and reset links go to one user at most {} times an hour. Try again later.",
                rules::RESENDS_PER_HOUR
            ),
            "not-invited" => "Only users who have not yet chosen a password get an invitation; send a password reset link instead.".to_owned(),
            "deactivated" => "Deactivated: their sessions have ended.".to_owned(),
            "reactivated" => "Reactivated.".to_owned(),
            "signed-out" => "Signed out everywhere: they must sign in again.".to_owned(),
            "deleted" => format!("Deleted {}.", users(n)),
            "bulk-deactivated" => format!("Deactivated {}; their sessions have ended.", users(n)),
            "bulk-resent" => format!("Invitations sent again to {}.", users(n)),
            _ => return None,
        })
    }
}

/// A column header: its label, the link that sorts by it, and its `aria-sort`.
#[derive(Debug, Serialize)]
struct Column {
    label: &'static str,
    href: String,
    aria_sort: Option<&'static str>,
}

fn columns(query: &ListQuery) -> Vec<Column> {
    let filter = query.filter();
    SortBy::ALL
        .into_iter()
        .map(|sort| {
            let current = filter.sort == sort;
            let label = match sort {
                SortBy::Name => "Name",
                SortBy::Email => "Email",
                SortBy::Company => "Company",
                SortBy::Role => "Role",
                SortBy::Status => "Status",
                SortBy::LastSignIn => "Last sign-in",
                SortBy::Created => "Created",
            };
            Column {
                label,
                href: format!(
                    "?{}",
                    query.link(sort, current && !filter.descending, None, None)
                ),
                aria_sort: current.then_some(if filter.descending {
                    "descending"
                } else {
                    "ascending"
                }),
            }
        })
        .collect()
}

/// A role's label for the list: the role set's name, or the id when it no longer offers it.
pub fn role_labels(state: &AppState, slug: &str) -> std::collections::BTreeMap<String, String> {
    state
        .plugins()
        .agency(slug)
        .map(|set| {
            set.roles()
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// One page of the list as `query` asks (limited to `query.filter().within` users, when
/// set), with everything the list template shows around it: the sortable columns, the
/// filters as chosen, the count and the previous/next links.
pub async fn list_page(
    state: &AppState,
    agency_id: i64,
    query: &ListQuery,
    within: Option<Vec<i64>>,
) -> AppResult<minijinja::Value> {
    let filter = Filter {
        within,
        ..query.filter()
    };
    let listing = portal_users::list(
        state.db(),
        agency_id,
        &filter,
        i64::from(query.page().size),
        query.seek(),
    )
    .await?;
    let paging = query.shown_page(&listing);
    let pager = Pager::new(paging, listing.total, listing.users.len());
    let link = |page: u32, next_to| {
        format!(
            "?{}",
            query.link(filter.sort, filter.descending, Some(page), next_to)
        )
    };
    let (first_row, last_row) = (listing.users.first(), listing.users.last());
    let last_page = u32::try_from(pager.pages).unwrap_or(u32::MAX);
    let (previous, first) = match first_row {
        Some(row) if paging.number > 2 => (
            Some(link(
                paging.number - 1,
                Some(("before", row.id.to_string())),
            )),
            Some(link(1, None)),
        ),
        _ if paging.number > 1 => (Some(link(1, None)), None),
        _ => (None, None),
    };
    // Uncounted past some point, a list goes on while its pages are full, with no last page.
    let (next, last) = match last_row {
        Some(row) if listing.more && listing.users.len() == paging.size as usize => (
            Some(link(paging.number + 1, Some(("after", row.id.to_string())))),
            None,
        ),
        Some(row) if !listing.more && paging.number < last_page => (
            Some(link(paging.number + 1, Some(("after", row.id.to_string())))),
            (paging.number + 1 < last_page).then(|| link(last_page, Some(("at", "end".into())))),
        ),
        _ => (None, None),
    };
    Ok(context! {
        users => Serde(&listing.users), pager => Serde(pager), columns => Serde(columns(query)),
        page_sizes => Page::SIZES, q => &query.q,
        status => filter.status.map(PortalUserStatus::as_str), size => paging.size,
        sort => filter.sort.as_str(), dir => if filter.descending { "desc" } else { "asc" },
        first, previous, next, last, more => listing.more,
    })
}

/// Form fields as sent: checkboxes and multi-selects repeat or are absent.
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn ticked(&self, name: &str) -> bool {
        crate::forms::checked(&Some(self.text(name)))
    }

    pub fn ids(&self, name: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect()
    }

    pub fn user(&self) -> PortalUserInput {
        PortalUserInput {
            first_name: self.text("first_name"),
            last_name: self.text("last_name"),
            email: self.text("email"),
            role: self.text("role"),
            company: self.text("company").trim().parse().ok(),
            all_clients: self.ticked("all_clients"),
            clients: self.ids("clients"),
            restricted_access: self.ticked("restricted_access"),
        }
    }

    pub fn new_user(&self) -> NewUserInput {
        NewUserInput {
            user: self.user(),
            mode: if self.text("mode") == "manual" {
                CreateMode::Manual
            } else {
                CreateMode::Invite
            },
            password: self.text("password"),
            force_change: self.ticked("force_change"),
            send_welcome: self.ticked("send_welcome"),
            active: self.ticked("active"),
        }
    }
}

/// Roles and clients for the user form, as far as `granter` may give them: each role with
/// whether it spans clients, each client with the email new logins of the company start with.
pub async fn choices(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
) -> AppResult<minijinja::Value> {
    let roles: Vec<_> = state
        .plugins()
        .agency(&agency.slug)
        .map(|set| {
            set.roles()
                .iter()
                .filter(|r| {
                    granter.may_span_clients || !matches!(r.scope, RoleScope::ManyClients(_))
                })
                .map(|r| {
                    context! {
                        id => &r.id, name => &r.name, description => &r.description,
                        spans => matches!(r.scope, RoleScope::ManyClients(_)),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let companies = clients::list(&state.db().pool, agency.id).await?;
    let companies: Vec<_> = companies
        .iter()
        .filter(|c| granter.within.as_ref().is_none_or(|w| w.contains(&c.id)))
        .map(|c| context! { id => c.id, name => &c.name, email => &c.email })
        .collect();
    let any_spans = roles
        .iter()
        .any(|r| r.get_attr("spans").is_ok_and(|s| s.is_true()));
    Ok(context! { roles, companies, any_spans })
}

pub fn sent_done(sent: Sent, ok: &'static str) -> &'static str {
    match sent {
        Sent::Queued(crate::mail::Queued::PortalDisabled) => "not-sent",
        Sent::Queued(crate::mail::Queued::ClientPortalDisabled) => "not-sent-client",
        Sent::Queued(_) => ok,
        Sent::Limited => "limited",
        Sent::NotInvited => "not-invited",
    }
}

/// `?format=` of an export: a format id an export plugin of the agency offers.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    #[serde(default)]
    pub format: String,
}
