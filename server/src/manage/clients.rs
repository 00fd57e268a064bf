//! Clients (the agency's customer companies) and their worksites. Everyone at the agency
//! sees them; admins add, change, archive and delete. A client that still has data cannot be
//! deleted — archiving hides it instead.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use crate::agency::Agency;
use crate::app::AppState;
use crate::auth::{ClientIp, SignedIn, StaffAdmin, StaffSession, audit_actor};
use crate::db::audit::{self, Actor, Target};
use crate::db::clients::{self, NewClient};
use crate::error::{AppError, AppResult};
use crate::forms::{FieldErrors, checked};

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

async fn audit_client(
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

async fn record(
    state: &AppState,
    me: &SignedIn,
    ip: &str,
    action: &str,
    id: i64,
    name: &str,
) -> AppResult<()> {
    audit_client(state, &me.agency, staff_actor(me, ip), action, id, name).await
}

fn staff_actor<'a>(me: &'a SignedIn, ip: &'a str) -> Actor<'a> {
    audit_actor(me.kind.as_str(), Some(me.account.id), &me.account.email, ip)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    archived: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    StaffSession(me): StaffSession,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let include_archived = checked(&query.archived);
    let rows = clients::search(&state.db().pool, me.agency.id, &query.q, include_archived).await?;
    let notice = match query.done.as_deref() {
        Some("deleted") => Some("The client was deleted."),
        _ => None,
    };
    page(
        &me,
        "manage/clients.html",
        context! {
            title => "Clients", clients => Serde(&rows), q => &query.q, include_archived, notice,
        },
    )
}

fn page(me: &SignedIn, template: &str, extra: minijinja::Value) -> AppResult<Response> {
    let base = context! {
        area => "manage", csrf_token => me.csrf_token(), user => &me.account.name,
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
    page(
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
        Ok(id) => Ok(Redirect::to(&format!(
            "/{}/manage/clients/{id}?done=created",
            me.agency.slug
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => page(
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

async fn detail(
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
        input => Serde(&input), kept,
    };
    page(me, "manage/client.html", context! { ..extra, ..base })
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
            Ok(Redirect::to(&to).into_response())
        }
        Ok(false) => Err(AppError::NotFound),
        Err(AppError::Invalid(errors)) => {
            let pool = &state.db().pool;
            let client = clients::get(pool, me.agency.id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let worksites = clients::worksites(pool, me.agency.id, id).await?;
            page(
                &me,
                "manage/client.html",
                context! {
                    title => &client.name, client => Serde(&client), worksites => Serde(&worksites),
                    input => Serde(&input), errors => Serde(&errors),
                },
            )
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
    let client = clients::get(&state.db().pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    clients::set_archived(&state.db().pool, me.agency.id, id, archived).await?;
    let (action, done) = if archived {
        ("client archived", "archived")
    } else {
        ("client restored", "restored")
    };
    record(&state, &me, &ip, action, id, &client.name).await?;
    Ok(Redirect::to(&format!(
        "/{}/manage/clients/{id}?done={done}",
        me.agency.slug
    ))
    .into_response())
}

/// Deletes a client with no data; otherwise says what it still has and offers archiving.
pub async fn delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kept = clients::data_kept(pool, me.agency.id, id).await?;
    if !kept.is_empty() {
        let error = format!(
            "{} cannot be deleted because it still has {}. Archive it instead: it disappears from lists and the portal, and its history is kept.",
            client.name,
            kept.join(", ")
        );
        return detail(&state, &me, id, context! { error }).await;
    }
    let mut tx = pool.begin().await?;
    clients::delete(&mut tx, me.agency.id, id).await?;
    tx.commit().await?;
    record(&state, &me, &ip, "client deleted", id, &client.name).await?;
    Ok(Redirect::to(&format!("/{}/manage/clients?done=deleted", me.agency.slug)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct WorksiteInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
}

pub async fn add_worksite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<WorksiteInput>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::default();
    errors.required("worksite_name", "worksite name", &input.name, 200);
    errors.at_most("worksite_address", "address", &input.address, 500);
    if !errors.is_empty() {
        return detail(&state, &me, id, context! { worksite_errors => Serde(&errors), worksite => context! { name => &input.name, address => &input.address } }).await;
    }
    clients::create_worksite(pool, me.agency.id, client.id, &input.name, &input.address).await?;
    record(
        &state,
        &me,
        &ip,
        "worksite added",
        id,
        &format!("{}: {}", client.name, input.name.trim()),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/{}/manage/clients/{id}?done=worksite-added",
        me.agency.slug
    ))
    .into_response())
}

pub async fn remove_worksite(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, worksite)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !clients::delete_worksite(pool, me.agency.id, id, worksite).await? {
        let error = "That worksite is in use (timesheets, clock events, contacts or requests refer to it), so it stays.";
        return detail(&state, &me, id, context! { error }).await;
    }
    record(&state, &me, &ip, "worksite removed", id, &client.name).await?;
    Ok(Redirect::to(&format!(
        "/{}/manage/clients/{id}?done=worksite-removed",
        me.agency.slug
    ))
    .into_response())
}
