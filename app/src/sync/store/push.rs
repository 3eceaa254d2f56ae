//! A pushed batch, from its checks to its commit: the batch's earlier
//! results, its records and what its rules read are loaded, the mutations
//! decided a chunk at a time (`decide`), and the rows written as they come.

use super::clocks::replan_clocks;
use super::current::{load, Current};
use super::decide::{decide_batch, naming_fields, reference_id, Decided, CHUNKS_AHEAD, MAX_FORWARDS};
use super::sql::{placeholders, IdText, IDS_PER_QUERY};
use super::writes::{load_singles, Writes};
use crate::roles::CurrentUser;
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::{to_millis, DbError};
use crate::sync::entity::{Context, Entities, EntitySpec, Person};
use crate::sync::{MutationStatus, Op, PushBatch, PushResult};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// Applies a checked batch in one transaction and returns one result per
/// mutation, in order. A database failure rolls the whole batch back. The
/// batch is taken, not borrowed: new records are made of its fields.
///
/// Deciding and writing overlap: a blocking thread decides the mutations a
/// chunk at a time (`decide_batch`), while this task sends each chunk's
/// rows to the database as it comes; the database works on one chunk while
/// the next is decided.
pub async fn push(
    db: &Db,
    entities: Entities,
    user: &CurrentUser,
    batch: PushBatch,
    now: DateTime<Utc>,
) -> Result<PushResult, DbError> {
    let mut tx = db.pool.begin().await?;
    let writes = Writes::begin(&mut tx, now, entities).await?;
    let ids: Vec<Uuid> = batch.mutations.iter().map(|m| m.id).collect();
    let answered = earlier_results(&mut tx, &ids).await?;
    let mut records = HashMap::new();
    for spec in entities.iter() {
        let ids: Vec<Uuid> = batch
            .mutations
            .iter()
            .filter(|m| m.entity == spec.name)
            .map(|m| m.record_id)
            .collect();
        records.extend(load(&mut tx, spec, &ids).await?);
    }
    for (spec, ids) in referenced(entities, &batch) {
        records.extend(load(&mut tx, spec, &ids).await?);
    }
    load_merge_targets(&mut tx, entities, &batch, &mut records).await?;
    let mut context = load_context(&mut tx, entities, user, &batch, now).await?;
    context.singles = writes.singles.clone();
    // A batch that writes a single entity's record (the settings) plans
    // every running clock again by what it leaves.
    let writes_single = batch
        .mutations
        .iter()
        .any(|m| entities.spec(&m.entity).is_some_and(|spec| spec.single.is_some()));
    let (sender, mut decided) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
    let user_tz = user.tz();
    let user = user.clone();
    tokio::task::spawn_blocking(move || {
        decide_batch(
            entities,
            &user,
            batch,
            answered,
            (records, context),
            writes,
            &sender,
        )
    });
    loop {
        match decided.recv().await {
            Some(Decided::Chunk(rows)) => rows.insert(&mut tx).await?,
            Some(Decided::Done { results, writes }) => {
                let before = writes.singles.clone();
                writes.finish(&mut tx).await?;
                if writes_single {
                    let after = load_singles(&mut tx, entities).await?;
                    if after != before {
                        replan_clocks(&mut tx, entities, &after, user_tz).await?;
                    }
                }
                tx.commit().await?;
                db.wrote();
                return Ok(PushResult { results });
            }
            Some(Decided::Failed(error)) => return Err(error),
            // The decider panicked: the transaction rolls back.
            None => return Err(DbError::Corrupt("the push stopped while deciding".into())),
        }
    }
}

/// What merges need loaded before deciding: the records that absorbed
/// the merged records the batch's references name (followed through
/// `MAX_FORWARDS` merges), and every record naming a record that a
/// command of a merging entity names in its arguments (a merge's
/// duplicate), found through the naming entity's projection.
async fn load_merge_targets(
    tx: &mut AnyConnection,
    entities: Entities,
    batch: &PushBatch,
    records: &mut HashMap<(&'static str, Uuid), Current>,
) -> Result<(), DbError> {
    for _ in 0..MAX_FORWARDS {
        let mut wanted: Vec<(&'static EntitySpec, Uuid)> = Vec::new();
        for ((entity, _), current) in records.iter() {
            let Some(spec) = entities.spec(entity) else {
                continue;
            };
            let Some(target) = spec
                .merged_into
                .filter(|_| current.record.deleted)
                .and_then(|mark| reference_id(&current.record.fields, mark))
            else {
                continue;
            };
            if !records.contains_key(&(spec.name, target)) {
                wanted.push((spec, target));
            }
        }
        if wanted.is_empty() {
            break;
        }
        for (spec, id) in wanted {
            records.extend(load(tx, spec, &[id]).await?);
        }
    }
    for mutation in batch.mutations.iter().filter(|m| m.op == Op::Command) {
        let Some(spec) = entities
            .spec(&mutation.entity)
            .filter(|s| s.merged_into.is_some())
        else {
            continue;
        };
        let named = spec
            .references()
            .filter(|r| r.entity == spec.name)
            .filter_map(|r| reference_id(&mutation.fields, r.field));
        for id in named {
            for (naming, field) in naming_fields(entities, spec.name) {
                let projection = naming
                    .projection
                    .filter(|p| p.columns.contains(&field))
                    .ok_or_else(|| {
                        DbError::Corrupt(format!(
                            "{}.{field} names merged records but is not projected",
                            naming.name
                        ))
                    })?;
                let ids: Vec<(String,)> = sqlx::query_as(&format!(
                    "SELECT id FROM {} WHERE {field} = $1 AND deleted = 0",
                    projection.table
                ))
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?;
                let ids = ids
                    .iter()
                    .map(|(id,)| parse_uuid(id))
                    .collect::<Result<Vec<_>, _>>()?;
                records.extend(load(tx, naming, &ids).await?);
            }
        }
    }
    Ok(())
}

/// What the batch's commands need beyond their records: the people their
/// `person_args` name, and how many of each command the user has given
/// today, read in the deciding transaction.
async fn load_context(
    tx: &mut AnyConnection,
    entities: Entities,
    user: &CurrentUser,
    batch: &PushBatch,
    now: DateTime<Utc>,
) -> Result<Context, DbError> {
    let mut wanted: Vec<Uuid> = Vec::new();
    let mut today: std::collections::BTreeMap<(&'static str, &'static str), u32> = Default::default();
    for mutation in batch.mutations.iter().filter(|m| m.op == Op::Command) {
        let Some(spec) = entities.spec(&mutation.entity) else {
            continue;
        };
        if let Some(command) = spec
            .commands
            .iter()
            .find(|c| Some(**c) == mutation.command.as_deref())
        {
            today.insert((spec.name, command), 0);
        }
        for arg in spec.person_args {
            if let Some(id) = mutation
                .fields
                .get(*arg)
                .and_then(serde_json::Value::as_str)
                .and_then(|raw| Uuid::parse_str(raw).ok())
            {
                if !wanted.contains(&id) {
                    wanted.push(id);
                }
            }
        }
    }
    let mut context = Context::default();
    // An accepted command is in the audit trail under its name, by its
    // actor, at the push's time.
    let midnight = local_midnight(now, user.tz());
    for ((entity, command), given) in &mut today {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND at >= $2 AND entity = $3 AND action = $4",
        )
        .bind(user.id.to_string())
        .bind(to_millis(midnight))
        .bind(*entity)
        .bind(*command)
        .fetch_one(&mut *tx)
        .await?;
        *given = u32::try_from(count).unwrap_or(u32::MAX);
    }
    context.today = today;
    for chunk in wanted.chunks(IDS_PER_QUERY) {
        let sql = format!(
            "SELECT id, display_name, role, team_id, active FROM users WHERE id IN ({})",
            placeholders(tx, 1, chunk.len())
        );
        let texts: Vec<IdText> = chunk.iter().copied().map(IdText::new).collect();
        let mut query = sqlx::query_as::<_, (String, String, String, Option<String>, i64)>(&sql);
        for id in &texts {
            query = query.bind(id.as_str());
        }
        for (id, display_name, role, team, active) in query.fetch_all(&mut *tx).await? {
            let id = parse_uuid(&id)?;
            // A role this build does not know is nobody a rule can accept.
            let Some(role) = crate::roles::Role::parse(&role) else {
                continue;
            };
            context.people.insert(
                id,
                Person {
                    id,
                    display_name,
                    role,
                    team_id: team.as_deref().map(parse_uuid).transpose()?,
                    active: active != 0,
                },
            );
        }
    }
    Ok(context)
}

/// The start of `now`'s day in `tz`, in UTC.
fn local_midnight(now: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let day = now.with_timezone(&tz).date_naive();
    tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or(now, |start| start.with_timezone(&Utc))
}

/// The ids of the records the batch's references name, by entity.
fn referenced(entities: Entities, batch: &PushBatch) -> Vec<(&'static EntitySpec, Vec<Uuid>)> {
    let mut wanted: Vec<(&'static EntitySpec, Vec<Uuid>)> = Vec::new();
    for mutation in &batch.mutations {
        let Some(spec) = entities.spec(&mutation.entity) else {
            continue;
        };
        for reference in spec.references() {
            let (Some(target), Some(id)) = (
                entities.spec(reference.entity),
                reference_id(&mutation.fields, reference.field),
            ) else {
                continue;
            };
            match wanted.iter_mut().find(|(s, _)| s.name == target.name) {
                Some((_, ids)) => ids.push(id),
                None => wanted.push((target, vec![id])),
            }
        }
    }
    wanted
}

/// The results of mutations already applied, by mutation id, with who sent them.
async fn earlier_results(
    tx: &mut AnyConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (MutationStatus, Uuid)>, DbError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let sql = format!(
            "SELECT mutation_id, result, user_id FROM applied_mutations WHERE mutation_id IN ({})",
            placeholders(tx, 1, chunk.len())
        );
        let texts: Vec<IdText> = chunk.iter().copied().map(IdText::new).collect();
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
        for id in &texts {
            query = query.bind(id.as_str());
        }
        for (id, result, by) in query.fetch_all(&mut *tx).await? {
            let original = serde_json::from_str(&result)
                .map_err(|e| DbError::Corrupt(format!("mutation result: {e}")))?;
            found.insert(parse_uuid(&id)?, (original, parse_uuid(&by)?));
        }
    }
    Ok(found)
}
