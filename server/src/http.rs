//! The HTTP surface: routes, middleware, health, shutdown.

use app::error::AppError;
use app::ssr::AppState;
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
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one router.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let routes = generate_route_list(app::App);
    // `leptos_routes_with_context` also mounts every server function at its
    // `/api/…` path, with the same context as the pages.
    let site = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    Router::new()
        .route("/healthz", get(healthz))
        .nest_service("/pkg", built_files(site.join("pkg"), state.leptos_options.hash_files))
        .route_service("/sw.js", revalidated(site.join("sw.js")))
        .route_service("/shell.html", revalidated(site.join("shell.html")))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            app::shell,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(middleware::map_response(close_after_unread_body))
        .layer(middleware::from_fn(refuse_cross_origin))
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
        .with_state(state)
}

/// The build's wasm, JS and CSS. A name that is not there is a plain 404,
/// never the app's HTML, so a page of an old build can never load HTML as
/// wasm. When the names carry a content hash (release builds) they are
/// cached for good; otherwise they are revalidated.
fn built_files(dir: std::path::PathBuf, hashed_names: bool) -> Router {
    use tower_http::services::ServeDir;
    use tower_http::set_header::SetResponseHeaderLayer;
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
    use tower_http::set_header::SetResponseHeaderLayer;
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

/// Refuses state-changing requests sent from another origin, on top of the
/// SameSite=Lax session cookie. Requests without `Origin` (curl, other
/// servers) carry no ambient browser credentials and pass on to the normal
/// session check.
async fn refuse_cross_origin(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(request.headers()) {
        tracing::warn!(origin = ?request.headers().get(header::ORIGIN), "cross-origin request refused");
        let body = serde_json::to_string(&AppError::Forbidden).unwrap_or_default();
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    next.run(request).await
}

fn same_origin(headers: &http::HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    match header(header::ORIGIN) {
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            header(header::HOST).is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
        }
        None => header(HeaderName::from_static("sec-fetch-site")) != Some("cross-site"),
    }
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

    #[test]
    fn same_origin_requires_the_origin_to_match_the_host() {
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:3000")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
    }
}
