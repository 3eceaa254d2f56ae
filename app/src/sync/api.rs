//! `POST /api/sync/push`, `/pull`, `/conflicts` and `/resolve`: thin server
//! functions over `sync::store`. See docs/sync.md for the protocol.

use super::{Keep, OpenConflict, PullPage, PullRequest, PushBatch, PushResult};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "sync/push", input = Json)]
pub async fn push(batch: PushBatch) -> Result<PushResult, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    super::check_batch(&batch)?;
    let (client, mutations) = (batch.client_id, batch.mutations.len());
    let result = super::store::push(&ssr::state()?.db, &user, batch, chrono::Utc::now()).await?;
    tracing::info!(%client, mutations, "sync push");
    Ok(result)
}

#[server(endpoint = "sync/pull", input = Json)]
pub async fn pull(request: PullRequest) -> Result<PullPage, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    if request.cursor < 0 {
        return Err(AppError::BadRequest {
            detail: "negative cursor".into(),
        });
    }
    Ok(super::store::pull(&ssr::state()?.db, &user, &request).await?)
}

/// The conflicts the signed-in user may settle.
#[server(endpoint = "sync/conflicts", input = Json)]
pub async fn conflicts() -> Result<Vec<OpenConflict>, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    Ok(super::store::open_conflicts(&ssr::state()?.db, &user).await?)
}

#[server(endpoint = "sync/resolve", input = Json)]
pub async fn resolve(conflict: uuid::Uuid, keep: Keep) -> Result<(), AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    super::store::resolve(&ssr::state()?.db, &user, conflict, keep, chrono::Utc::now()).await??;
    tracing::info!(%conflict, ?keep, "conflict resolved");
    Ok(())
}
