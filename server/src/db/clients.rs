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
    .bind(super::staff_users::normalize_email(new.email))
    .bind(new.phone.trim())
    .bind(new.address.trim())
    .bind(new.notes)
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

pub async fn list<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(
        "SELECT id, name, email, phone, address, portal_enabled, notes FROM clients \
         WHERE agency_id = $1 AND archived_at IS NULL ORDER BY lower(name), id",
    )
    .bind(agency_id)
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
    sqlx::query_scalar(
        "SELECT c.id FROM clients c JOIN portal_users u ON u.agency_id = c.agency_id \
         WHERE c.agency_id = $1 AND u.id = $2 AND c.archived_at IS NULL AND ( \
           u.all_clients = 1 OR EXISTS (SELECT 1 FROM portal_user_clients l \
             WHERE l.agency_id = c.agency_id AND l.portal_user_id = u.id AND l.client_id = c.id)) \
         ORDER BY c.id",
    )
    .bind(agency_id)
    .bind(portal_user_id)
    .fetch_all(db)
    .await
}
