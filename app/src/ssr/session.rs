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
/// Failed sign-ins allowed per username within `FAILURE_WINDOW`.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

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

/// Seconds until `username` may try again, or `None` if it may now.
pub async fn locked_for(db: &Db, username: &str, now: DateTime<Utc>) -> Result<Option<u64>, DbError> {
    let since = to_millis(now - FAILURE_WINDOW);
    let (count, oldest): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(at) FROM login_failures WHERE username = $1 AND at > $2")
            .bind(username)
            .bind(since)
            .fetch_one(&db.pool)
            .await?;
    if count < MAX_FAILURES {
        return Ok(None);
    }
    let unlock = from_millis(oldest.unwrap_or(since)) + FAILURE_WINDOW;
    Ok(Some((unlock - now).num_seconds().max(1) as u64))
}

pub async fn record_failure(db: &Db, username: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username)
        .bind(to_millis(now))
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn clear_failures(db: &Db, username: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username)
        .execute(&db.pool)
        .await?;
    Ok(())
}
