//! `POST /api/sync/push`, `/pull`, `/records`, `/conflicts` and `/resolve`:
//! thin server functions over `sync::store`. See docs/sync.md for the
//! protocol.

use super::{Keep, OpenConflict, PullPage, PullRequest, PulledChange, PushBatch, PushResult};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

/// The most records one `sync/records` call may ask for.
pub const MAX_RECORDS: usize = 100;

#[server(endpoint = "sync/push", input = Json)]
pub async fn push(batch: PushBatch) -> Result<PushResult, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    super::check_batch(&entities, &batch)?;
    if let Some(theirs) = &batch.epoch {
        // A restore replaces the database while no server runs, so the
        // epoch cannot change between this read and the push.
        let epoch = super::store::epoch(&state.db).await?;
        if *theirs != epoch {
            return Err(AppError::EpochChanged { epoch });
        }
    }
    let (client, mutations) = (batch.client_id, batch.mutations.len());
    let result = super::store::push(&state.db, entities, &user, batch, chrono::Utc::now()).await?;
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
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    super::store::pull(&state.db, entities, &user, &request).await?
}

/// Some records as the server holds them now, for a device whose copy a
/// refused command or edit left behind: each comes as an upsert, or as
/// removed when it is missing or out of the user's scope (alike).
#[server(endpoint = "sync/records", input = Json)]
pub async fn records(entity: String, ids: Vec<Uuid>) -> Result<Vec<PulledChange>, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    if ids.len() > MAX_RECORDS {
        return Err(AppError::TooLarge { limit: MAX_RECORDS });
    }
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    let spec = entities.spec(&entity).ok_or_else(|| AppError::BadRequest {
        detail: format!("unknown entity {entity:?}"),
    })?;
    Ok(super::store::records(&state.db, spec, &user, &ids).await?)
}

/// A record's history from the audit trail, newest first; a record missing
/// or out of the user's scope answers `not_found` alike.
#[server(endpoint = "sync/history", input = Json)]
pub async fn history(entity: String, id: Uuid) -> Result<Vec<super::history::HistoryEntry>, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    let spec = entities.spec(&entity).ok_or(AppError::NotFound)?;
    super::history::history(&state.db, spec, &user, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The conflicts the signed-in user may settle.
#[server(endpoint = "sync/conflicts", input = Json)]
pub async fn conflicts() -> Result<Vec<OpenConflict>, AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    Ok(super::store::open_conflicts(&state.db, entities, &user).await?)
}

#[server(endpoint = "sync/resolve", input = Json)]
pub async fn resolve(conflict: uuid::Uuid, keep: Keep) -> Result<(), AppError> {
    use crate::ssr;
    let user = ssr::require_user().await?;
    let state = ssr::state()?;
    let entities = super::entity::registered()?;
    super::store::resolve(&state.db, entities, &user, conflict, keep, chrono::Utc::now()).await??;
    tracing::info!(%conflict, ?keep, "conflict resolved");
    Ok(())
}
