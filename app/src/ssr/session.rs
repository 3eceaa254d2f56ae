//! Sessions in the database (so any server can serve any request) and the
//! sign-in rate limit.
//!
//! The cookie holds a random token; the table holds only its SHA-256, so a
//! leaked database copy cannot be replayed as sessions.

use super::db::{Db, DbError};
use super::{from_millis, to_millis};
use crate::roles::{CurrentUser, Role};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "fb_session";
pub const SESSION_DAYS: i64 = 30;

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_from_headers(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that stores `token` (or clears it when `None`).
pub fn cookie(token: Option<&str>, secure: bool) -> String {
    let mut cookie = cookie::Cookie::build((SESSION_COOKIE, token.unwrap_or("").to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .build();
    match token {
        Some(_) => cookie.set_max_age(cookie::time::Duration::days(SESSION_DAYS)),
        None => cookie.make_removal(),
    }
    cookie.to_string()
}

pub async fn create(db: &Db, user_id: Uuid, now: DateTime<Utc>) -> Result<String, DbError> {
    let token = new_token();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(user_id.to_string())
        .bind(to_millis(now))
        .bind(to_millis(now + Duration::days(SESSION_DAYS)))
        .execute(&db.pool)
        .await?;
    Ok(token)
}

pub async fn delete(db: &Db, token: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    role: String,
    team_id: Option<String>,
    time_zone: String,
}

impl UserRow {
    fn into_user(self) -> Result<CurrentUser, DbError> {
        Ok(CurrentUser {
            id: parse_uuid(&self.id)?,
            username: self.username,
            display_name: self.display_name,
            role: Role::parse(&self.role).ok_or_else(|| DbError::Corrupt(format!("role {}", self.role)))?,
            team_id: self.team_id.as_deref().map(parse_uuid).transpose()?,
            time_zone: self.time_zone,
        })
    }
}

pub fn parse_uuid(text: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(text).map_err(|_| DbError::Corrupt(format!("uuid {text}")))
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team_id, u.time_zone";

pub async fn user_for_token(db: &Db, token: &str) -> Result<Option<CurrentUser>, DbError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
    );
    let row: Option<UserRow> = sqlx::query_as(&sql)
        .bind(token_hash(token))
        .bind(to_millis(Utc::now()))
        .fetch_optional(&db.pool)
        .await?;
    row.map(UserRow::into_user).transpose()
}

/// A user and their password hash, for sign-in.
pub async fn user_by_username(db: &Db, username: &str) -> Result<Option<(CurrentUser, String)>, DbError> {
    let sql =
        format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1 AND u.active = 1");
    let row = sqlx::query(&sql).bind(username).fetch_optional(&db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    use sqlx::{FromRow, Row};
    let hash: String = row.try_get("password_hash")?;
    Ok(Some((UserRow::from_row(&row)?.into_user()?, hash)))
}

/// What a sign-in attempt must do first (OWASP's authentication guidance):
/// wrong passwords slow down whoever sends them, never the account's owner
/// for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Refused for this many seconds: this address failed too often, for
    /// this account or for any.
    Refuse(u64),
    /// Try, after this pause: the account is under attack from elsewhere,
    /// so every attempt on it is slowed a little, and none is refused.
    Slow(std::time::Duration),
}

/// Failures an address may make on one account before it must wait.
pub const FREE_PER_ACCOUNT: i64 = 5;
/// Failures an address may make across all accounts before it must wait.
pub const FREE_PER_ADDRESS: i64 = 20;
/// Failures on an account, from anywhere, before attempts are slowed.
pub const FREE_BEFORE_SLOWING: i64 = 5;
/// The longest pause an attack elsewhere puts on an account's owner.
pub const MAX_SLOWING: std::time::Duration = std::time::Duration::from_secs(3);
pub const ACCOUNT_WINDOW: Duration = Duration::minutes(15);
pub const ADDRESS_WINDOW: Duration = Duration::hours(1);

/// How long someone with `count` failures, the last at `last`, must still
/// wait: nothing for the first `free`, then 5 s, 10 s, 20 s, … after the
/// last failure, at most `cap`. (Attempts refused meanwhile are not
/// failures: they do not lengthen the wait.)
pub fn wait_after(
    count: i64,
    last: Option<DateTime<Utc>>,
    free: i64,
    cap: Duration,
    now: DateTime<Utc>,
) -> Option<u64> {
    if count < free {
        return None;
    }
    let doublings = u32::try_from(count - free).unwrap_or(u32::MAX).min(30);
    let wait = Duration::seconds(5i64 << doublings).min(cap);
    let until = last? + wait;
    (until > now).then(|| ((until - now).num_milliseconds() as u64).div_ceil(1000).max(1))
}

/// Whether and how a sign-in to `username` from `address` may be tried now.
pub async fn throttle(
    db: &Db,
    username: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Throttle, DbError> {
    let count = |sql: &'static str, key: &str, since: DateTime<Utc>| {
        sqlx::query_as::<_, (i64, Option<i64>)>(sql)
            .bind(key.to_owned())
            .bind(to_millis(since))
            .fetch_one(&db.pool)
    };
    let (pair, pair_last): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(at) FROM login_failures WHERE username = $1 AND address = $2 AND at > $3",
    )
    .bind(username)
    .bind(address)
    .bind(to_millis(now - ACCOUNT_WINDOW))
    .fetch_one(&db.pool)
    .await?;
    let (from_address, address_last) = count(
        "SELECT COUNT(*), MAX(at) FROM login_failures WHERE address = $1 AND at > $2",
        address,
        now - ADDRESS_WINDOW,
    )
    .await?;
    let refusals = [
        wait_after(
            pair,
            pair_last.map(from_millis),
            FREE_PER_ACCOUNT,
            ACCOUNT_WINDOW,
            now,
        ),
        wait_after(
            from_address,
            address_last.map(from_millis),
            FREE_PER_ADDRESS,
            ADDRESS_WINDOW,
            now,
        ),
    ];
    if let Some(seconds) = refusals.into_iter().flatten().max() {
        return Ok(Throttle::Refuse(seconds));
    }
    let (on_account, _) = count(
        "SELECT COUNT(*), MAX(at) FROM login_failures WHERE username = $1 AND at > $2",
        username,
        now - ACCOUNT_WINDOW,
    )
    .await?;
    let over = u64::try_from(on_account - FREE_BEFORE_SLOWING + 1).unwrap_or(0);
    Ok(Throttle::Slow(
        std::time::Duration::from_secs(over).min(MAX_SLOWING),
    ))
}

pub async fn record_failure(
    db: &Db,
    username: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(address)
        .bind(to_millis(now))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A correct password from an address forgets that address's failures on
/// the account (its owner mistyped); failures from elsewhere stay counted.
pub async fn clear_failures(db: &Db, username: &str, address: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
        .bind(username)
        .bind(address)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_starts_after_the_free_failures_and_doubles_up_to_its_cap() {
        let last: DateTime<Utc> = "2026-12-03T08:00:00Z".parse().unwrap();
        let wait = |count, now: DateTime<Utc>| wait_after(count, Some(last), 5, ACCOUNT_WINDOW, now);
        assert_eq!(wait(4, last), None);
        assert_eq!(wait(5, last), Some(5));
        assert_eq!(wait(6, last), Some(10));
        assert_eq!(wait(5, last + Duration::milliseconds(4_001)), Some(1));
        assert_eq!(wait(5, last + Duration::seconds(5)), None);
        // Never longer than the cap, however many failures.
        assert_eq!(wait(1_000, last), Some(15 * 60));
        assert_eq!(wait_after(9, None, 5, ACCOUNT_WINDOW, last), None);
    }
}
