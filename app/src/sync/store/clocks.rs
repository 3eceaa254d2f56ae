//! Running clocks: planned again when the settings change, and raised once
//! each when due (`raise_due`), with the notices they send.

use super::current::{load, Current};
use super::sql::parse_json;
use super::writes::{new_secret, write_clocks, Write, Writes};
use crate::policy::{self, Ownership};
use crate::roles::CurrentUser;
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::{to_millis, DbError};
use crate::sync::entity::{ClockCall, DueCall, Entities, Notice, Recipient, Singles};
use crate::sync::{create, merge, Fields, Merged};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Records read per query while planning clocks again.
const RECORDS_PER_REPLAN: i64 = 1000;

/// Plans the running clocks of every live record again by `singles` (the
/// settings just saved): what each record's next write would plan. A
/// raised clock whose time does not move stays raised (`write_clocks`).
/// Reads every record of the entities with clocks, in the transaction
/// that saved the settings: a rare write, and its clocks are the truth the
/// moment it commits.
pub(super) async fn replan_clocks(
    tx: &mut AnyConnection,
    entities: Entities,
    singles: &Singles,
    tz: chrono_tz::Tz,
) -> Result<(), DbError> {
    for spec in entities.iter() {
        let Some(clocks) = spec.clocks else { continue };
        let mut after = String::new();
        loop {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, data FROM records WHERE entity = $1 AND deleted = 0 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(spec.name)
            .bind(&after)
            .bind(RECORDS_PER_REPLAN)
            .fetch_all(&mut *tx)
            .await?;
            let Some((last, _)) = rows.last() else { break };
            after = last.clone();
            let mut planned = BTreeMap::new();
            for (id, data) in &rows {
                let id = parse_uuid(id)?;
                let fields: Fields = parse_json(data)?;
                let running = (clocks.running)(&ClockCall {
                    id,
                    record: &fields,
                    tz,
                    singles,
                });
                planned.insert((spec.name, id), (false, running));
            }
            write_clocks(tx, planned).await?;
        }
    }
    Ok(())
}

/// Clocks raised per transaction of the clock job.
const RAISED_PER_TRANSACTION: i64 = 200;

/// Raises every clock whose time has come by `now`, once: marks the
/// record (the entity's `raise`), notifies whom it names, and sets the
/// clock's `raised_at`, in one transaction that holds the change counter.
/// Two servers running this at once take turns, and the second finds the
/// first one's clocks raised; a restart finds them in the table. Returns
/// how many were raised. `tz` counts the working days of clocks that a
/// raise's write restarts (the server's zone).
pub async fn raise_due(
    db: &Db,
    entities: Entities,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<usize, DbError> {
    let system = CurrentUser {
        id: Uuid::nil(),
        username: "system".into(),
        display_name: "系统".into(),
        role: crate::roles::Role::Admin,
        team_id: None,
        time_zone: tz.name().to_owned(),
    };
    let mut raised = 0;
    let mut known = HashMap::new();
    // Most runs find nothing due: look without taking the change counter,
    // so an idle job never holds up a push. What it sees is checked again
    // under the counter below.
    let (any,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT 1 FROM clocks WHERE raised_at IS NULL AND due_at <= $1 LIMIT 1) due",
    )
    .bind(to_millis(now))
    .fetch_one(&db.pool)
    .await?;
    if any == 0 {
        return Ok(0);
    }
    loop {
        let mut tx = db.pool.begin().await?;
        let mut writes = Writes::begin(&mut tx, now, entities).await?;
        let due: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT entity, record_id, kind, due_at FROM clocks \
             WHERE raised_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2",
        )
        .bind(to_millis(now))
        .bind(RAISED_PER_TRANSACTION)
        .fetch_all(&mut *tx)
        .await?;
        if due.is_empty() {
            return Ok(raised);
        }
        let batch = due.len();
        // Records as this transaction leaves them: a record with two clocks
        // due gets both marks.
        let mut held: HashMap<(&'static str, Uuid), Current> = HashMap::new();
        for (entity, record_id, kind, due_at) in due {
            sqlx::query(
                "UPDATE clocks SET raised_at = $1 WHERE entity = $2 AND record_id = $3 AND kind = $4",
            )
            .bind(to_millis(now))
            .bind(&entity)
            .bind(&record_id)
            .bind(&kind)
            .execute(&mut *tx)
            .await?;
            raised += 1;
            // A clock of an entity no longer registered, or of a record
            // gone, is raised as nothing.
            let Some((spec, clocks)) = entities.spec(&entity).and_then(|s| Some((s, s.clocks?))) else {
                continue;
            };
            let id = parse_uuid(&record_id)?;
            let current = match held.remove(&(spec.name, id)) {
                Some(current) => Some(current),
                None => load(&mut tx, spec, &[id]).await?.remove(&(spec.name, id)),
            };
            let Some(current) = current else {
                continue;
            };
            if current.record.deleted {
                continue;
            }
            let due_at = crate::ssr::from_millis(due_at);
            let mut effect = (clocks.raise)(&DueCall {
                kind: &kind,
                id,
                record: &current.record.fields,
                owner: current.ownership.owner_id,
                due_at,
                now,
            });
            if let Some(field) = effect.secret {
                effect.changes.insert(field.to_owned(), new_secret());
            }
            // The owner's notices go to the owner it had when the clock ran
            // out, not to the pool it may return to.
            let notified = current.ownership;
            let mut current = current;
            // The team's pool, when the raise returns the record there.
            let pool = effect
                .to_pool
                .then_some(current.ownership.owner_team_id)
                .flatten()
                .filter(|team| current.ownership.owner_id != policy::pool_owner(*team));
            if !effect.changes.is_empty() || pool.is_some() {
                let Merged {
                    mut record,
                    unchanged: nothing_new,
                    ..
                } = merge(&current.record, current.record.version, &effect.changes);
                if nothing_new {
                    // Only the owner moves: still a new version.
                    record.version += 1;
                }
                let before: Fields = effect
                    .changes
                    .keys()
                    .filter_map(|k| current.record.fields.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                let (ownership, owner_name) = match pool {
                    Some(team) => (
                        Ownership {
                            owner_id: policy::pool_owner(team),
                            owner_team_id: Some(team),
                        },
                        policy::POOL_NAME.to_owned(),
                    ),
                    None => (current.ownership, current.owner_name.clone()),
                };
                let write = Write {
                    current: Current {
                        record,
                        ownership,
                        owner_name,
                    },
                    action: if pool.is_some() {
                        "return_to_pool"
                    } else {
                        "raise_clock"
                    },
                    before: Some(before),
                    after: Some(effect.changes.clone()),
                    previous_owner: pool.map(|_| current.ownership.owner_id),
                    absorbs: None,
                    conflicts: Vec::new(),
                };
                writes.record(&system, spec, id, &write)?;
                current = write.current;
            }
            let title = current
                .record
                .fields
                .get(spec.title)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let notice = Notice {
                entity: spec.name,
                record_id: id,
                kind: &kind,
                title,
                due_at,
                raised_at: now,
            };
            for recipient in recipients(&mut tx, &effect.notify, notified, &mut known).await? {
                let fields = (entities.1.fields)(&notice);
                let write = Write {
                    after: None,
                    current: Current {
                        record: create(fields),
                        ownership: Ownership {
                            owner_id: recipient,
                            owner_team_id: None,
                        },
                        owner_name: String::new(),
                    },
                    action: "create",
                    before: None,
                    previous_owner: None,
                    absorbs: None,
                    conflicts: Vec::new(),
                };
                writes.record(&system, entities.1.spec, Uuid::now_v7(), &write)?;
            }
            held.insert((spec.name, id), current);
        }
        writes.finish(&mut tx).await?;
        tx.commit().await?;
        db.wrote();
        if (batch as i64) < RAISED_PER_TRANSACTION {
            return Ok(raised);
        }
    }
}

/// The active users a raised clock notifies, each once.
async fn recipients(
    tx: &mut AnyConnection,
    notify: &[Recipient],
    ownership: Ownership,
    known: &mut HashMap<(Recipient, Option<Uuid>), Vec<Uuid>>,
) -> Result<Vec<Uuid>, DbError> {
    let mut found = Vec::new();
    for recipient in notify {
        // A team's supervisors and a role's members are looked up once per
        // run of the job, not once per clock.
        let key = match recipient {
            Recipient::OwnersSupervisor => (*recipient, ownership.owner_team_id),
            _ => (*recipient, None),
        };
        if let Some(ids) = known.get(&key) {
            for id in ids {
                if !found.contains(id) {
                    found.push(*id);
                }
            }
            continue;
        }
        let ids: Vec<(String,)> = match recipient {
            Recipient::Owner => vec![(ownership.owner_id.to_string(),)],
            Recipient::OwnersSupervisor => {
                let Some(team) = ownership.owner_team_id else {
                    continue;
                };
                sqlx::query_as("SELECT id FROM users WHERE role = $1 AND team_id = $2 AND active = 1")
                    .bind(crate::roles::Role::Supervisor.as_str())
                    .bind(team.to_string())
                    .fetch_all(&mut *tx)
                    .await?
            }
            Recipient::Role(role) => {
                sqlx::query_as("SELECT id FROM users WHERE role = $1 AND active = 1")
                    .bind(role.as_str())
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let ids = ids
            .iter()
            .map(|(id,)| parse_uuid(id))
            .collect::<Result<Vec<_>, _>>()?;
        for id in &ids {
            if !found.contains(id) {
                found.push(*id);
            }
        }
        // The owner is not shared between records: not remembered.
        if !matches!(recipient, Recipient::Owner) {
            known.insert(key, ids);
        }
    }
    Ok(found)
}
