//! What may be done to an agency's clients and their worksites, shared by the manage pages
//! and the JSON API: checking input, creating, changing, listing, archiving and deleting
//! clients, adding, changing and removing worksites — each audited.

use crate::agency::Agency;
use crate::db::audit::{self, Actor, Target};
use crate::db::clients::{self, ClientFilter, ClientPage, NewClient, SortColumn, StatusFilter};
use crate::db::outbox::Page;
use crate::error::{AppError, AppResult};
use crate::forms::{FieldErrors, checked};
use crate::state::AppState;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::AnyPool;

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

pub async fn audit_client(
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
    pub done: Option<String>,
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

/// Archives or restores one of the agency's clients and audits it; false when there is no
/// such client. Used by the page and the API alike.
pub async fn archive(
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

/// Deletes one of the agency's clients that has no data, with its worksites, and audits it.
/// `NotFound` when there is no such client; `Conflict` naming what it still has otherwise,
/// and offering archiving instead.
pub async fn delete(state: &AppState, agency: &Agency, id: i64, actor: Actor<'_>) -> AppResult<()> {
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

/// What became of a request to remove a worksite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// Something refers to it, as the words say.
    InUse(&'static str),
}

/// The words shown (page) and returned (API) when a worksite in use stays.
const WORKSITE_IN_USE: &str = "That worksite is in use (timesheets, clock events, contacts, portal users or requests refer to it), so it stays.";

/// What a client has that is kept alike — its worksites and its contacts: listed, added,
/// changed and removed by the manage pages and the JSON API through these, each change audited
/// against the client.
pub trait ClientPart: Send + Sync + 'static {
    /// The list's name: `worksites`, `contacts`.
    const PLURAL: &'static str;
    type Row: Serialize + Send;
    type Input: DeserializeOwned + Send + 'static;

    /// Every one of the client's, in the list's order.
    fn list(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Row>>> + Send;

    fn get(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
        id: i64,
    ) -> impl Future<Output = sqlx::Result<Option<Self::Row>>> + Send;

    /// Adds (`id` none) or changes one; its id, or `None` when the client or it is not found.
    fn save(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: Option<i64>,
        input: &Self::Input,
        actor: Actor<'_>,
    ) -> impl Future<Output = AppResult<Option<i64>>> + Send;

    fn remove(
        state: &AppState,
        agency: &Agency,
        client_id: i64,
        id: i64,
        actor: Actor<'_>,
    ) -> impl Future<Output = AppResult<Removal>> + Send;
}

/// A client's worksites.
#[derive(Debug)]
pub struct Worksites;

impl ClientPart for Worksites {
    const PLURAL: &'static str = "worksites";
    type Row = clients::Worksite;
    type Input = WorksiteInput;

    async fn list(pool: &AnyPool, agency_id: i64, client_id: i64) -> sqlx::Result<Vec<Self::Row>> {
        clients::worksites(pool, agency_id, client_id).await
    }

    async fn get(
        pool: &AnyPool,
        agency_id: i64,
        client_id: i64,
        id: i64,
    ) -> sqlx::Result<Option<Self::Row>> {
        clients::worksite(pool, agency_id, client_id, id).await
    }

    /// Adds (`id` `None`) or changes a worksite of one of the agency's clients and audits it;
    /// `None` when the agency has no such client or worksite.
    async fn save(
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
                let id = clients::create_worksite(
                    pool,
                    agency.id,
                    client_id,
                    &input.name,
                    &input.address,
                )
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
        let Some(worksite) = clients::worksite(pool, agency.id, client_id, id).await? else {
            return Ok(Removal::NotFound);
        };
        if !clients::delete_worksite(pool, agency.id, client_id, id).await? {
            return Ok(Removal::InUse(WORKSITE_IN_USE));
        }
        let label = format!("{}: {}", client.name, worksite.name);
        audit_client(state, agency, actor, "worksite removed", client_id, &label).await?;
        Ok(Removal::Removed)
    }
}
