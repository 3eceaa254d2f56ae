//! The HTTP surface: routes, middleware, health, shutdown.

use app::error::AppError;
use app::ssr::{AppState, Settings};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderName, Method, StatusCode};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The app's pages, listed once per process. Listing them runs the app
/// with resources held back by a flag that is global to the process
/// (leptos_server's `SuppressResourceLoad`), and a resource that a page
/// render first polls while the flag is up never resolves: that render
/// hangs (leptos issue 4773). A second server started in the same process
/// (the tests start many) used to list them again while others rendered.
/// Listed once, before any router of the process exists, no render can
/// meet the flag.
static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> =
    std::sync::LazyLock::new(|| generate_route_list(app::App));

/// The whole application as one router.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let routes = ROUTES.clone();
    assert!(
        routes
            .iter()
            .all(|route| matches!(route.mode(), leptos_router::SsrMode::OutOfOrder)),
        "every page renders out of order (`page` renders no other mode)"
    );
    // `leptos_routes_with_context` also mounts every server function at its
    // `/api/…` path, with the same context as the pages.
    let site = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/photos/{id}", get(photo))
        .route("/login", axum::routing::post(login_form))
        .route("/survey/{token}", axum::routing::post(survey_form))
        .nest_service("/pkg", built_files(site.join("pkg"), state.leptos_options.hash_files))
        .route_service("/sw.js", revalidated(site.join("sw.js")))
        .route_service("/shell.html", revalidated(site.join("shell.html")))
        // Server functions only (no page routes given): each at its `/api/…`
        // path on the shared runtime, with the same context as the pages.
        .leptos_routes_with_context(&state, Vec::new(), page_context(&state), {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        // Pages, and the not-found page, each rendered on one thread.
        .leptos_routes_with_handler(routes, page)
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(middleware::map_response(close_after_unread_body))
        .layer(middleware::from_fn_with_state(state.clone(), refuse_foreign_requests))
        .layer(always(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(always(header::REFERRER_POLICY, "same-origin"))
        .layer(always(header::X_FRAME_OPTIONS, "DENY"))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(drop_malformed_request_id))
        .with_state(state)
}

/// What every page render and server function finds in its context.
fn page_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    move || {
        provide_context(state.clone());
        provide_context(app::aggregates::ENTITIES);
    }
}

/// What a page render finds in its context: `page_context`, and what the
/// page shows that the render would otherwise wait on, read here before the
/// render starts so the render waits on nothing of its own: the page's user
/// (`SessionUser`), and on a survey's page its survey (`SurveyOfPage`). A
/// failed read of the user leaves the render to ask, and answer with the
/// error.
async fn rendering_context(
    state: &AppState,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> impl Fn() + Clone + Send + Sync + 'static {
    use app::tickets::survey::store::SurveyOfPage;
    let user = app::ssr::session_user(state, headers).await.ok();
    let survey = SurveyOfPage::read(&state.db, uri.path()).await;
    let context = page_context(state);
    move || {
        context();
        if let Some(user) = user.clone() {
            provide_context(app::ssr::SessionUser(user));
        }
        if let Some(survey) = survey.clone() {
            provide_context(survey);
        }
    }
}

/// A page of the app (`pages::on_one_thread` says why one thread).
async fn page(State(state): State<AppState>, request: Request) -> Response {
    let context = rendering_context(&state, request.uri(), request.headers()).await;
    crate::pages::on_one_thread(move || {
        // Every page is a `GET` streamed out of order (no route sets
        // another method or mode).
        let options = state.leptos_options.clone();
        let render =
            leptos_axum::render_app_to_stream_with_context(context, move || app::shell(options.clone()));
        render(request)
    })
    .await
}

/// A file of the site if there is one, else the app's not-found page.
async fn not_found(uri: http::Uri, State(state): State<AppState>, request: Request) -> Response {
    let context = rendering_context(&state, request.uri(), request.headers()).await;
    crate::pages::on_one_thread(move || {
        let answer = leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell);
        answer(uri, State(state), request)
    })
    .await
}

/// A header every answer carries unless its handler set its own. The
/// policy (`CONTENT_SECURITY_POLICY`) allows what the app itself does: its
/// own scripts, styles, wasm (`'wasm-unsafe-eval'`), service worker and
/// requests; Leptos's hydration scripts are inline, hence `'unsafe-inline'`
/// for scripts. No page may be framed by another site.
fn always(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<http::HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, http::HeaderValue::from_static(value))
}

pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// A client's `x-request-id` is kept (and echoed) only if it is a UUID;
/// anything else is dropped and the server makes one, so nothing a client
/// writes lands verbatim in the logs or the answer.
async fn drop_malformed_request_id(mut request: Request, next: Next) -> Response {
    let well_formed = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|id| id.len() == 36 && uuid::Uuid::parse_str(id).is_ok());
    if !well_formed {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// The sign-in form's plain post, sent when it is submitted before the
/// page's script has run: the same sign-in as `auth/login`, answered with
/// a redirect (home, or back to the form with the error's code; never a
/// credential in a URL).
async fn login_form(
    State(state): State<AppState>,
    parts: http::request::Parts,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let answer = match form {
        Ok(axum::Form(form)) => app::auth::sign_in(&state, &parts, &form.username, form.password).await,
        Err(_) => Err(AppError::BadRequest {
            detail: "a sign-in form has a username and a password".into(),
        }),
    };
    match answer {
        Ok((_, cookie)) => {
            ([(header::SET_COOKIE, cookie)], axum::response::Redirect::to("/")).into_response()
        }
        // Back to the form, the error's code and numbers in the query
        // (`?error=rate_limited&retry_after_secs=4`), which the page shows
        // in the user's language.
        Err(error) => {
            let query = match serde_json::to_value(&error) {
                Ok(serde_json::Value::Object(fields)) => fields
                    .iter()
                    .filter_map(|(key, value)| match value {
                        serde_json::Value::String(text) => Some(format!("{key}={text}")),
                        serde_json::Value::Number(number) => Some(format!("{key}={number}")),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("&"),
                _ => "error=internal".into(),
            };
            axum::response::Redirect::to(&format!("/login?{query}")).into_response()
        }
    }
}

/// The survey page's form post (`app::tickets::survey::SurveyPage`): the
/// customer's answer, as `survey/answer` takes it, answered with a redirect
/// back to the page, which then thanks them or says why not.
async fn survey_form(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    use app::tickets::survey::{self, ANSWERED_QUERY, ERROR_QUERY};
    // Only a token's shape goes back into the redirect's address.
    if !survey::is_token(&token) {
        return (StatusCode::NOT_FOUND, axum::Json(AppError::NotFound)).into_response();
    }
    let answer = match form {
        Ok(axum::Form(pairs)) => {
            // The form's fields alone, each once: the command checks them.
            let mut answers = app::sync::Fields::new();
            for (name, value) in pairs {
                if survey::ANSWERS.iter().any(|field| field.name == name) && !answers.contains_key(&name) {
                    answers.insert(name, serde_json::Value::String(value));
                }
            }
            survey::store::answer(&state.db, app::aggregates::ENTITIES, token.clone(), answers).await
        }
        Err(_) => Err(AppError::BadRequest {
            detail: "a survey's form has its answers".into(),
        }),
    };
    let page = survey::survey_path(&token);
    let query = match answer {
        Ok(()) => ANSWERED_QUERY.to_owned(),
        Err(error) => {
            let json = serde_json::to_string(&error).unwrap_or_else(|_| r#"{"error":"internal"}"#.into());
            serde_urlencoded::to_string([(ERROR_QUERY, json)]).unwrap_or_default()
        }
    };
    axum::response::Redirect::to(&format!("{page}?{query}")).into_response()
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// The build's wasm, JS and CSS. A name that is not there is a plain 404,
/// never the app's HTML, so a page of an old build can never load HTML as
/// wasm. When the names carry a content hash (release builds) they are
/// cached for good; otherwise they are revalidated.
fn built_files(dir: std::path::PathBuf, hashed_names: bool) -> Router {
    use tower_http::services::ServeDir;
    let cache = if hashed_names {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static(cache),
        ))
}

/// The service worker and the offline shell: asked again on every check, so
/// a new build is found at once.
fn revalidated(file: std::path::PathBuf) -> Router {
    use tower_http::services::ServeFile;
    Router::new()
        .fallback_service(ServeFile::new(file))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-cache"),
        ))
}

/// The offline shell as HTML: the head of every page (hashed script and
/// style names of this build) and an empty body that the browser renders
/// from its local store. It holds no user's data.
pub fn offline_shell_html(options: leptos::config::LeptosOptions) -> String {
    let owner = Owner::new();
    owner.with(|| app::offline_shell(options).to_html())
}

/// A body over the limit is refused before it is read. The connection then
/// holds the unread rest, so it must not carry another request: say
/// `Connection: close`, or a client reusing it gets a broken answer to its
/// next request.
async fn close_after_unread_body(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    response
}

/// `200 ok` when the database answers, `503` when it does not.
/// `GET /api/photos/{id}`: a complete photo, to a signed-in user who may
/// read its record; anything else (missing, half uploaded, out of scope,
/// signed out) is the same 404.
async fn photo(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    headers: http::HeaderMap,
) -> Response {
    let missing = || StatusCode::NOT_FOUND.into_response();
    let Some(token) = app::ssr::session::token_from_headers(&headers) else {
        return missing();
    };
    let found = async {
        let Some(user) = app::ssr::session::user_for_token(&state.db, &token).await? else {
            return Ok(None);
        };
        app::photos::store::content(&state.db, app::aggregates::ENTITIES, &user, id).await
    };
    match found.await {
        Ok(Some((content_type, bytes))) => (
            [
                (header::CONTENT_TYPE, content_type),
                // A photo never changes under its id; it is the user's own to cache.
                (
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => missing(),
        Err(error) => {
            tracing::error!(%error, "photo failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "database": "ok"})),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

/// Refuses what this server must not answer, before anything else runs:
/// - a `Host` other than the public URL's (a DNS-rebinding page reaches
///   the server under a name of its own; `/healthz` is exempt, for probes);
/// - a state-changing request whose `Origin` is not exactly the public
///   origin, scheme included, or that a browser marks cross-site;
/// - a state-changing request that is not JSON, or (the sign-in form's
///   plain post only) a form: a cross-site `text/plain` post needs no
///   preflight, so it is never accepted.
///
/// This sits on top of the SameSite=Lax session cookie.
async fn refuse_foreign_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(refusal) = refusal(
        request.method(),
        request.uri(),
        request.headers(),
        &state.settings,
    ) {
        tracing::warn!(
            host = ?request.headers().get(header::HOST),
            origin = ?request.headers().get(header::ORIGIN),
            content_type = ?request.headers().get(header::CONTENT_TYPE),
            "foreign request refused"
        );
        let body = serde_json::to_string(&refusal).unwrap_or_default();
        return (
            refusal.status_code(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    next.run(request).await
}

/// Why a request is refused (`refuse_foreign_requests`), if it is.
fn refusal(
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
    settings: &Settings,
) -> Option<AppError> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    let (public_origin, public_host) = (settings.public_origin.as_str(), settings.public_host());
    let host = header(header::HOST).or(uri.authority().map(http::uri::Authority::as_str));
    if uri.path() != "/healthz" && !host.is_some_and(|host| host.eq_ignore_ascii_case(public_host)) {
        return Some(AppError::BadRequest {
            detail: format!("this server answers at {public_origin}"),
        });
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let foreign = match header(header::ORIGIN) {
        Some(origin) => !origin.eq_ignore_ascii_case(public_origin),
        None => header(HeaderName::from_static("sec-fetch-site")) == Some("cross-site"),
    };
    if foreign {
        return Some(AppError::Forbidden);
    }
    let media_type = header(header::CONTENT_TYPE)
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    let expected = if app::shell::posts_plain_form(uri.path()) {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    (media_type.as_deref() != Some(expected)).then(|| AppError::BadRequest {
        detail: format!("a {method} here must be {expected}"),
    })
}

/// Resolves on SIGTERM or Ctrl-C, for graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), http::HeaderValue::from_static(v)))
            .collect()
    }

    const PUBLIC: &str = "http://127.0.0.1:3000";

    fn refused(method: Method, path: &str, pairs: &[(&'static str, &'static str)]) -> Option<AppError> {
        let settings = Settings {
            default_time_zone: chrono_tz::Asia::Shanghai,
            secure_cookies: false,
            public_origin: PUBLIC.into(),
            behind_proxy: false,
        };
        refusal(&method, &path.parse().unwrap(), &headers(pairs), &settings)
    }

    #[test]
    fn only_the_public_host_is_answered() {
        assert_eq!(refused(Method::GET, "/", &[("host", "127.0.0.1:3000")]), None);
        assert_eq!(
            refused(
                Method::GET,
                "/",
                &[("host", "127.0.0.1:3000".to_uppercase().leak())]
            ),
            None
        );
        for host in ["evil.example", "127.0.0.1:3001", "localhost:3000"] {
            assert!(refused(Method::GET, "/", &[("host", host)]).is_some(), "{host}");
        }
        assert!(refused(Method::GET, "/", &[]).is_some());
        // Probes may use any name.
        assert_eq!(
            refused(Method::GET, "/healthz", &[("host", "10.0.0.5:3000")]),
            None
        );
    }

    #[test]
    fn a_change_needs_its_own_origin_scheme_included_and_json() {
        let json = ("content-type", "application/json");
        let host = ("host", "127.0.0.1:3000");
        let ok = |origin| refused(Method::POST, "/api/sync/push", &[host, json, ("origin", origin)]);
        assert_eq!(ok("http://127.0.0.1:3000"), None);
        assert_eq!(ok("https://127.0.0.1:3000"), Some(AppError::Forbidden));
        assert_eq!(ok("http://evil.example"), Some(AppError::Forbidden));
        assert_eq!(ok("null"), Some(AppError::Forbidden));
        // A forged Host with a matching Origin (DNS rebinding) never gets here.
        assert!(refused(
            Method::POST,
            "/api/sync/push",
            &[("host", "evil.example"), json, ("origin", "http://evil.example")]
        )
        .is_some());
        // Without an Origin: curl may post JSON; a browser's cross-site post may not.
        assert_eq!(refused(Method::POST, "/api/sync/push", &[host, json]), None);
        assert_eq!(
            refused(
                Method::POST,
                "/api/sync/push",
                &[host, json, ("sec-fetch-site", "cross-site")]
            ),
            Some(AppError::Forbidden)
        );
        for media in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert!(
                refused(Method::POST, "/api/auth/login", &[host, ("content-type", media)]).is_some(),
                "{media}"
            );
        }
        assert!(refused(Method::POST, "/api/auth/login", &[host]).is_some());
        assert_eq!(
            refused(
                Method::POST,
                "/api/sync/push",
                &[host, ("content-type", "application/json; charset=utf-8")]
            ),
            None
        );
        // The sign-in's and a survey's plain posts are forms, and only that,
        // and from this site alone.
        let form = ("content-type", "application/x-www-form-urlencoded");
        for page in ["/login", "/survey/0123456789abcdef0123456789abcdef"] {
            assert_eq!(refused(Method::POST, page, &[host, form]), None, "{page}");
            assert!(refused(Method::POST, page, &[host, json]).is_some(), "{page}");
            assert_eq!(
                refused(
                    Method::POST,
                    page,
                    &[host, form, ("origin", "https://evil.example")]
                ),
                Some(AppError::Forbidden),
                "{page}"
            );
        }
    }
}
