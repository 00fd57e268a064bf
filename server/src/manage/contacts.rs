//! Contacts: the people at a client (seed 003's contact records) — name, job title, email,
//! phone — linked to the client, optionally to one of its worksites and to the portal login
//! they use. Everyone at the agency sees them; admins add, change and remove them.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Deserializer, Serialize};

use super::clients::{audit_client, detail, page_html, staff_actor};
use crate::agency::Agency;
use crate::app::AppState;
use crate::auth::{ClientIp, SignedIn, StaffAdmin};
use crate::db::audit::Actor;
use crate::db::clients;
use crate::db::contacts::{self, ContactFields};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;

/// What a person or a back-office system sends for a contact.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ContactInput {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// One of the client's worksites; empty or null for none.
    #[serde(default, deserialize_with = "optional_id")]
    pub worksite_id: Option<i64>,
    /// The portal login the contact uses (one that sees this client); empty or null for none.
    #[serde(default, deserialize_with = "optional_id")]
    pub portal_user_id: Option<i64>,
}

/// An id from a form (`""` is none) or JSON (a number, or null).
fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Number(i64),
        Text(String),
    }
    match Option::<Value>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n)),
        Some(Value::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expected an id")),
    }
}

impl ContactInput {
    fn fields(&self) -> ContactFields<'_> {
        ContactFields {
            worksite_id: self.worksite_id,
            portal_user_id: self.portal_user_id,
            first_name: &self.first_name,
            last_name: &self.last_name,
            title: &self.title,
            email: &self.email,
            phone: &self.phone,
        }
    }
}

/// Checks a contact's fields, and that its worksite and portal login belong to the client.
pub async fn validate(
    state: &AppState,
    agency: &Agency,
    client_id: i64,
    input: &ContactInput,
) -> AppResult<FieldErrors> {
    let pool = &state.db().pool;
    let mut errors = FieldErrors::default();
    errors.required("first_name", "first name", &input.first_name, 100);
    errors.required("last_name", "last name", &input.last_name, 100);
    errors.at_most("title", "job title", &input.title, 100);
    errors.optional_email("email", &input.email);
    errors.at_most("phone", "phone number", &input.phone, 40);
    if let Some(worksite) = input.worksite_id
        && clients::worksite(pool, agency.id, client_id, worksite)
            .await?
            .is_none()
    {
        errors.add("worksite_id", "Choose one of this client's worksites.");
    }
    if let Some(login) = input.portal_user_id
        && !clients::portal_logins(pool, agency.id, client_id)
            .await?
            .iter()
            .any(|l| l.id == login)
    {
        errors.add(
            "portal_user_id",
            "Choose a portal login that sees this client.",
        );
    }
    Ok(errors)
}

/// Adds (`id` `None`) or changes a contact of one of the agency's clients and audits it;
/// `None` when the agency has no such client or contact.
pub async fn save(
    state: &AppState,
    agency: &Agency,
    client_id: i64,
    id: Option<i64>,
    input: &ContactInput,
    actor: Actor<'_>,
) -> AppResult<Option<i64>> {
    let pool = &state.db().pool;
    let Some(client) = clients::get(pool, agency.id, client_id).await? else {
        return Ok(None);
    };
    if let Some(id) = id
        && contacts::get(pool, agency.id, client_id, id)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    validate(state, agency, client_id, input)
        .await?
        .into_result()?;
    let (id, action) = match id {
        None => (
            contacts::create(pool, agency.id, client_id, &input.fields()).await?,
            "contact added",
        ),
        Some(id) => {
            contacts::update(pool, agency.id, client_id, id, &input.fields()).await?;
            (id, "contact changed")
        }
    };
    let label = format!(
        "{}: {} {}",
        client.name,
        input.first_name.trim(),
        input.last_name.trim()
    );
    audit_client(state, agency, actor, action, client_id, &label).await?;
    Ok(Some(id))
}

/// Removes a contact and audits it; false when the agency's client has no such contact.
pub async fn remove(
    state: &AppState,
    agency: &Agency,
    client_id: i64,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<bool> {
    let pool = &state.db().pool;
    let Some(client) = clients::get(pool, agency.id, client_id).await? else {
        return Ok(false);
    };
    let Some(contact) = contacts::get(pool, agency.id, client_id, id).await? else {
        return Ok(false);
    };
    contacts::delete(pool, agency.id, client_id, id).await?;
    let label = format!(
        "{}: {} {}",
        client.name, contact.first_name, contact.last_name
    );
    audit_client(state, agency, actor, "contact removed", client_id, &label).await?;
    Ok(true)
}

fn back_to(me: &SignedIn, client_id: i64, done: &str) -> Response {
    crate::redirect::to(&format!(
        "/{}/manage/clients/{client_id}?done={done}",
        me.agency.slug
    ))
    .into_response()
}

/// `POST /{agency}/manage/clients/{id}/contacts`.
pub async fn add(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, i64)>,
    Form(input): Form<ContactInput>,
) -> AppResult<Response> {
    match save(&state, &me.agency, id, None, &input, staff_actor(&me, &ip)).await {
        Ok(Some(_)) => Ok(back_to(&me, id, "contact-added")),
        Ok(None) => Err(AppError::NotFound),
        Err(AppError::Invalid(errors)) => {
            let extra = context! { contact => Serde(&input), contact_errors => Serde(&errors) };
            detail(&state, &me, id, extra).await
        }
        Err(other) => Err(other),
    }
}

async fn edit_page(
    state: &AppState,
    me: &SignedIn,
    client_id: i64,
    contact_id: i64,
    input: &ContactInput,
    errors: Option<&FieldErrors>,
) -> AppResult<Response> {
    let pool = &state.db().pool;
    let client = clients::get(pool, me.agency.id, client_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let worksites = clients::worksites(pool, me.agency.id, client_id).await?;
    let logins = clients::portal_logins(pool, me.agency.id, client_id).await?;
    page_html(
        me,
        "manage/contact.html",
        context! {
            title => "Edit contact", client => Serde(&client),
            contact_id, contact => Serde(input), contact_errors => errors.map(Serde),
            worksites => Serde(&worksites), logins => Serde(&logins),
        },
    )
}

/// `GET /{agency}/manage/clients/{id}/contacts/{contact}`: the edit form.
pub async fn show(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    Path((_, id, contact)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    let found = contacts::get(&state.db().pool, me.agency.id, id, contact)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = ContactInput {
        first_name: found.first_name,
        last_name: found.last_name,
        title: found.title,
        email: found.email,
        phone: found.phone,
        worksite_id: found.worksite_id,
        portal_user_id: found.portal_user_id,
    };
    edit_page(&state, &me, id, contact, &input, None).await
}

/// `POST /{agency}/manage/clients/{id}/contacts/{contact}`.
pub async fn update(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, contact)): Path<(String, i64, i64)>,
    Form(input): Form<ContactInput>,
) -> AppResult<Response> {
    let actor = staff_actor(&me, &ip);
    match save(&state, &me.agency, id, Some(contact), &input, actor).await {
        Ok(Some(_)) => Ok(back_to(&me, id, "contact-saved")),
        Ok(None) => Err(AppError::NotFound),
        Err(AppError::Invalid(errors)) => {
            edit_page(&state, &me, id, contact, &input, Some(&errors)).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /{agency}/manage/clients/{id}/contacts/{contact}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    StaffAdmin(me): StaffAdmin,
    ClientIp(ip): ClientIp,
    Path((_, id, contact)): Path<(String, i64, i64)>,
) -> AppResult<Response> {
    if !remove(&state, &me.agency, id, contact, staff_actor(&me, &ip)).await? {
        return Err(AppError::NotFound);
    }
    Ok(back_to(&me, id, "contact-removed"))
}
