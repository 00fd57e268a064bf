//! Portal users (More > Settings > Portal Users): the list with sorting, filters and paging,
//! creation by invitation or by hand, editing, passwords, deactivation, invitations, deletion
//! one by one or in bulk, the user report export and the CSV bulk invite. Admins only. Every
//! form works without JavaScript; `js/portal-users.js` adds conveniences.

pub mod export;
pub mod import;
pub mod rules;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use crate::agency::Agency;
use crate::app::AppState;
use crate::auth::{ClientIp, SignedIn, StaffAdmin, account, audit_actor, passwords};
use crate::db::accounts::AccountKind;
use crate::db::audit::Actor;
use crate::db::outbox::Page;
use crate::db::portal_users::{self, Filter, Listing, PortalUserStatus, Seek, SortBy};
use crate::db::{clients, sessions};
use crate::error::{AppError, AppResult};
use crate::manage::outbox::Pager;
use crate::plugins::RoleScope;
use rules::{CreateMode, Granter, NewUserInput, PortalUserInput, Sent};

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
    fn link(
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
    pub(crate) fn notice(&self) -> Option<String> {
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

fn actor<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor("staff", Some(me.account.id), &me.account.email, ip)
}

fn page(me: &SignedIn, template: &str, extra: minijinja::Value) -> AppResult<Response> {
    let base = context! {
        area => "manage", nav => "portal-users", csrf_token => me.csrf_token(),
        user => &me.account.name, is_admin => true,
    };
    Ok(me
        .agency
        .render(template, context! { ..base, ..extra })?
        .into_response())
}

fn to_list(me: &SignedIn, done: &str, count: Option<u64>) -> Response {
    let count = count.map(|n| format!("&count={n}")).unwrap_or_default();
    crate::redirect::to(&format!(
        "/{}/manage/portal-users?done={done}{count}",
        me.agency.slug
    ))
    .into_response()
}

fn to_user(me: &SignedIn, id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/portal-users/{id}?done={done}",
        me.agency.slug
    ))
    .into_response()
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
pub(crate) fn role_labels(
    state: &AppState,
    slug: &str,
) -> std::collections::BTreeMap<String, String> {
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
pub(crate) async fn list_page(
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

/// `GET /{agency}/manage/portal-users`.
pub async fn list(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<ListQuery>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let listing = list_page(&state, me.agency.id, &query, None).await?;
    let filter = query.filter();
    let formats: Vec<_> = state
        .plugins()
        .agency(&me.agency.slug)
        .map(|set| {
            set.formats()
                .map(|f| context! { id => &f.id, label => &f.label })
                .collect()
        })
        .unwrap_or_default();
    let export_query = serde_urlencoded::to_string([
        ("q", query.q.as_str()),
        ("status", query.status.as_str()),
        ("sort", filter.sort.as_str()),
        ("dir", if filter.descending { "desc" } else { "asc" }),
    ])
    .unwrap_or_default();
    page(
        &me,
        "manage/portal_users.html",
        context! {
            title => "Portal users", notice => done.notice(),
            roles => role_labels(&state, &me.agency.slug), formats, export_query, ..listing,
        },
    )
}

/// Form fields as sent: checkboxes and multi-selects repeat or are absent.
#[derive(Debug, Default)]
pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn ticked(&self, name: &str) -> bool {
        crate::forms::checked(&Some(self.text(name)))
    }

    fn ids(&self, name: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect()
    }

    pub(crate) fn user(&self) -> PortalUserInput {
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

    fn new_user(&self) -> NewUserInput {
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
pub(crate) async fn choices(
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

async fn form_choices(state: &AppState, me: &SignedIn) -> AppResult<minijinja::Value> {
    choices(state, &me.agency, &Granter::agency_admin()).await
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    mode: Option<CreateMode>,
}

/// `GET /{agency}/manage/portal-users/new?mode=invite|manual`.
pub async fn new_form(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Query(query): Query<NewQuery>,
) -> AppResult<Response> {
    // A partner sees every client unless told otherwise (seed 002): "All clients" starts
    // ticked, and applies only when the role chosen spans clients.
    let input = NewUserInput {
        mode: query.mode.unwrap_or_default(),
        password: passwords::generate_passphrase(),
        user: PortalUserInput {
            all_clients: true,
            ..PortalUserInput::default()
        },
        ..NewUserInput::default()
    };
    render_new(&state, &me, &input, None).await
}

async fn render_new(
    state: &AppState,
    me: &SignedIn,
    input: &NewUserInput,
    errors: Option<&crate::forms::FieldErrors>,
) -> AppResult<Response> {
    let choices = form_choices(state, me).await?;
    let manual = input.mode == CreateMode::Manual;
    page(
        me,
        "manage/portal_user_new.html",
        context! {
            title => if manual { "Create a portal user" } else { "Invite a portal user" },
            manual, input => Serde(input), errors => errors.map(Serde), ..choices,
        },
    )
}

/// `POST /{agency}/manage/portal-users/new`.
pub async fn create(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = Fields(fields).new_user();
    match rules::create(
        &state,
        &me.agency,
        &Granter::agency_admin(),
        &input,
        actor(&me, &ip),
    )
    .await
    {
        Ok(created) => {
            let done = match (created.email, input.mode) {
                (Some(crate::mail::Queued::PortalDisabled), _) => "not-sent",
                (Some(crate::mail::Queued::ClientPortalDisabled), _) => "not-sent-client",
                (_, CreateMode::Invite) => "invited",
                (_, CreateMode::Manual) => "created",
            };
            Ok(to_user(&me, created.id, done))
        }
        Err(AppError::Invalid(errors)) => render_new(&state, &me, &input, Some(&errors)).await,
        Err(other) => Err(other),
    }
}

/// `GET /{agency}/manage/portal-users/passphrase`: a fresh passphrase for the regenerate
/// button (plain text).
pub async fn passphrase(StaffAdmin(_): StaffAdmin) -> String {
    passwords::generate_passphrase()
}

async fn render_edit(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    input: Option<&PortalUserInput>,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let user = rules::find(state, &me.agency, id).await?;
    let links = portal_users::client_ids(&state.db().pool, me.agency.id, id).await?;
    let current = PortalUserInput {
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        role: user.role_id.clone(),
        company: links.first().copied(),
        all_clients: user.all_clients,
        clients: links,
        restricted_access: user.restricted_access,
    };
    let choices = form_choices(state, me).await?;
    let role_name = role_labels(state, &me.agency.slug)
        .get(&user.role_id)
        .cloned()
        .unwrap_or_else(|| user.role_id.clone());
    let sessions =
        sessions::for_account(&state.db().pool, me.agency.id, AccountKind::Portal, id).await?;
    let base = context! {
        title => format!("{} {}", user.first_name, user.last_name).trim().to_owned(),
        portal_user => Serde(&user), role_name, sessions => account::shown(&sessions, None),
        input => Serde(input.unwrap_or(&current)),
        generated => passwords::generate_passphrase(), ..choices,
    };
    page(me, "manage/portal_user.html", context! { ..extra, ..base })
}

/// `GET /{agency}/manage/portal-users/{id}`.
pub async fn show(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Path((_, id)): Path<(String, i64)>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    render_edit(&state, &me, id, None, context! { notice => done.notice() }).await
}

/// `POST /{agency}/manage/portal-users/{id}`.
pub async fn update(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = Fields(fields).user();
    let granter = Granter::agency_admin();
    match rules::change(&state, &me.agency, &granter, id, &input, actor(&me, &ip)).await {
        Ok(()) => Ok(to_user(&me, id, "saved")),
        Err(AppError::Invalid(errors)) => {
            render_edit(
                &state,
                &me,
                id,
                Some(&input),
                context! { errors => Serde(&errors) },
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /{agency}/manage/portal-users/{id}/password`: an admin-chosen password.
pub async fn set_password(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    match rules::set_password(&state, &me.agency, id, &form.password, actor(&me, &ip)).await {
        Ok(()) => Ok(to_user(&me, id, "password")),
        Err(AppError::Invalid(errors)) => {
            let extra = context! { password_errors => Serde(&errors), typed => &form.password };
            render_edit(&state, &me, id, None, extra).await
        }
        Err(other) => Err(other),
    }
}

pub(crate) fn sent_done(sent: Sent, ok: &'static str) -> &'static str {
    match sent {
        Sent::Queued(crate::mail::Queued::PortalDisabled) => "not-sent",
        Sent::Queued(crate::mail::Queued::ClientPortalDisabled) => "not-sent-client",
        Sent::Queued(_) => ok,
        Sent::Limited => "limited",
        Sent::NotInvited => "not-invited",
    }
}

/// `POST /{agency}/manage/portal-users/{id}/{action}`: `deactivate` (their sessions end at
/// once), `reactivate`, `resend` (the invitation, rate-limited) or `reset-link`.
pub async fn act(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, action)): Path<(String, i64, String)>,
) -> AppResult<Response> {
    let (agency, actor) = (&me.agency, actor(&me, &ip));
    let done = match action.as_str() {
        "deactivate" | "reactivate" => {
            let active = action == "reactivate";
            rules::set_active(&state, agency, id, active, actor).await?;
            if active { "reactivated" } else { "deactivated" }
        }
        "resend" => sent_done(
            rules::resend_invitation(&state, agency, id, actor).await?,
            "resent",
        ),
        "reset-link" => sent_done(
            rules::send_reset_link(&state, agency, id, actor).await?,
            "reset-sent",
        ),
        "sign-out" => {
            rules::sign_out_everywhere(&state, agency, id, actor).await?;
            "signed-out"
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(to_user(&me, id, done))
}

/// `POST /{agency}/manage/portal-users/bulk`: the ticked users and what to do with them.
/// Deleting asks for confirmation first (a page naming how many); deactivating and resending
/// happen at once.
pub async fn bulk(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields(fields);
    let ids = crate::forms::distinct_ids(&fields.ids("ids"), crate::forms::MOST_USERS_AT_ONCE)?;
    if ids.is_empty() {
        return Err(AppError::BadRequest("Tick at least one user first.".into()));
    }
    let actor = actor(&me, &ip);
    match fields.text("action").as_str() {
        "delete" => {
            let mut users = Vec::new();
            for &id in &ids {
                if let Some(user) = portal_users::get(&state.db().pool, me.agency.id, id).await? {
                    users.push(user);
                }
            }
            if users.is_empty() {
                return Err(AppError::NotFound);
            }
            page(
                &me,
                "manage/portal_users_delete.html",
                context! { title => "Delete portal users", users => Serde(&users), count => users.len() },
            )
        }
        "deactivate" => {
            let mut count = 0;
            for id in ids {
                match rules::set_active(&state, &me.agency, id, false, actor).await {
                    Ok(()) => count += 1,
                    Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(to_list(&me, "bulk-deactivated", Some(count)))
        }
        "resend" => {
            let mut count = 0;
            for id in ids {
                match rules::resend_invitation(&state, &me.agency, id, actor).await {
                    Ok(Sent::Queued(_)) => count += 1,
                    Ok(_) | Err(AppError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(to_list(&me, "bulk-resent", Some(count)))
        }
        _ => Err(AppError::BadRequest(
            "Choose what to do with the ticked users.".into(),
        )),
    }
}

/// `POST /{agency}/manage/portal-users/bulk/delete`: the confirmed deletion.
pub async fn bulk_delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields(fields);
    if !fields.ticked("confirm") {
        return Err(AppError::BadRequest("Confirm the deletion first.".into()));
    }
    let ids = crate::forms::distinct_ids(&fields.ids("ids"), crate::forms::MOST_USERS_AT_ONCE)?;
    let deleted = rules::delete(&state, &me.agency, &ids, actor(&me, &ip)).await?;
    Ok(to_list(&me, "deleted", Some(deleted)))
}

/// `?format=` of an export: a format id an export plugin of the agency offers.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    #[serde(default)]
    pub format: String,
}

/// `GET /{agency}/manage/portal-users/export?format=…`: the list as filtered, as a file.
pub async fn export(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    plugins: crate::plugins::PluginRequest,
    Query(query): Query<ListQuery>,
    Query(format): Query<FormatQuery>,
) -> AppResult<Response> {
    export::download(&state, &plugins, &me.agency, query.filter(), &format.format)
}

/// The import page, with what was pasted and, after a run, its report.
async fn render_import(
    state: &AppState,
    me: &SignedIn,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let choices = form_choices(state, me).await?;
    let base =
        context! { title => "Invite portal users from CSV", columns => import::COLUMNS, ..choices };
    page(
        me,
        "manage/portal_users_import.html",
        context! { ..extra, ..base },
    )
}

/// `GET /{agency}/manage/portal-users/import`.
pub async fn import_form(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
) -> AppResult<Response> {
    render_import(&state, &me, context! { dry_run => true }).await
}

#[derive(Debug, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    dry_run: Option<String>,
}

/// `POST /{agency}/manage/portal-users/import`: the pasted (or, with JavaScript, chosen)
/// file, checked and — unless "dry run" is ticked — invited, with a report per row.
pub async fn import_submit(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(form): Form<ImportForm>,
) -> AppResult<Response> {
    let dry_run = crate::forms::checked(&form.dry_run);
    let options = import::Options {
        default_role: &form.role,
        dry_run,
    };
    let ran = import::run(
        &state,
        &me.agency,
        &Granter::agency_admin(),
        &form.csv,
        options,
        actor(&me, &ip),
        &mut |_, _| {},
    )
    .await;
    let extra = match ran {
        Ok(report) => context! {
            report => Serde(&report), csv => &form.csv, role => &form.role, dry_run,
        },
        Err(AppError::Invalid(errors)) => context! {
            errors => Serde(&errors), csv => &form.csv, role => &form.role, dry_run,
        },
        Err(other) => return Err(other),
    };
    render_import(&state, &me, extra).await
}
