//! The agency's customer companies and their worksites.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    #[sqlx(try_from = "super::Flag")]
    pub portal_enabled: bool,
    pub notes: String,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const CLIENT_COLUMNS: &str =
    "id, name, email, phone, address, portal_enabled, notes, archived_at, created_at";

/// A row of the manage area's client list.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ClientSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub client: Client,
    pub worksites: i64,
    pub portal_users: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Worksite {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Default)]
pub struct NewClient<'a> {
    pub external_id: Option<&'a str>,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub address: &'a str,
    pub notes: &'a str,
}

#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewClient<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO clients (agency_id, external_id, name, email, phone, address, notes, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(agency_id)
    .bind(new.external_id)
    .bind(new.name.trim())
    .bind(crate::email::normalize(new.email))
    .bind(new.phone.trim())
    .bind(new.address.trim())
    .bind(new.notes)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

/// The agency's active clients, by name.
pub async fn list<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE agency_id = $1 AND archived_at IS NULL \
         ORDER BY lower(name), id"
    )))
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// Ids and names of the agency's active clients among `client_ids`, by name: what a portal
/// page shows of the user's clients, without reading the agency's other clients.
pub async fn named<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT id, name FROM clients WHERE agency_id = $1 AND archived_at IS NULL \
         AND id IN ({}) ORDER BY lower(name), id",
        super::scope::client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
}

/// Which clients a list shows, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusFilter {
    /// Not archived (the default).
    #[default]
    Active,
    /// Not archived, portal switched off for the company.
    PortalOff,
    Archived,
    All,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "portal-off" => Some(Self::PortalOff),
            "archived" => Some(Self::Archived),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Active => "c.archived_at IS NULL",
            Self::PortalOff => "c.archived_at IS NULL AND c.portal_enabled = 0",
            Self::Archived => "c.archived_at IS NOT NULL",
            Self::All => "1 = 1",
        }
    }
}

/// The columns a client list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortColumn {
    #[default]
    Name,
    Email,
    Phone,
    Worksites,
    PortalUsers,
    Created,
}

impl SortColumn {
    pub const ALL: [Self; 6] = [
        Self::Name,
        Self::Email,
        Self::Phone,
        Self::Worksites,
        Self::PortalUsers,
        Self::Created,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Worksites => "worksites",
            Self::PortalUsers => "portal_users",
            Self::Created => "created",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Name => "lower(c.name)",
            Self::Email => "lower(c.email)",
            Self::Phone => "c.phone",
            Self::Worksites => "worksites",
            Self::PortalUsers => "portal_users",
            Self::Created => "c.created_at",
        }
    }
}

/// What a client list shows: text search (name, email or phone), status, order.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub search: String,
    pub status: StatusFilter,
    pub sort: SortColumn,
    pub descending: bool,
}

/// One page of a client list and how many clients match in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientPage {
    pub clients: Vec<ClientSummary>,
    pub total: i64,
}

/// Clients matching `filter`, with their worksite and portal-user counts, one page of
/// `limit` from `offset`. Ties are broken by id so pages never overlap.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn search(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    filter: &ClientFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<ClientPage> {
    let status = filter.status.sql();
    let pattern = format!("%{}%", filter.search.trim().to_lowercase());
    let matches = format!(
        "c.agency_id = $1 AND {status} \
         AND (lower(c.name) LIKE $2 OR lower(c.email) LIKE $2 OR c.phone LIKE $2)"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM clients c WHERE {matches}"
    )))
    .bind(agency_id)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    let direction = if filter.descending { "DESC" } else { "ASC" };
    let order = filter.sort.sql();
    let clients = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.name, c.email, c.phone, c.address, c.portal_enabled, c.notes, c.archived_at, c.created_at, \
         (SELECT COUNT(*) FROM worksites w WHERE w.agency_id = c.agency_id AND w.client_id = c.id) AS worksites, \
         (SELECT COUNT(*) FROM portal_user_clients l WHERE l.agency_id = c.agency_id AND l.client_id = c.id) AS portal_users \
         FROM clients c WHERE {matches} \
         ORDER BY {order} {direction}, c.id {direction} LIMIT $3 OFFSET $4"
    )))
    .bind(agency_id)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(ClientPage { clients, total })
}

pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE agency_id = $1 AND id = $2"
    )))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Whether another client of the agency already has this name (case-insensitively).
pub async fn name_taken<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    name: &str,
    except: Option<i64>,
) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1 AND lower(name) = $2 AND id <> $3",
    )
    .bind(agency_id)
    .bind(name.trim().to_lowercase())
    .bind(except.unwrap_or(-1))
    .fetch_one(db)
    .await?;
    Ok(count > 0)
}

/// Changes a client's details; false when the agency has no such client.
pub async fn update<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
    fields: &NewClient<'_>,
    portal_enabled: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE clients SET name = $1, email = $2, phone = $3, address = $4, notes = $5, \
         portal_enabled = $6, updated_at = $7 WHERE agency_id = $8 AND id = $9",
    )
    .bind(fields.name.trim())
    .bind(crate::email::normalize(fields.email))
    .bind(fields.phone.trim())
    .bind(fields.address.trim())
    .bind(fields.notes)
    .bind(super::Flag(portal_enabled))
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_archived<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
    archived: bool,
) -> sqlx::Result<bool> {
    let now = Timestamp::now();
    let done = sqlx::query(
        "UPDATE clients SET archived_at = $1, updated_at = $2 WHERE agency_id = $3 AND id = $4",
    )
    .bind(archived.then_some(now))
    .bind(now)
    .bind(agency_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What stops a client from being deleted: the kinds of data it still has, in words.
pub async fn data_kept<'e>(
    db: impl AnyExecutor<'e> + Copy,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Vec<String>> {
    let mut kept = Vec::new();
    let tables = [
        ("timesheets", "timesheets"),
        ("invoices", "invoices"),
        ("portal_user_clients", "portal users"),
        ("work_requests", "work requests"),
        ("documents", "documents"),
        ("jobs", "jobs"),
        ("quotes", "quotes"),
        ("clock_events", "clock events"),
        ("contacts", "contacts"),
    ];
    for (table, words) in tables {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE agency_id = $1 AND client_id = $2"
        )))
        .bind(agency_id)
        .bind(id)
        .fetch_one(db)
        .await?;
        if count > 0 {
            kept.push(format!("{count} {words}"));
        }
    }
    Ok(kept)
}

/// Deletes a client without data, and its worksites. Run inside a transaction.
pub async fn delete(conn: &mut sqlx::AnyConnection, agency_id: i64, id: i64) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM worksites WHERE agency_id = $1 AND client_id = $2")
        .bind(agency_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM clients WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn worksites<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
) -> sqlx::Result<Vec<Worksite>> {
    sqlx::query_as(
        "SELECT id, client_id, name, address FROM worksites WHERE agency_id = $1 AND client_id = $2 \
         ORDER BY lower(name), id",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db)
    .await
}

/// The worksites of several clients in one query: by client, then by name.
pub async fn worksites_of_clients<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_ids: &[i64],
) -> sqlx::Result<Vec<Worksite>> {
    let sql = format!(
        "SELECT id, client_id, name, address FROM worksites WHERE agency_id = $1 \
         AND client_id IN ({}) ORDER BY client_id, lower(name), id",
        super::scope::client_list(client_ids)
    );
    super::scope::all(db, sql, agency_id).await
}

/// Removes a worksite nothing refers to; false when it is in use or not this client's.
pub async fn delete_worksite<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM worksites WHERE agency_id = $1 AND client_id = $2 AND id = $3 \
         AND NOT EXISTS (SELECT 1 FROM timesheets t WHERE t.worksite_id = worksites.id) \
         AND NOT EXISTS (SELECT 1 FROM clock_events e WHERE e.worksite_id = worksites.id) \
         AND NOT EXISTS (SELECT 1 FROM portal_user_clients l WHERE l.worksite_id = worksites.id) \
         AND NOT EXISTS (SELECT 1 FROM work_requests r WHERE r.worksite_id = worksites.id) \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.worksite_id = worksites.id) \
         AND NOT EXISTS (SELECT 1 FROM contacts k WHERE k.worksite_id = worksites.id)",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The client a worksite of the agency belongs to.
pub async fn worksite_owner<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT client_id FROM worksites WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn worksite<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
) -> sqlx::Result<Option<Worksite>> {
    sqlx::query_as(
        "SELECT id, client_id, name, address FROM worksites \
         WHERE agency_id = $1 AND client_id = $2 AND id = $3",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Renames or moves a worksite; false when the client has no such worksite.
pub async fn update_worksite<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
    name: &str,
    address: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE worksites SET name = $1, address = $2 \
         WHERE agency_id = $3 AND client_id = $4 AND id = $5",
    )
    .bind(name.trim())
    .bind(address.trim())
    .bind(agency_id)
    .bind(client_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A portal login as the client's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PortalLogin {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub status: String,
}

/// The portal users who see this client: linked to it, or multi-client users with "all
/// clients".
pub async fn portal_logins<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
) -> sqlx::Result<Vec<PortalLogin>> {
    sqlx::query_as(
        "SELECT u.id, u.first_name || ' ' || u.last_name AS name, u.email, u.status \
         FROM portal_users u WHERE u.agency_id = $1 AND (u.all_clients = 1 OR EXISTS ( \
           SELECT 1 FROM portal_user_clients l WHERE l.agency_id = u.agency_id \
           AND l.portal_user_id = u.id AND l.client_id = $2)) \
         ORDER BY lower(u.last_name), lower(u.first_name), u.id",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db)
    .await
}

pub async fn create_worksite<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    name: &str,
    address: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO worksites (agency_id, client_id, name, address, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(name.trim())
    .bind(address.trim())
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

/// The ids of the clients a portal user may see: every active client of the agency for a
/// multi-client user with "all clients", otherwise the linked ones.
pub async fn visible_to<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    portal_user_id: i64,
) -> sqlx::Result<Vec<i64>> {
    Ok(of_portal_user(db, agency_id, portal_user_id)
        .await?
        .into_iter()
        .filter(|(_, open)| *open)
        .map(|(id, _)| id)
        .collect())
}

/// The clients a portal user belongs to (linked, or every client for an all-clients user),
/// archived ones left out, each with whether its portal is on. A user whose clients all have
/// their portal off cannot sign in and is sent no portal email.
pub async fn of_portal_user<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    portal_user_id: i64,
) -> sqlx::Result<Vec<(i64, bool)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        // Two branches, so that a user of a few clients reads only their links (by the
        // links' primary key) and not every client of the agency.
        "SELECT c.id, c.portal_enabled FROM portal_user_clients l \
           JOIN clients c ON c.id = l.client_id \
         WHERE l.portal_user_id = $2 AND l.agency_id = $1 AND c.agency_id = $1 \
           AND c.archived_at IS NULL \
         UNION \
         SELECT c.id, c.portal_enabled FROM portal_users u \
           JOIN clients c ON c.agency_id = u.agency_id \
         WHERE u.id = $2 AND u.agency_id = $1 AND u.all_clients = 1 AND c.archived_at IS NULL \
         ORDER BY 1",
    )
    .bind(agency_id)
    .bind(portal_user_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id, open)| (id, open != 0)).collect())
}

/// Whether every client a portal user belongs to has its portal off (false for a user who
/// belongs to none: nothing of theirs is closed).
pub fn all_closed(clients: &[(i64, bool)]) -> bool {
    !clients.is_empty() && clients.iter().all(|(_, open)| !open)
}
