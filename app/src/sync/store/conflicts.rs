//! Same-field conflicts: the ones still open for a user, and their
//! resolution, which is written as any other change.

use super::current::load;
use super::decide::{decide, Decision};
use super::sql::parse_json;
use super::writes::Writes;
use crate::error::AppError;
use crate::policy::{self, Ownership};
use crate::roles::CurrentUser;
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::DbError;
use crate::sync::entity::{Context, Entities};
use crate::sync::{Fields, Keep, Mutation, MutationStatus, Op, OpenConflict};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Unresolved conflicts on records the user may change, newest first (at
/// most `MAX_OPEN_CONFLICTS`).
pub async fn open_conflicts(
    db: &Db,
    entities: Entities,
    user: &CurrentUser,
) -> Result<Vec<OpenConflict>, DbError> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        String,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.entity, c.record_id, c.field, c.kept_value, c.lost_value, w.display_name, c.at, \
                r.owner_id, u.team_id, r.data \
         FROM sync_conflicts c \
         JOIN records r ON r.entity = c.entity AND r.id = c.record_id \
         JOIN users u ON u.id = r.owner_id \
         JOIN users w ON w.id = c.won_by \
         WHERE c.resolved = 0 AND r.deleted = 0 \
         ORDER BY c.at DESC, c.id DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut open = Vec::new();
    for (id, entity, record_id, field, _kept, lost, changed_by, at, owner, team, data) in rows {
        let Some(spec) = entities.spec(&entity) else {
            continue;
        };
        let ownership = Ownership {
            owner_id: parse_uuid(&owner)?,
            owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
        };
        if !policy::can_write(user, spec.kind, ownership) {
            continue;
        }
        let fields: Fields = parse_json(&data)?;
        open.push(OpenConflict {
            id: parse_uuid(&id)?,
            entity,
            record_id: parse_uuid(&record_id)?,
            title: fields
                .get(spec.title)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            // The record's value now (a later edit may have changed it
            // again since the conflict), not the value that won then.
            current: fields.get(&field).cloned().unwrap_or(serde_json::Value::Null),
            field,
            overwritten: parse_json(&lost)?,
            changed_by,
            at: crate::ssr::from_millis(at),
        });
        if open.len() == MAX_OPEN_CONFLICTS {
            break;
        }
    }
    Ok(open)
}

/// The most conflicts one answer lists; resolving some shows the rest.
pub const MAX_OPEN_CONFLICTS: usize = 200;

/// Settles a conflict: keeps the record as it is, or writes the overwritten
/// value back as a new change by this user (merged, checked and logged like
/// any other, so every device pulls it). Settling twice is the same as
/// once. `Ok(Err(reason))` is a refusal.
pub async fn resolve(
    db: &Db,
    entities: Entities,
    user: &CurrentUser,
    conflict: Uuid,
    keep: Keep,
    now: DateTime<Utc>,
) -> Result<Result<(), AppError>, DbError> {
    let mut tx = db.pool.begin().await?;
    let mut writes = Writes::begin(&mut tx, now, entities).await?;
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT entity, record_id, field, lost_value, resolved FROM sync_conflicts WHERE id = $1",
    )
    .bind(conflict.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((entity, record_id, field, lost, resolved)) = row else {
        return Ok(Err(AppError::NotFound));
    };
    let spec = entities
        .spec(&entity)
        .ok_or_else(|| DbError::Corrupt(format!("unknown entity {entity}")))?;
    let record_id = parse_uuid(&record_id)?;
    let Some(current) = load(&mut tx, spec, &[record_id])
        .await?
        .remove(&(spec.name, record_id))
    else {
        return Ok(Err(AppError::NotFound));
    };
    // A conflict on a record out of scope answers like a missing one.
    if !policy::can_read(user, spec.kind, current.ownership) {
        return Ok(Err(AppError::NotFound));
    }
    if !policy::can_write(user, spec.kind, current.ownership) {
        return Ok(Err(AppError::Forbidden));
    }
    if resolved != 0 {
        return Ok(Ok(()));
    }
    if keep == Keep::Overwritten {
        let mutation = Mutation {
            id: Uuid::now_v7(),
            entity: spec.name.to_owned(),
            record_id,
            base_version: current.record.version,
            op: Op::Upsert,
            fields: std::iter::once((field, parse_json(&lost)?)).collect(),
            command: None,
            base: Default::default(),
        };
        let mutation_id = mutation.id;
        let Decision { status, write } = decide(
            user,
            spec,
            mutation,
            Some(&current),
            // The value was accepted when it was written; its references
            // are not looked up again.
            (&Context::default(), Vec::new()),
            now,
            &mut |series| writes.next_number(series),
        );
        if let MutationStatus::Rejected { reason } = status {
            return Ok(Err(reason));
        }
        if let Some(write) = write {
            writes.record(user, spec, record_id, &write)?;
        }
        writes.answer(user, mutation_id, &status)?;
    }
    sqlx::query("UPDATE sync_conflicts SET resolved = 1 WHERE id = $1")
        .bind(conflict.to_string())
        .execute(&mut *tx)
        .await?;
    writes.finish(&mut tx).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
