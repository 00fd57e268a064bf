//! Clients (the agency's customer companies) and their worksites. Everyone at the agency
//! sees them; admins add, change, archive and delete. A client that still has data cannot be
//! deleted — archiving hides it instead.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::auth::{ClientIp, SignedIn, StaffAdmin, StaffSession, audit_actor};
use crate::clients::{
    ClientInput, ClientPart, ListQuery, Removal, WorksiteInput, Worksites, change, create, listing,
};
use crate::db::audit::Actor;
use crate::db::clients::{self, SortColumn, StatusFilter};
use crate::db::contacts;
use crate::db::outbox::Page;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::paging::{Pager, sort_links};
use crate::state::AppState;

pub(crate) fn staff_actor<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor(me.kind.as_str(), Some(me.account.id), &me.account.email, ip)
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
    let sort_links = sort_links(
        SortColumn::ALL.into_iter().map(SortColumn::as_str),
        filter.sort.as_str(),
        filter.descending,
        &keep,
        page.size,
    );
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
    super::page_with_status(me, StatusCode::OK, template, "clients", extra)
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
    detail_with_status(state, me, id, StatusCode::OK, extra).await
}

/// The client's page at `status` (422 for a refused form on it).
pub(crate) async fn detail_with_status(
    state: &AppState,
    me: &SignedIn,
    id: i64,
    status: StatusCode,
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
    let attention = crate::attention::of_client(state, &me.agency, id).await?;
    let shared = crate::db::documents::list_for_clients(pool, me.agency.id, &[id]).await?;
    // What the client's portal shows of its invoices, jobs and quotes.
    let invoices = crate::db::invoices::list_for_clients(pool, me.agency.id, &[id], 20).await?;
    let jobs = crate::db::jobs::list_for_clients(pool, me.agency.id, &[id]).await?;
    let quotes = crate::db::quotes::list_for_clients(pool, me.agency.id, &[id]).await?;
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
        attention => Serde(&attention), shared => Serde(&shared),
        invoices => Serde(&invoices), jobs => Serde(&jobs), quotes => Serde(&quotes),
        today => crate::dates::iso(crate::dates::today()),
    };
    super::page_with_status(
        me,
        status,
        "manage/client.html",
        "clients",
        context! { ..extra, ..base },
    )
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
        Some("document-shared") => {
            Some("The document is shared: the client's portal shows it now.")
        }
        Some("document-withdrawn") => Some("The document is withdrawn from the client's portal."),
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

async fn set_archived(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    archived: bool,
) -> AppResult<Response> {
    if !crate::clients::archive(&state, &me.agency, id, archived, staff_actor(&me, &ip)).await? {
        return Err(AppError::NotFound);
    }
    let done = if archived { "archived" } else { "restored" };
    Ok(back_to(&me, id, done))
}

/// Deletes a client with no data; otherwise says what it still has and offers archiving.
pub async fn delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    match crate::clients::delete(&state, &me.agency, id, staff_actor(&me, &ip)).await {
        Ok(()) => Ok(crate::redirect::to(&format!(
            "/{}/manage/clients?done=deleted",
            me.agency.slug
        ))
        .into_response()),
        Err(AppError::Conflict(error)) => detail(&state, &me, id, context! { error }).await,
        Err(other) => Err(other),
    }
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
    Worksites::save(&state, &me.agency, id, None, &input, staff_actor(&me, &ip))
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
    match Worksites::save(&state, &me.agency, id, Some(worksite), &input, actor).await {
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
    match Worksites::remove(&state, &me.agency, id, worksite, staff_actor(&me, &ip)).await? {
        Removal::Removed => Ok(back_to(&me, id, "worksite-removed")),
        Removal::NotFound => Err(AppError::NotFound),
        Removal::InUse(error) => detail(&state, &me, id, context! { error }).await,
    }
}
