//! A client's contacts (the people the agency deals with there), shared by the manage pages
//! and the JSON API: checked, saved and removed, each audited against the client.

use crate::agency::Agency;
use crate::clients::{ClientPart, Removal, audit_client};
use crate::db::audit::Actor;
use crate::db::clients;
use crate::db::contacts::{self, ContactFields};
use crate::error::AppResult;
use crate::forms::FieldErrors;
use crate::state::AppState;
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::AnyPool;

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

/// A client's contacts.
#[derive(Debug)]
pub struct Contacts;

impl ClientPart for Contacts {
    const PLURAL: &'static str = "contacts";
    type Row = contacts::Contact;
    type Input = ContactInput;

    async fn list(pool: &AnyPool, agency_id: i64, client_id: i64) -> sqlx::Result<Vec<Self::Row>> {
        contacts::for_client(pool, agency_id, client_id).await
    }

    async fn get(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
        id: i64,
    ) -> sqlx::Result<Option<Self::Row>> {
        contacts::get(pool, agency_id, client_id, id).await
    }

    /// Adds (`id` `None`) or changes a contact of one of the agency's clients and audits it;
    /// `None` when the agency has no such client or contact.
    async fn save(
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

    /// Removes a contact and audits it.
    async fn remove(
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
        let Some(contact) = contacts::get(pool, agency.id, client_id, id).await? else {
            return Ok(Removal::NotFound);
        };
        contacts::delete(pool, agency.id, client_id, id).await?;
        let label = format!(
            "{}: {} {}",
            client.name, contact.first_name, contact.last_name
        );
        audit_client(state, agency, actor, "contact removed", client_id, &label).await?;
        Ok(Removal::Removed)
    }
}
