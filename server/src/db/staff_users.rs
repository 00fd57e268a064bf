//! Agency staff: admins manage portal users and settings, staff see the agency's data.

use sqlx::AnyExecutor;

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Admin,
    Staff,
}

impl StaffRole {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Self::Admin),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StaffUser {
    pub id: i64,
    pub agency_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    #[sqlx(try_from = "super::Flag")]
    pub must_change_password: bool,
    pub last_login_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug)]
pub struct NewStaffUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: StaffRole,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

/// Creates an active staff user. A taken email is a unique violation
/// (see [`super::is_unique_violation`]).
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    new: &NewStaffUser<'_>,
) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    sqlx::query_scalar(
        "INSERT INTO staff_users (agency_id, email, name, role, status, password_hash, \
         must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $7) RETURNING id",
    )
    .bind(agency_id)
    .bind(crate::email::normalize(new.email))
    .bind(new.name.trim())
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(super::Flag(new.must_change_password))
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn list<'e>(db: impl AnyExecutor<'e>, agency_id: i64) -> sqlx::Result<Vec<StaffUser>> {
    sqlx::query_as(
        "SELECT id, agency_id, email, name, role, status, must_change_password, last_login_at, \
         created_at FROM staff_users WHERE agency_id = $1 ORDER BY lower(name), id",
    )
    .bind(agency_id)
    .fetch_all(db)
    .await
}

/// Creates a staff account waiting for its invitation to be accepted (no password yet).
pub async fn create_invited<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    email: &str,
    name: &str,
    role: StaffRole,
) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    sqlx::query_scalar(
        "INSERT INTO staff_users (agency_id, email, name, role, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'invited', $5, $5) RETURNING id",
    )
    .bind(agency_id)
    .bind(crate::email::normalize(email))
    .bind(name.trim())
    .bind(role.as_str())
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<StaffUser>> {
    sqlx::query_as(
        "SELECT id, agency_id, email, name, role, status, must_change_password, last_login_at, \
         created_at FROM staff_users WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn set_role<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
    role: StaffRole,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE staff_users SET role = $1, updated_at = $2 WHERE agency_id = $3 AND id = $4",
    )
    .bind(role.as_str())
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Active admins other than `except`: an agency must always keep one.
pub async fn other_active_admins<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    except: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM staff_users WHERE agency_id = $1 AND role = 'admin' \
         AND status = 'active' AND id <> $2",
    )
    .bind(agency_id)
    .bind(except)
    .fetch_one(db)
    .await
}

/// Whether the team member has ever set a password (an invitation not yet accepted has none).
pub async fn has_password<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM staff_users WHERE agency_id = $1 AND id = $2 \
         AND password_hash IS NOT NULL",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(count > 0)
}
