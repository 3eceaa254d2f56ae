//! Server-rendered pages, each rendered on one thread from start to end.
//!
//! A page render builds a reactive tree that holds browser-only values
//! (local actions, local resources) in thread-bound wrappers, which panic if
//! they are dropped on another thread than the one that made them. On a
//! multi-threaded runtime the render, its resources and the end of its
//! response stream may each run on a different worker, and a panicking
//! render never finishes its answer: the page hangs. Each render therefore
//! runs on one thread of a small pool of single-threaded runtimes, where the
//! tasks it spawns stay too, and only finished chunks of HTML cross to the
//! thread that sends them. Server functions and the rest of the API keep
//! the shared multi-threaded runtime.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use tokio_util::task::LocalPoolHandle;

/// One single-threaded runtime per core. A render waits on nothing of its
/// own (the page's user is read before it starts: `app::ssr::SessionUser`),
/// so a thread carries many in turn.
static RENDERERS: LazyLock<LocalPoolHandle> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    LocalPoolHandle::new(threads)
});

/// A page that sends nothing for this long is cut with an error: a render
/// waiting on something that never comes (as pages did while another
/// server of the process listed its routes: `http::ROUTES`) must not hold
/// its reader forever. Counted from its last chunk, not from its start: on a loaded
/// server many renders share a thread and each takes longer, but each
/// keeps moving.
const RENDER_IDLE_LIMIT: Duration = Duration::from_secs(60);

/// How many chunks of a page may wait for a slow reader before the render
/// waits too.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Runs `render` on one renderer thread and streams its answer back. The
/// page is dropped on that thread too, also when the reader leaves early.
/// A render that panics or stalls (`RENDER_IDLE_LIMIT`) ends its answer
/// with an error (a cut connection), never a hang: before the head, a 500.
pub async fn on_one_thread<F, Fut>(render: F) -> Response
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Response> + 'static,
{
    let (head_tx, head_rx) = oneshot::channel();
    let (chunk_tx, chunk_rx) = mpsc::channel::<Result<Bytes, axum::Error>>(CHUNKS_IN_FLIGHT);
    let mut failure_tx = chunk_tx.clone();
    let rendering = RENDERERS.spawn_pinned(move || async move {
        let mut chunk_tx = chunk_tx;
        let Ok(response) = tokio::time::timeout(RENDER_IDLE_LIMIT, render()).await else {
            tracing::error!(
                limit_secs = RENDER_IDLE_LIMIT.as_secs(),
                "a page render stalled before its head"
            );
            return;
        };
        let (head, body) = response.into_parts();
        if head_tx.send(head).is_err() {
            return;
        }
        let mut body = body.into_data_stream();
        loop {
            let chunk = match tokio::time::timeout(RENDER_IDLE_LIMIT, body.next()).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(_) => {
                    tracing::error!(limit_secs = RENDER_IDLE_LIMIT.as_secs(), "a page render stalled");
                    Err(axum::Error::new("the page stalled"))
                }
            };
            let failed = chunk.is_err();
            if chunk_tx.send(chunk).await.is_err() || failed {
                // The reader left, or the page ended with an error; the
                // rest of it is dropped here.
                break;
            }
        }
    });
    // The stream ends when both senders are gone: after the whole page, or
    // after the error this watcher sends for a render that panicked.
    tokio::spawn(async move {
        if let Err(panicked) = rendering.await {
            tracing::error!(error = %panicked, "a page render failed");
            let _ = failure_tx.send(Err(axum::Error::new(panicked))).await;
        }
    });
    match head_rx.await {
        Ok(head) => Response::from_parts(head, Body::from_stream(chunk_rx)),
        Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
