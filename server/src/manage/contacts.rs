//! Contacts: the people at a client (seed 003's contact records) — name, job title, email,
//! phone — linked to the client, optionally to one of its worksites and to the portal login
//! they use. Everyone at the agency sees them; admins add, change and remove them.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;

use super::clients::{detail, page_html, staff_actor};
use crate::auth::{ClientIp, SignedIn, StaffAdmin};
use crate::clients::{ClientPart, Removal};
use crate::contacts::{ContactInput, Contacts};
use crate::db::clients;
use crate::db::contacts::{self};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::state::AppState;

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
    match Contacts::save(&state, &me.agency, id, None, &input, staff_actor(&me, &ip)).await {
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
    match Contacts::save(&state, &me.agency, id, Some(contact), &input, actor).await {
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
    if Contacts::remove(&state, &me.agency, id, contact, staff_actor(&me, &ip)).await?
        != Removal::Removed
    {
        return Err(AppError::NotFound);
    }
    Ok(back_to(&me, id, "contact-removed"))
}
