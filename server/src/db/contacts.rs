//! Contacts: the people at a client company (seed 003's contact records), each linked to the
//! client, optionally to one of its worksites, and optionally to the portal login they use.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Contact {
    pub id: i64,
    pub client_id: i64,
    pub worksite_id: Option<i64>,
    pub portal_user_id: Option<i64>,
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    /// The worksite's name, when the contact has one.
    pub worksite_name: Option<String>,
    /// The portal login's email, when the contact has one.
    pub portal_user_email: Option<String>,
}

#[derive(Debug, Default)]
pub struct ContactFields<'a> {
    pub worksite_id: Option<i64>,
    pub portal_user_id: Option<i64>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub title: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
}

const SELECT: &str = "SELECT c.id, c.client_id, c.worksite_id, c.portal_user_id, c.first_name, \
     c.last_name, c.title, c.email, c.phone, w.name AS worksite_name, u.email AS portal_user_email \
     FROM contacts c \
     LEFT JOIN worksites w ON w.id = c.worksite_id AND w.agency_id = c.agency_id \
     LEFT JOIN portal_users u ON u.id = c.portal_user_id AND u.agency_id = c.agency_id";

/// A client's contacts, by last name.
pub async fn for_client<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
) -> sqlx::Result<Vec<Contact>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE c.agency_id = $1 AND c.client_id = $2 \
         ORDER BY lower(c.last_name), lower(c.first_name), c.id"
    )))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db)
    .await
}

pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
) -> sqlx::Result<Option<Contact>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE c.agency_id = $1 AND c.client_id = $2 AND c.id = $3"
    )))
    .bind(agency_id)
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    fields: &ContactFields<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO contacts (agency_id, client_id, worksite_id, portal_user_id, first_name, \
         last_name, title, email, phone, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(fields.worksite_id)
    .bind(fields.portal_user_id)
    .bind(fields.first_name.trim())
    .bind(fields.last_name.trim())
    .bind(fields.title.trim())
    .bind(crate::email::normalize(fields.email))
    .bind(fields.phone.trim())
    .bind(Timestamp::now())
    .fetch_one(db)
    .await
}

/// Changes a contact; false when the client has no such contact.
pub async fn update<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
    fields: &ContactFields<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE contacts SET worksite_id = $1, portal_user_id = $2, first_name = $3, \
         last_name = $4, title = $5, email = $6, phone = $7, updated_at = $8 \
         WHERE agency_id = $9 AND client_id = $10 AND id = $11",
    )
    .bind(fields.worksite_id)
    .bind(fields.portal_user_id)
    .bind(fields.first_name.trim())
    .bind(fields.last_name.trim())
    .bind(fields.title.trim())
    .bind(crate::email::normalize(fields.email))
    .bind(fields.phone.trim())
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(client_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    client_id: i64,
    id: i64,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM contacts WHERE agency_id = $1 AND client_id = $2 AND id = $3")
            .bind(agency_id)
            .bind(client_id)
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
