//! Sign-in, sign-out, the current user and the interface language.

use crate::error::AppError;
use crate::roles::CurrentUser;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "auth/me", input = Json)]
pub async fn signed_in_user() -> Result<Option<CurrentUser>, AppError> {
    crate::ssr::current_user().await
}

/// Who this page is for. On the server (a rendered page), the session's
/// user. In the browser (the app opened from the cached shell), the user
/// last signed in on this device at once, so the app opens from the local
/// store without waiting on a weak signal; the server's answer follows in
/// the background (`confirm_remembered`). With nobody remembered, the
/// server's answer, or with no network, nobody known.
pub async fn who_is_signed_in() -> Result<Option<CurrentUser>, AppError> {
    #[cfg(feature = "hydrate")]
    if let Some(user) = crate::client::remembered_user() {
        leptos::task::spawn_local(confirm_remembered(user.clone()));
        return Ok(Some(user));
    }
    match signed_in_user().await {
        Err(AppError::Network) => crate::client::remembered_user()
            .map(Some)
            .ok_or(AppError::Network),
        answer => answer,
    }
}

/// The server's word on a user the app opened as from memory: signed out
/// meanwhile (the session ended, the account was closed) goes to the
/// sign-in page and forgets them; another user signed in on this browser
/// (a plain post of the sign-in form) opens the app again as them. No
/// network leaves things as they are.
#[cfg(feature = "hydrate")]
async fn confirm_remembered(remembered: CurrentUser) {
    match signed_in_user().await {
        Ok(Some(user)) if user == remembered => {}
        Ok(Some(user)) => {
            crate::client::remember_user(&Ok(Some(user)));
            crate::ui::go_to("/");
        }
        Ok(None) | Err(AppError::Unauthenticated) => {
            crate::client::forget_user();
            crate::ui::go_to("/login");
        }
        Err(_) => {}
    }
}

#[server(endpoint = "auth/login", input = Json)]
pub async fn login(username: String, password: String) -> Result<CurrentUser, AppError> {
    let parts = expect_context::<http::request::Parts>();
    let state = crate::ssr::state()?;
    let (user, cookie) = sign_in(&state, &parts, &username, password).await?;
    expect_context::<leptos_axum::ResponseOptions>().append_header(http::header::SET_COOKIE, cookie);
    Ok(user)
}

/// Signs a user in: the throttle (by address and by account), the
/// password, a new session. The answer is the user and the session's
/// cookie to set. Shared by `auth/login` and the sign-in form's plain post
/// (`POST /login`, before the page's script has run).
#[cfg(feature = "ssr")]
pub async fn sign_in(
    state: &crate::ssr::AppState,
    request: &http::request::Parts,
    username: &str,
    password: String,
) -> Result<(CurrentUser, http::HeaderValue), AppError> {
    use crate::ssr::{password as pw, session};
    let db = &state.db;
    let username = username.trim();
    if username.is_empty() || username.len() > 100 || password.len() > 1000 {
        return Err(AppError::BadCredentials);
    }
    let address = crate::ssr::client_address(request, &state.settings);
    let now = chrono::Utc::now();
    match session::throttle(db, username, &address, now).await? {
        session::Throttle::Refuse(retry_after_secs) => {
            tracing::warn!(%username, %address, retry_after_secs, "sign-in throttled");
            return Err(AppError::RateLimited { retry_after_secs });
        }
        session::Throttle::Slow(pause) if !pause.is_zero() => tokio::time::sleep(pause).await,
        session::Throttle::Slow(_) => {}
    }
    let found = session::user_by_username(db, username).await?;
    let stored_hash = found
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| pw::decoy_hash().to_owned());
    let verified = pw::verify_async(password, stored_hash).await;
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            session::record_failure(db, username, &address, now).await?;
            tracing::info!(%username, %address, "sign-in failed");
            return Err(AppError::BadCredentials);
        }
    };
    session::clear_failures(db, username, &address).await?;
    let token = session::create(db, user.id, now).await?;
    let cookie = http::HeaderValue::from_str(&session::cookie(Some(&token), state.settings.secure_cookies))
        .map_err(|_| AppError::Internal)?;
    tracing::info!(%username, "signed in");
    Ok((user, cookie))
}

#[server(endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{self, session};
    let state = ssr::state()?;
    let parts = expect_context::<http::request::Parts>();
    if let Some(token) = session::token_from_headers(&parts.headers) {
        session::delete(&state.db, &token).await?;
    }
    expect_context::<leptos_axum::ResponseOptions>().append_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&session::cookie(None, state.settings.secure_cookies))
            .map_err(|_| AppError::Internal)?,
    );
    Ok(())
}

/// The active colleagues of one role (a dispatcher's technicians), by name,
/// for choosing whom a command names. The rule that takes the choice is
/// decided again on the server against the users as they are then.
#[server(endpoint = "people", input = Json)]
pub async fn people(role: crate::roles::Role) -> Result<Vec<crate::sync::entity::Person>, AppError> {
    use crate::ssr::{self, session::parse_uuid};
    ssr::require_user().await?;
    let state = ssr::state()?;
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, display_name, team_id FROM users WHERE role = $1 AND active = 1 ORDER BY display_name",
    )
    .bind(role.as_str())
    .fetch_all(&state.db.pool)
    .await
    .map_err(ssr::DbError::from)?;
    rows.into_iter()
        .map(|(id, display_name, team)| {
            Ok(crate::sync::entity::Person {
                id: parse_uuid(&id)?,
                display_name,
                role,
                team_id: team.as_deref().map(parse_uuid).transpose()?,
                active: true,
            })
        })
        .collect::<Result<_, ssr::DbError>>()
        .map_err(AppError::from)
}
