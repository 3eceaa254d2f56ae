//! Server-only parts of `app`: the database, the request context, sessions,
//! the audit trail. Compiled only with the `ssr` feature.

pub mod audit;
pub mod db;
pub mod password;
pub mod session;

pub use db::{Db, DbError, Dialect};

use crate::error::AppError;
use crate::roles::CurrentUser;
use std::sync::Arc;

/// Settings the server functions need from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Zone for users who have not chosen one.
    pub default_time_zone: chrono_tz::Tz,
    /// Send cookies with `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// The one origin this server answers to (`http://127.0.0.1:3000`),
    /// lower case, no trailing slash: the `Host` of every request and the
    /// `Origin` of every state-changing one must be its own.
    pub public_origin: String,
    /// Behind a reverse proxy, a client's address is the last one of
    /// `X-Forwarded-For` (the one the proxy added); otherwise the peer's.
    pub behind_proxy: bool,
}

impl Settings {
    /// The host (and port) part of `public_origin`.
    pub fn public_host(&self) -> &str {
        self.public_origin
            .split_once("://")
            .map_or(self.public_origin.as_str(), |(_, host)| host)
    }
}

/// The address a request came from, as the sign-in throttle counts it: the
/// peer's (the server is served with its connect info), or behind a proxy
/// the address the proxy says it received the request from.
pub fn client_address(parts: &http::request::Parts, settings: &Settings) -> String {
    if settings.behind_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .rfind(|address| !address.is_empty());
        if let Some(address) = forwarded {
            return address.to_owned();
        }
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_default()
}

/// Everything a request handler needs, shared by all requests. It holds no
/// per-user state: several servers may serve one database.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub leptos_options: leptos::config::LeptosOptions,
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state provided to every server function and page render.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the request context");
        AppError::Internal
    })
}

/// The signed-in user of this request, or `Unauthenticated`.
pub async fn require_user() -> Result<CurrentUser, AppError> {
    current_user().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in user of this request, if any.
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    if let Some(SessionUser(user)) = leptos::prelude::use_context::<SessionUser>() {
        return Ok(user);
    }
    let state = state()?;
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return Ok(None);
    };
    session_user(&state, &parts.headers).await
}

/// The user of a page being rendered, read by the page handler before the
/// render starts. The render then waits on nothing of its own: its user
/// resource is ready at its first poll, so no part of the page hangs on an
/// async wake-up inside the renderer (`server/src/pages.rs`).
#[derive(Clone, Debug)]
pub struct SessionUser(pub Option<CurrentUser>);

/// The user whose session cookie these headers carry, if it is live.
pub async fn session_user(
    state: &AppState,
    headers: &http::HeaderMap,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(token) = session::token_from_headers(headers) else {
        return Ok(None);
    };
    Ok(session::user_for_token(&state.db, &token).await?)
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        tracing::error!(%error, "database failure");
        AppError::Internal
    }
}

/// Milliseconds since the Unix epoch, the stored form of every instant (UTC).
pub fn to_millis(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
