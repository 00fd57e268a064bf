//! What sign-in needs of both kinds of account (agency staff and portal users), so one
//! mechanism serves both.

use sqlx::AnyExecutor;

use super::{Flag, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Staff,
    Portal,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Portal => "portal",
        }
    }

    /// The URL segment of the area this kind of account signs in to.
    pub fn area(self) -> &'static str {
        match self {
            Self::Staff => "manage",
            Self::Portal => "portal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "staff" => Some(Self::Staff),
            "portal" => Some(Self::Portal),
            _ => None,
        }
    }

    fn select(self) -> &'static str {
        match self {
            Self::Staff => {
                "SELECT id, agency_id, email, name, status, password_hash, must_change_password, \
                 role AS role_id, mfa_secret, mfa_pending_secret, mfa_last_step FROM staff_users"
            }
            Self::Portal => {
                "SELECT id, agency_id, email, first_name || ' ' || last_name AS name, status, \
                 password_hash, must_change_password, role_id, mfa_secret, mfa_pending_secret, \
                 mfa_last_step FROM portal_users"
            }
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Staff => "staff_users",
            Self::Portal => "portal_users",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub agency_id: i64,
    pub email: String,
    pub name: String,
    pub status: String,
    pub password_hash: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub must_change_password: bool,
    /// `admin`/`staff` for staff; the role-set role id for portal users.
    pub role_id: String,
    /// Set once two-factor sign-in is enrolled.
    pub mfa_secret: Option<String>,
    pub mfa_pending_secret: Option<String>,
    pub mfa_last_step: Option<i64>,
}

impl Account {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    pub fn has_mfa(&self) -> bool {
        self.mfa_secret.is_some()
    }
}

pub async fn by_email<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    email: &str,
) -> sqlx::Result<Option<Account>> {
    let sql = format!("{} WHERE agency_id = $1 AND email = $2", kind.select());
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(crate::email::normalize(email))
        .fetch_optional(db)
        .await
}

pub async fn by_id<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<Account>> {
    let sql = format!("{} WHERE agency_id = $1 AND id = $2", kind.select());
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Stores a new password hash. `must_change` is set when an admin chose the password.
/// Setting a password also activates an invited account.
pub async fn set_password<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    hash: &str,
    must_change: bool,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET password_hash = $1, must_change_password = $2, updated_at = $3, \
         status = CASE WHEN status = 'invited' THEN 'active' ELSE status END \
         WHERE agency_id = $4 AND id = $5",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .bind(Flag(must_change))
        .bind(Timestamp::now())
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Replaces the hash without other changes: the stored parameters were outdated.
pub async fn rehash<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    hash: &str,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET password_hash = $1 WHERE agency_id = $2 AND id = $3",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn record_sign_in<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "UPDATE {} SET last_login_at = $1 WHERE agency_id = $2 AND id = $3",
        kind.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(Timestamp::now())
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Changes an account's status (`active`, `deactivated`); callers end its sessions too.
pub async fn set_status<'e>(
    db: impl AnyExecutor<'e>,
    kind: AccountKind,
    agency_id: i64,
    id: i64,
    status: &str,
) -> sqlx::Result<bool> {
    let sql = format!(
        "UPDATE {} SET status = $1, updated_at = $2 WHERE agency_id = $3 AND id = $4",
        kind.table()
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(Timestamp::now())
        .bind(agency_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What a change of a person's password or status does besides itself: their sessions end
/// (all but `keep`, the one making the change) and every link sent to them (invitation,
/// password reset) stops working.
pub async fn revoke_access(
    conn: &mut sqlx::AnyConnection,
    agency_id: i64,
    kind: AccountKind,
    user_id: i64,
    keep: Option<i64>,
) -> sqlx::Result<()> {
    super::sessions::delete_all_for_account(&mut *conn, agency_id, kind, user_id, keep).await?;
    super::tokens::revoke_all(&mut *conn, agency_id, kind, user_id).await?;
    Ok(())
}
