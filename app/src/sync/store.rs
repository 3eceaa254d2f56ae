//! The sync engine on the server: applies pushed batches and answers pulls,
//! for every entity declared in `sync::entity`.
//!
//! Ordering: every push transaction first takes the one row of
//! `sync_counter` (an UPDATE, so it is a write lock on both SQLite and
//! PostgreSQL). Writers therefore commit one at a time and change sequence
//! numbers become visible in order, so a pull that has seen `seq = n` can
//! never later discover a change below `n`. No state lives in a server's
//! memory: any number of servers may share the database.

use super::entity::{self, EntitySpec};
use super::{
    create, merge, FieldConflict, Fields, Merged, Mutation, MutationResult, MutationStatus, Op, PullPage,
    PullRequest, PulledChange, PushBatch, PushResult, StoredRecord,
};
use crate::error::AppError;
use crate::policy::{self, Ownership, Scope};
use crate::roles::CurrentUser;
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::{audit, to_millis, DbError};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Applies a checked batch in one transaction and returns one result per
/// mutation, in order. A database failure rolls the whole batch back.
pub async fn push(
    db: &Db,
    user: &CurrentUser,
    batch: &PushBatch,
    now: DateTime<Utc>,
) -> Result<PushResult, DbError> {
    let mut tx = db.pool.begin().await?;
    let (mut seq,): (i64,) = sqlx::query_as("UPDATE sync_counter SET seq = seq WHERE id = 1 RETURNING seq")
        .fetch_one(&mut *tx)
        .await?;
    let start = seq;
    let mut results = Vec::with_capacity(batch.mutations.len());
    for mutation in &batch.mutations {
        let status = apply(&mut tx, user, mutation, now, &mut seq).await?;
        results.push(MutationResult {
            id: mutation.id,
            status,
        });
    }
    if seq != start {
        sqlx::query("UPDATE sync_counter SET seq = $1 WHERE id = 1")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(PushResult { results })
}

struct Current {
    record: StoredRecord,
    ownership: Ownership,
}

async fn apply(
    tx: &mut AnyConnection,
    user: &CurrentUser,
    mutation: &Mutation,
    now: DateTime<Utc>,
    seq: &mut i64,
) -> Result<MutationStatus, DbError> {
    let earlier: Option<(String, String)> =
        sqlx::query_as("SELECT result, user_id FROM applied_mutations WHERE mutation_id = $1")
            .bind(mutation.id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((result, by)) = earlier {
        // Another user's mutation id: refuse, and reveal nothing of its result.
        if by != user.id.to_string() {
            return Ok(rejected(AppError::Forbidden));
        }
        let original =
            serde_json::from_str(&result).map_err(|e| DbError::Corrupt(format!("mutation result: {e}")))?;
        return Ok(MutationStatus::Duplicate {
            original: Box::new(original),
        });
    }
    let spec = entity::spec(&mutation.entity)
        .ok_or_else(|| DbError::Corrupt(format!("unchecked entity {}", mutation.entity)))?;
    let current = load(tx, spec, mutation.record_id).await?;
    let status = decide(tx, user, spec, mutation, current, now, seq).await?;
    sqlx::query("INSERT INTO applied_mutations (mutation_id, user_id, result, at) VALUES ($1, $2, $3, $4)")
        .bind(mutation.id.to_string())
        .bind(user.id.to_string())
        .bind(serde_json::to_string(&status).map_err(|e| DbError::Corrupt(e.to_string()))?)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
    Ok(status)
}

fn rejected(reason: AppError) -> MutationStatus {
    MutationStatus::Rejected { reason }
}

async fn decide(
    tx: &mut AnyConnection,
    user: &CurrentUser,
    spec: &EntitySpec,
    mutation: &Mutation,
    current: Option<Current>,
    now: DateTime<Utc>,
    seq: &mut i64,
) -> Result<MutationStatus, DbError> {
    let Some(current) = current else {
        if mutation.op == Op::Delete || mutation.base_version != 0 {
            return Ok(rejected(AppError::NotFound));
        }
        if !policy::can_create(user, spec.kind) {
            return Ok(rejected(AppError::Forbidden));
        }
        if let Err(errors) = (spec.check)(&mutation.fields, now) {
            return Ok(super::invalid(errors));
        }
        let record = create(&mutation.fields);
        write(tx, spec, mutation.record_id, user.id, &record, true, now).await?;
        log_change(tx, spec, mutation.record_id, user.id, None, now, seq).await?;
        trace(
            tx,
            user,
            spec,
            mutation.record_id,
            "create",
            None,
            Some(&record.fields),
            now,
        )
        .await?;
        return Ok(MutationStatus::Applied {
            version: record.version,
        });
    };
    if !policy::can_write(user, spec.kind, current.ownership) {
        return Ok(rejected(AppError::Forbidden));
    }
    if current.record.deleted {
        return Ok(match mutation.op {
            // Deleting twice is the same delete.
            Op::Delete => MutationStatus::Applied {
                version: current.record.version,
            },
            Op::Upsert => rejected(AppError::NotFound),
        });
    }
    let owner = current.ownership.owner_id;
    if mutation.op == Op::Delete {
        let mut record = current.record.clone();
        record.deleted = true;
        record.version += 1;
        write(tx, spec, mutation.record_id, owner, &record, false, now).await?;
        log_change(tx, spec, mutation.record_id, owner, None, now, seq).await?;
        trace(
            tx,
            user,
            spec,
            mutation.record_id,
            "delete",
            Some(&current.record.fields),
            None,
            now,
        )
        .await?;
        return Ok(MutationStatus::Applied {
            version: record.version,
        });
    }
    let Merged {
        record,
        conflicts,
        unchanged,
    } = merge(&current.record, mutation.base_version, &mutation.fields);
    if unchanged {
        return Ok(MutationStatus::Applied {
            version: record.version,
        });
    }
    if let Err(errors) = (spec.check)(&record.fields, now) {
        return Ok(super::invalid(errors));
    }
    write(tx, spec, mutation.record_id, owner, &record, false, now).await?;
    log_change(tx, spec, mutation.record_id, owner, None, now, seq).await?;
    let before: Fields = mutation
        .fields
        .keys()
        .filter_map(|k| current.record.fields.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    trace(
        tx,
        user,
        spec,
        mutation.record_id,
        "update",
        Some(&before),
        Some(&mutation.fields),
        now,
    )
    .await?;
    for conflict in &conflicts {
        keep_conflict(tx, spec, mutation.record_id, user.id, conflict, now).await?;
    }
    Ok(if conflicts.is_empty() {
        MutationStatus::Applied {
            version: record.version,
        }
    } else {
        MutationStatus::Conflict {
            version: record.version,
            conflicts,
        }
    })
}

async fn load(tx: &mut AnyConnection, spec: &EntitySpec, id: Uuid) -> Result<Option<Current>, DbError> {
    let row: Option<(String, Option<String>, i64, i64, String, String)> = sqlx::query_as(
        "SELECT r.owner_id, u.team_id, r.version, r.deleted, r.data, r.field_versions \
         FROM records r JOIN users u ON u.id = r.owner_id WHERE r.entity = $1 AND r.id = $2",
    )
    .bind(spec.name)
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((owner, team, version, deleted, data, field_versions)) = row else {
        return Ok(None);
    };
    Ok(Some(Current {
        record: StoredRecord {
            version,
            deleted: deleted != 0,
            fields: parse_json(&data)?,
            field_versions: parse_json::<BTreeMap<String, i64>>(&field_versions)?,
        },
        ownership: Ownership {
            owner_id: parse_uuid(&owner)?,
            owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
        },
    }))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Corrupt(format!("stored JSON: {e}")))
}

async fn write(
    tx: &mut AnyConnection,
    spec: &EntitySpec,
    id: Uuid,
    owner: Uuid,
    record: &StoredRecord,
    new: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let data = serde_json::to_string(&record.fields).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let versions =
        serde_json::to_string(&record.field_versions).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let query = if new {
        "INSERT INTO records (entity, id, owner_id, version, deleted, data, field_versions, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $3, $8, $8)"
    } else {
        "UPDATE records SET owner_id = $3, version = $4, deleted = $5, data = $6, field_versions = $7, updated_at = $8 \
         WHERE entity = $1 AND id = $2"
    };
    sqlx::query(query)
        .bind(spec.name)
        .bind(id.to_string())
        .bind(owner.to_string())
        .bind(record.version)
        .bind(i64::from(record.deleted))
        .bind(data)
        .bind(versions)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn log_change(
    tx: &mut AnyConnection,
    spec: &EntitySpec,
    id: Uuid,
    owner: Uuid,
    previous_owner: Option<Uuid>,
    now: DateTime<Utc>,
    seq: &mut i64,
) -> Result<(), DbError> {
    *seq += 1;
    sqlx::query("INSERT INTO changes (seq, entity, record_id, owner_id, prev_owner_id, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(*seq)
        .bind(spec.name)
        .bind(id.to_string())
        .bind(owner.to_string())
        .bind(previous_owner.map(|p| p.to_string()))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn trace(
    tx: &mut AnyConnection,
    user: &CurrentUser,
    spec: &EntitySpec,
    id: Uuid,
    action: &str,
    before: Option<&Fields>,
    after: Option<&Fields>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    audit::record(
        tx,
        audit::Change {
            actor_id: user.id,
            entity: spec.name,
            record_id: id,
            action,
            before: before.map(|f| serde_json::Value::Object(f.clone())),
            after: after.map(|f| serde_json::Value::Object(f.clone())),
            at: now,
        },
    )
    .await
}

async fn keep_conflict(
    tx: &mut AnyConnection,
    spec: &EntitySpec,
    id: Uuid,
    winner: Uuid,
    conflict: &FieldConflict,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sync_conflicts (id, entity, record_id, field, kept_value, lost_value, won_by, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(spec.name)
    .bind(id.to_string())
    .bind(&conflict.field)
    .bind(conflict.kept.to_string())
    .bind(conflict.lost.to_string())
    .bind(winner.to_string())
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Gives a record to another owner (a supervisor's reassignment). The old
/// owner's next pull receives it as `removed` if it left their scope.
pub async fn reassign(
    db: &Db,
    entity: &str,
    id: Uuid,
    new_owner: Uuid,
    actor: &CurrentUser,
) -> Result<bool, DbError> {
    let spec = entity::spec(entity).ok_or_else(|| DbError::Corrupt(format!("unknown entity {entity}")))?;
    let mut tx = db.pool.begin().await?;
    let (mut seq,): (i64,) = sqlx::query_as("UPDATE sync_counter SET seq = seq WHERE id = 1 RETURNING seq")
        .fetch_one(&mut *tx)
        .await?;
    let Some(current) = load(&mut tx, spec, id).await? else {
        return Ok(false);
    };
    let now = Utc::now();
    let mut record = current.record;
    record.version += 1;
    write(&mut tx, spec, id, new_owner, &record, false, now).await?;
    log_change(
        &mut tx,
        spec,
        id,
        new_owner,
        Some(current.ownership.owner_id),
        now,
        &mut seq,
    )
    .await?;
    let owners = |o: Uuid| {
        serde_json::json!({ "owner_id": o })
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    trace(
        &mut tx,
        actor,
        spec,
        id,
        "reassign",
        Some(&owners(current.ownership.owner_id)),
        Some(&owners(new_owner)),
        now,
    )
    .await?;
    sqlx::query("UPDATE sync_counter SET seq = $1 WHERE id = 1")
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// record id, change seq, owner id, owner's team, version, deleted, data
type PulledRow = (String, i64, String, Option<String>, i64, i64, String);

/// One page of changes after `request.cursor`, as the user may see them now.
pub async fn pull(db: &Db, user: &CurrentUser, request: &PullRequest) -> Result<PullPage, DbError> {
    let limit = request.limit.clamp(1, super::MAX_PAGE);
    let (upper,): (i64,) = sqlx::query_as("SELECT seq FROM sync_counter WHERE id = 1")
        .fetch_one(&db.pool)
        .await?;
    let mut changes = Vec::new();
    // The lowest last-sent seq among entities whose page was cut short.
    let mut truncated: Option<i64> = None;
    for spec in entity::ENTITIES {
        let Some(scope) = policy::scope(user, spec.kind) else {
            continue;
        };
        let (filter, key) = match scope {
            Scope::Own(id) => ("(owner_id = $4 OR prev_owner_id = $4)", id.to_string()),
            Scope::Team(team) => (
                "(owner_id IN (SELECT id FROM users WHERE team_id = $4) \
                  OR prev_owner_id IN (SELECT id FROM users WHERE team_id = $4))",
                team.to_string(),
            ),
            Scope::All => ("$4 = $4", String::new()),
        };
        let sql = format!(
            "SELECT c.record_id, c.seq, r.owner_id, u.team_id, r.version, r.deleted, r.data FROM \
               (SELECT record_id, MAX(seq) AS seq FROM changes \
                WHERE entity = $1 AND seq > $2 AND seq <= $3 AND {filter} \
                GROUP BY record_id ORDER BY MAX(seq) LIMIT $5) c \
             JOIN records r ON r.entity = $1 AND r.id = c.record_id \
             JOIN users u ON u.id = r.owner_id \
             ORDER BY c.seq"
        );
        let rows: Vec<PulledRow> = sqlx::query_as(&sql)
            .bind(spec.name)
            .bind(request.cursor)
            .bind(upper)
            .bind(key)
            .bind(limit as i64 + 1)
            .fetch_all(&db.pool)
            .await?;
        let cut = rows.len() > limit;
        let mut last_seq = request.cursor;
        for (record_id, seq, owner, team, version, deleted, data) in rows.into_iter().take(limit) {
            let id = parse_uuid(&record_id)?;
            let owner_id = parse_uuid(&owner)?;
            let ownership = Ownership {
                owner_id,
                owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
            };
            let entity = spec.name.to_owned();
            changes.push(if !scope.contains(ownership) {
                PulledChange::Removed { entity, id }
            } else if deleted != 0 {
                PulledChange::Deleted { entity, id, version }
            } else {
                PulledChange::Upsert {
                    entity,
                    id,
                    version,
                    owner_id,
                    fields: parse_json(&data)?,
                }
            });
            last_seq = last_seq.max(seq);
        }
        if cut {
            truncated = Some(truncated.map_or(last_seq, |t| t.min(last_seq)));
        }
    }
    // With every entity's page complete, the cursor may move past changes
    // this user cannot see, up to what was committed when the pull began.
    // Otherwise it stops where the shortest page stopped; the next page may
    // repeat a few records of other entities, which clients apply idempotently.
    let cursor = truncated.unwrap_or(upper.max(request.cursor));
    Ok(PullPage {
        changes,
        cursor,
        has_more: truncated.is_some(),
    })
}
