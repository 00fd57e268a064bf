//! Sign-in throttling: failures are counted per account and per client address; from a few
//! failures each attempt is slowed, from many the account or address is locked for a while.
//! Counters live in the database, so every server process sees the same ones.

use std::time::Duration;

use sqlx::AnyPool;

use crate::config::SecurityConfig;
use crate::db::Timestamp;
use crate::db::accounts::AccountKind;
use crate::db::{login_throttle, rate_limits};

/// The counters one sign-in attempt touches.
#[derive(Debug, Clone)]
pub struct Keys {
    pub account: String,
    pub address: String,
}

impl Keys {
    pub fn new(agency_id: i64, kind: AccountKind, email: &str, ip: &str) -> Self {
        let email = crate::email::normalize(email);
        Self {
            account: format!("account:{agency_id}:{}:{email}", kind.as_str()),
            address: format!("address:{ip}"),
        }
    }

    fn all(&self) -> [&str; 2] {
        [&self.account, &self.address]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after waiting this long.
    Allowed(Duration),
    Locked,
}

/// Whether an attempt may proceed, and how long it must wait first.
pub async fn check(pool: &AnyPool, keys: &Keys, config: &SecurityConfig) -> sqlx::Result<Verdict> {
    let now = Timestamp::now();
    let mut worst = 0;
    for key in keys.all() {
        if let Some(row) = login_throttle::get(pool, key).await? {
            if row.locked_until.is_some_and(|until| until > now) {
                return Ok(Verdict::Locked);
            }
            if row.window_start.0 >= now.0 - config.throttle_window_minutes * 60 {
                worst = worst.max(row.failures);
            }
        }
    }
    Ok(Verdict::Allowed(delay_for(worst, config)))
}

/// One second more for each failure past the threshold, at most ten.
fn delay_for(failures: i64, config: &SecurityConfig) -> Duration {
    let over = failures - config.throttle_delay_after + 1;
    Duration::from_secs(over.clamp(0, 10).unsigned_abs())
}

/// Counts a failure on both counters. Returns whether the account counter just reached the
/// lock threshold (so the owner can be told).
pub async fn failure(pool: &AnyPool, keys: &Keys, config: &SecurityConfig) -> sqlx::Result<bool> {
    let now = Timestamp::now();
    let window = config.throttle_window_minutes * 60;
    let until = now.plus_seconds(config.throttle_lock_minutes * 60);
    let mut account_locked = false;
    for key in keys.all() {
        let failures = rate_limits::count(pool, key, now, window).await?;
        if failures >= config.throttle_lock_after {
            login_throttle::lock(pool, key, until).await?;
            if key == keys.account && failures == config.throttle_lock_after {
                account_locked = true;
            }
        }
    }
    Ok(account_locked)
}

/// A successful sign-in clears the account's counter (the address keeps its own).
pub async fn success(pool: &AnyPool, keys: &Keys) -> sqlx::Result<()> {
    login_throttle::clear(pool, &keys.account).await
}

/// What checking a signed-in person's password again came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reauthentication {
    Confirmed,
    /// Wrong; counted like a failed sign-in.
    Wrong,
    /// Too many failures: the account or address is locked, and the session has ended.
    Locked,
}

/// Checks the password a signed-in person typed to confirm a sensitive change (a new
/// password, turning two-factor sign-in off). It counts as a sign-in attempt: failures go on
/// the account's and the address's counters, later attempts are slowed the same way, and once
/// the account or address is locked every session of the account ends, this one included.
pub async fn reauthenticate(
    state: &crate::state::AppState,
    signed_in: &super::SignedIn,
    ip: &str,
    typed: &str,
) -> crate::error::AppResult<Reauthentication> {
    let pool = &state.db().pool;
    let security = &state.settings().security;
    let account = &signed_in.account;
    let keys = Keys::new(signed_in.agency.id, signed_in.kind, &account.email, ip);
    let verdict = check(pool, &keys, security).await?;
    if let Verdict::Allowed(wait) = verdict {
        tokio::time::sleep(wait).await;
        let right = match account.password_hash.as_deref() {
            Some(hash) => super::passwords::verify(typed, hash).await?,
            None => false,
        };
        if right {
            success(pool, &keys).await?;
            return Ok(Reauthentication::Confirmed);
        }
        failure(pool, &keys, security).await?;
        if check(pool, &keys, security).await? != Verdict::Locked {
            return Ok(Reauthentication::Wrong);
        }
    }
    crate::db::sessions::delete_all_for_account(
        pool,
        signed_in.agency.id,
        signed_in.kind,
        account.id,
        None,
    )
    .await?;
    Ok(Reauthentication::Locked)
}

/// Counts one email (reset or invitation) for an address; false once the hourly limit is hit.
pub async fn allow_email(
    pool: &AnyPool,
    agency_id: i64,
    email: &str,
    config: &SecurityConfig,
) -> sqlx::Result<bool> {
    let key = format!("emails:{agency_id}:{}", crate::email::normalize(email));
    let sent = rate_limits::count(pool, &key, Timestamp::now(), 3600).await?;
    Ok(sent <= config.emails_per_address_per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_the_threshold_and_are_capped() {
        let config = SecurityConfig::default();
        assert_eq!(delay_for(4, &config), Duration::ZERO);
        assert_eq!(delay_for(5, &config), Duration::from_secs(1));
        assert_eq!(delay_for(7, &config), Duration::from_secs(3));
        assert_eq!(delay_for(100, &config), Duration::from_secs(10));
    }
}
