//! The audit trail (全节点可追溯): who changed what, when, before and after.

use super::db::DbError;
use super::to_millis;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct Change<'a> {
    pub actor_id: Uuid,
    pub entity: &'a str,
    pub record_id: Uuid,
    pub action: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// Records a change inside the caller's transaction, so the change and its
/// trace commit together or not at all.
pub async fn record(tx: &mut sqlx::AnyConnection, change: Change<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, entity, record_id, action, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(to_millis(change.at))
    .bind(change.actor_id.to_string())
    .bind(change.entity)
    .bind(change.record_id.to_string())
    .bind(change.action)
    .bind(change.before.map(|v| v.to_string()))
    .bind(change.after.map(|v| v.to_string()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
