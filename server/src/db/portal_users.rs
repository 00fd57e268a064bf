//! Client contacts who sign in to the agency's portal.

use sqlx::{AnyConnection, AnyExecutor};

use super::{Flag, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalUserStatus {
    /// Invited, no password set yet.
    Invited,
    Active,
    Deactivated,
}

impl PortalUserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }
}

#[derive(Debug)]
pub struct NewPortalUser<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role_id: &'a str,
    pub all_clients: bool,
    pub restricted_access: bool,
    pub status: PortalUserStatus,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
    /// Clients the user may see, each optionally narrowed to one worksite.
    pub clients: &'a [(i64, Option<i64>)],
}

/// Creates a portal user and their client links; run it inside a transaction.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create(
    conn: &mut AnyConnection,
    agency_id: i64,
    new: &NewPortalUser<'_>,
) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, all_clients, \
         restricted_access, status, password_hash, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(agency_id)
    .bind(super::staff_users::normalize_email(new.email))
    .bind(new.first_name.trim())
    .bind(new.last_name.trim())
    .bind(new.role_id)
    .bind(Flag(new.all_clients))
    .bind(Flag(new.restricted_access))
    .bind(new.status.as_str())
    .bind(new.password_hash)
    .bind(Flag(new.must_change_password))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (client_id, worksite_id) in new.clients {
        sqlx::query(
            "INSERT INTO portal_user_clients (agency_id, portal_user_id, client_id, worksite_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(agency_id)
        .bind(id)
        .bind(client_id)
        .bind(worksite_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

pub async fn count<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM portal_users WHERE agency_id = $1")
        .bind(agency_id)
        .fetch_one(db)
        .await
}
