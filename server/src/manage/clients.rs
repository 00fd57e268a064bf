//! Clients (the agency's customer companies) and their worksites. Everyone at the agency
//! sees them; admins add, change, archive and delete. A client that still has data cannot be
//! deleted — archiving hides it instead.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::agency::Agency;
use crate::app::AppState;
use crate::auth::{ClientIp, SignedIn, StaffAdmin, StaffSession, audit_actor};
use crate::db::audit::{self, Actor, Target};
use crate::db::clients::{self, ClientFilter, ClientPage, NewClient, SortColumn, StatusFilter};
use crate::db::contacts;
use crate::db::outbox::Page;
use crate::error::{AppError, AppResult};
use crate::forms::{FieldErrors, checked};
use crate::manage::outbox::Pager;

/// What a person or a back-office system sends for a client.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ClientInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub notes: String,
    /// A checkbox on forms (`on` when ticked), a boolean in JSON.
    #[serde(default, deserialize_with = "checkbox")]
    pub portal_enabled: Option<String>,
}

fn checkbox<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Bool(true)) => Some("on".into()),
        Some(Value::Bool(false)) | None => None,
        Some(Value::Text(text)) => Some(text),
    })
}

impl ClientInput {
    fn as_new(&self) -> NewClient<'_> {
        NewClient {
            external_id: None,
            name: &self.name,
            email: &self.email,
            phone: &self.phone,
            address: &self.address,
            notes: &self.notes,
        }
    }
}

/// Checks a client's fields, including that no other client of the agency has the name.
pub async fn validate(
    state: &AppState,
    agency: &Agency,
    input: &ClientInput,
    id: Option<i64>,
) -> AppResult<FieldErrors> {
    let mut errors = FieldErrors::default();
    errors.required("name", "company name", &input.name, 200);
    errors.optional_email("email", &input.email);
    errors.at_most("phone", "phone number", &input.phone, 40);
    errors.at_most("address", "address", &input.address, 500);
    errors.at_most("notes", "notes", &input.notes, 4000);
    if errors.get("name").is_none()
        && clients::name_taken(&state.db().pool, agency.id, &input.name, id).await?
    {
        errors.add("name", "Another client already has this name.");
    }
    Ok(errors)
}

/// Creates a client from checked input and audits it; returns its id. Used by the page and
/// the API alike.
pub async fn create(
    state: &AppState,
    agency: &Agency,
    input: &ClientInput,
    actor: Actor<'_>,
) -> AppResult<i64> {
    validate(state, agency, input, None).await?.into_result()?;
    let pool = &state.db().pool;
    let id = clients::create(pool, agency.id, &input.as_new()).await?;
    if !checked(&input.portal_enabled) {
        clients::update(pool, agency.id, id, &input.as_new(), false).await?;
    }
    audit_client(state, agency, actor, "client created", id, &input.name).await?;
    Ok(id)
}

/// Changes a client from checked input and audits it; false when the agency has no such
/// client.
pub async fn change(
    state: &AppState,
    agency: &Agency,
    id: i64,
    input: &ClientInput,
    actor: Actor<'_>,
) -> AppResult<bool> {
    validate(state, agency, input, Some(id))
        .await?
        .into_result()?;
    let enabled = checked(&input.portal_enabled);
    if !clients::update(&state.db().pool, agency.id, id, &input.as_new(), enabled).await? {
        return Ok(false);
    }
    audit_client(state, agency, actor, "client changed", id, &input.name).await?;
    Ok(true)
}

pub(crate) async fn audit_client(
    state: &AppState,
    agency: &Agency,
    actor: Actor<'_>,
    action: &str,
    id: i64,
    name: &str,
) -> AppResult<()> {
    let target = Target {
        kind: Some("client"),
        id: Some(id),
        label: Some(name.trim()),
    };
    audit::record(&state.db().pool, agency.id, actor, action, target, "").await?;
    Ok(())
}

pub(crate) fn staff_actor<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor(me.kind.as_str(), Some(me.account.id), &me.account.email, ip)
}

/// The client list's query string: `?q=&status=&sort=&dir=&page=&size=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: Option<String>,
    /// Older links: `archived=on` lists every client.
    #[serde(default)]
    pub archived: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
    #[serde(default)]
    done: Option<String>,
}

impl ListQuery {
    /// The filter and page asked for; anything unknown falls back to the default.
    pub fn filter(&self) -> (ClientFilter, Page) {
        let status = self
            .status
            .as_deref()
            .and_then(StatusFilter::parse)
            .unwrap_or(if checked(&self.archived) {
                StatusFilter::All
            } else {
                StatusFilter::Active
            });
        let filter = ClientFilter {
            search: self.q.trim().to_owned(),
            status,
            sort: self
                .sort
                .as_deref()
                .and_then(SortColumn::parse)
                .unwrap_or_default(),
            descending: self.dir.as_deref() == Some("desc"),
        };
        (filter, Page::new(self.page, self.size))
    }
}

/// One page of the agency's clients as `query` asks.
pub async fn listing(
    state: &AppState,
    agency: &Agency,
    query: &ListQuery,
) -> AppResult<(ClientFilter, Page, ClientPage)> {
    let (filter, page) = query.filter();
    let offset = i64::from(page.number - 1) * i64::from(page.size);
    let found = clients::search(
        &state.db().pool,
        agency.id,
        &filter,
        i64::from(page.size),
        offset,
    )
    .await?;
    Ok((filter, page, found))
}

pub async fn list(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let (filter, page, found) = listing(&state, &me.agency, &query).await?;
    let pager = Pager::new(page, found.total, found.clients.len());
    let notice = match query.done.as_deref() {
        Some("deleted") => Some("The client was deleted."),
        _ => None,
    };
    // Links keep the search and status; sorting links also keep the size, paging links the
    // order.
    let mut keep = format!(
        "q={}&status={}&",
        encode(&filter.search),
        status_name(filter.status)
    );
    let sort_links: Vec<minijinja::Value> = SortColumn::ALL
        .into_iter()
        .map(|column| {
            let current = column == filter.sort;
            let dir = if current && !filter.descending {
                "desc"
            } else {
                "asc"
            };
            let aria = match (current, filter.descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            };
            let href = format!(
                "?{keep}sort={}&dir={dir}&size={}",
                column.as_str(),
                page.size
            );
            (column.as_str(), context! { href, aria })
        })
        .map(|(name, link)| context! { name, link })
        .collect();
    keep.push_str(&format!(
        "sort={}&dir={}&size={}&",
        filter.sort.as_str(),
        if filter.descending { "desc" } else { "asc" },
        page.size
    ));
    page_html(
        &me,
        "manage/clients.html",
        context! {
            title => "Clients", clients => Serde(&found.clients),
            q => &filter.search, status => status_name(filter.status),
            pager => Serde(pager), base_query => keep, page_sizes => Page::SIZES,
            sort_links, notice,
        },
    )
}

fn status_name(status: StatusFilter) -> &'static str {
    match status {
        StatusFilter::Active => "active",
        StatusFilter::PortalOff => "portal-off",
        StatusFilter::Archived => "archived",
        StatusFilter::All => "all",
    }
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_owned()
}

pub(crate) fn page_html(
    me: &SignedIn,
    template: &str,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let base = context! {
        area => "manage", nav => "clients", csrf_token => me.csrf_token(), user => &me.account.name,
        is_admin => me.account.role_id == "admin",
    };
    Ok(me
        .agency
        .render(template, context! { ..base, ..extra })?
        .into_response())
}

pub async fn new_form(StaffAdmin(me): StaffAdmin) -> AppResult<Response> {
    let input = ClientInput {
        portal_enabled: Some("on".into()),
        ..ClientInput::default()
    };
    page_html(
        &me,
        "manage/client_form.html",
        context! { title => "Add a client", input => Serde(&input) },
    )
}

pub async fn new_submit(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Form(input): Form<ClientInput>,
) -> AppResult<Response> {
    match create(&state, &me.agency, &input, staff_actor(&me, &ip)).await {
        Ok(id) => Ok(crate::redirect::to(&format!(
            "/{}/manage/clients/{id}?done=created",
            me.agency.slug
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => page_html(
            &me,
            "manage/client_form.html",
            context! {
                title => "Add a client", input => Serde(&input), errors => Serde(&errors),
            },
        ),
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

pub(crate) async fn detail(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    extra: minijinja::Value,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let worksites = clients::worksites(pool, me.agency.id, id).await?;
    let kept = clients::data_kept(pool, me.agency.id, id).await?;
    let people = contacts::for_client(pool, me.agency.id, id).await?;
    let logins = clients::portal_logins(pool, me.agency.id, id).await?;
    let input = ClientInput {
        name: client.name.clone(),
        email: client.email.clone(),
        phone: client.phone.clone(),
        address: client.address.clone(),
        notes: client.notes.clone(),
        portal_enabled: client.portal_enabled.then(|| "on".into()),
    };
    let base = context! {
        title => &client.name, client => Serde(&client), worksites => Serde(&worksites),
        input => Serde(&input), kept, contacts => Serde(&people), logins => Serde(&logins),
    };
    page_html(me, "manage/client.html", context! { ..extra, ..base })
}

pub async fn show(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Path((_, id)): Path<(String, i64)>,
    Query(query): Query<DetailQuery>,
) -> AppResult<Response> {
    let notice = match query.done.as_deref() {
        Some("created") => Some("The client was added."),
        Some("saved") => Some("Changes saved."),
        Some("archived") => Some("The client is archived: hidden from lists and the portal."),
        Some("restored") => Some("The client is active again."),
        Some("worksite-added") => Some("Worksite added."),
        Some("worksite-removed") => Some("Worksite removed."),
        Some("worksite-saved") => Some("Worksite saved."),
        Some("contact-added") => Some("Contact added."),
        Some("contact-saved") => Some("Contact saved."),
        Some("contact-removed") => Some("Contact removed."),
        _ => None,
    };
    detail(&state, &me, id, context! { notice }).await
}

pub async fn update(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<ClientInput>,
) -> AppResult<Response> {
    match change(&state, &me.agency, id, &input, staff_actor(&me, &ip)).await {
        Ok(true) => {
            let to = format!("/{}/manage/clients/{id}?done=saved", me.agency.slug);
            Ok(crate::redirect::to(&to).into_response())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(AppError::Invalid(errors)) => {
            let extra = context! { input => Serde(&input), errors => Serde(&errors) };
            detail(&state, &me, id, extra).await
        }
        Err(other) => Err(other),
    }
}

pub async fn archive(
    state: State<AppState>,
    admin: StaffAdmin,
    ip: ClientIp,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_archived(state, admin, ip, path, true).await
}

pub async fn restore(
    state: State<AppState>,
    admin: StaffAdmin,
    ip: ClientIp,
    path: Path<(String, i64)>,
) -> AppResult<Response> {
    set_archived(state, admin, ip, path, false).await
}

/// Archives or restores one of the agency's clients and audits it; false when there is no
/// such client. Used by the page and the API alike.
pub async fn archive_client(
    state: &AppState,
    agency: &Agency,
    id: i64,
    archived: bool,
    actor: Actor<'_>,
) -> AppResult<bool> {
    let pool = &state.db().pool;
    let Some(client) = clients::get(pool, agency.id, id).await? else {
        return Ok(false);
    };
    clients::set_archived(pool, agency.id, id, archived).await?;
    let action = if archived {
        "client archived"
    } else {
        "client restored"
    };
    audit_client(state, agency, actor, action, id, &client.name).await?;
    Ok(true)
}

async fn set_archived(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    archived: bool,
) -> AppResult<Response> {
    if !archive_client(&state, &me.agency, id, archived, staff_actor(&me, &ip)).await? {
        return Err(AppError::NotFound);
    }
    let done = if archived { "archived" } else { "restored" };
    Ok(back_to(&me, id, done))
}

/// Deletes one of the agency's clients that has no data, with its worksites, and audits it.
/// `NotFound` when there is no such client; `Conflict` naming what it still has otherwise,
/// and offering archiving instead.
pub async fn delete_client(
    state: &AppState,
    agency: &Agency,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<()> {
    let pool = &state.db().pool;
    let client = clients::get(pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kept = clients::data_kept(pool, agency.id, id).await?;
    if !kept.is_empty() {
        return Err(AppError::Conflict(format!(
            "{} cannot be deleted because it still has {}. Archive it instead: it disappears from lists and the portal, and its history is kept.",
            client.name,
            kept.join(", ")
        )));
    }
    let mut tx = crate::db::begin_write(pool).await?;
    clients::delete(&mut tx, agency.id, id).await?;
    tx.commit().await?;
    audit_client(state, agency, actor, "client deleted", id, &client.name).await?;
    Ok(())
}

/// Deletes a client with no data; otherwise says what it still has and offers archiving.
pub async fn delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    match delete_client(&state, &me.agency, id, staff_actor(&me, &ip)).await {
        Ok(()) => Ok(crate::redirect::to(&format!(
            "/{}/manage/clients?done=deleted",
            me.agency.slug
        ))
        .into_response()),
        Err(AppError::Conflict(error)) => detail(&state, &me, id, context! { error }).await,
        Err(other) => Err(other),
    }
}

/// What a person or a back-office system sends for a worksite.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct WorksiteInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
}

impl WorksiteInput {
    /// Problems keyed `worksite_name` / `worksite_address` on pages (where the client's own
    /// fields share the page) and `name` / `address` in the API.
    pub fn errors(&self, prefix: &str) -> FieldErrors {
        let mut errors = FieldErrors::default();
        errors.required(&format!("{prefix}name"), "worksite name", &self.name, 200);
        errors.at_most(&format!("{prefix}address"), "address", &self.address, 500);
        errors
    }
}

/// Adds (`id` `None`) or changes a worksite of one of the agency's clients and audits it;
/// `None` when the agency has no such client or worksite.
pub async fn save_worksite(
    state: &AppState,
    agency: &Agency,
    client_id: i64,
    id: Option<i64>,
    input: &WorksiteInput,
    actor: Actor<'_>,
) -> AppResult<Option<i64>> {
    let pool = &state.db().pool;
    let Some(client) = clients::get(pool, agency.id, client_id).await? else {
        return Ok(None);
    };
    input.errors("").into_result()?;
    let (id, action) = match id {
        None => {
            let id =
                clients::create_worksite(pool, agency.id, client_id, &input.name, &input.address)
                    .await?;
            (id, "worksite added")
        }
        Some(id) => {
            if !clients::update_worksite(
                pool,
                agency.id,
                client_id,
                id,
                &input.name,
                &input.address,
            )
            .await?
            {
                return Ok(None);
            }
            (id, "worksite changed")
        }
    };
    let label = format!("{}: {}", client.name, input.name.trim());
    audit_client(state, agency, actor, action, client_id, &label).await?;
    Ok(Some(id))
}

/// What became of a request to remove a worksite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// Timesheets, clock events, contacts, portal users or requests refer to it.
    InUse,
}

/// The words shown (page) and returned (API) when a worksite in use stays.
pub const WORKSITE_IN_USE: &str = "That worksite is in use (timesheets, clock events, contacts, portal users or requests refer to it), so it stays.";

pub async fn remove_worksite_of(
    state: &AppState,
    agency: &Agency,
    client_id: i64,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<Removal> {
    let pool = &state.db().pool;
    let Some(client) = clients::get(pool, agency.id, client_id).await? else {
        return Ok(Removal::NotFound);
    };
    let Some(worksite) = clients::worksite(pool, agency.id, client_id, id).await? else {
        return Ok(Removal::NotFound);
    };
    if !clients::delete_worksite(pool, agency.id, client_id, id).await? {
        return Ok(Removal::InUse);
    }
    let label = format!("{}: {}", client.name, worksite.name);
    audit_client(state, agency, actor, "worksite removed", client_id, &label).await?;
    Ok(Removal::Removed)
}

fn back_to(me: &SignedIn, id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/clients/{id}?done={done}",
        me.agency.slug
    ))
    .into_response()
}

pub async fn add_worksite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<WorksiteInput>,
) -> AppResult<Response> {
    let errors = input.errors("worksite_");
    if !errors.is_empty() {
        let extra = context! { worksite_errors => Serde(&errors), worksite => Serde(&input) };
        return detail(&state, &me, id, extra).await;
    }
    save_worksite(&state, &me.agency, id, None, &input, staff_actor(&me, &ip))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(back_to(&me, id, "worksite-added"))
}

fn worksite_page(
    me: &SignedIn,
    client: &clients::Client,
    worksite: i64,
    input: &WorksiteInput,
    errors: Option<&FieldErrors>,
) -> AppResult<Response> {
    page_html(
        me,
        "manage/worksite.html",
        context! {
            title => format!("Worksite of {}", client.name),
            client => Serde(client), worksite_id => worksite, input => Serde(input),
            errors => errors.map(Serde),
        },
    )
}

/// `GET /{agency}/manage/clients/{id}/worksites/{worksite}`: the edit form.
pub async fn worksite_form(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let found = clients::worksite(pool, me.agency.id, id, worksite)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = WorksiteInput {
        name: found.name,
        address: found.address,
    };
    worksite_page(&me, &client, worksite, &input, None)
}

pub async fn update_worksite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
    Form(input): Form<WorksiteInput>,
) -> AppResult<Response> {
    let actor = staff_actor(&me, &ip);
    match save_worksite(&state, &me.agency, id, Some(worksite), &input, actor).await {
        Ok(Some(_)) => Ok(back_to(&me, id, "worksite-saved")),
        Ok(None) => Err(AppError::NotFound),
        Err(AppError::Invalid(errors)) => {
            let client = clients::get(&state.db().pool, me.agency.id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            worksite_page(&me, &client, worksite, &input, Some(&errors))
        }
        Err(other) => Err(other),
    }
}

pub async fn remove_worksite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    match remove_worksite_of(&state, &me.agency, id, worksite, staff_actor(&me, &ip)).await? {
        Removal::Removed => Ok(back_to(&me, id, "worksite-removed")),
        Removal::NotFound => Err(AppError::NotFound),
        Removal::InUse => detail(&state, &me, id, context! { error => WORKSITE_IN_USE }).await,
    }
}
