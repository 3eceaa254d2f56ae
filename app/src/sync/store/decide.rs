//! What each mutation does, decided in memory from the user, the mutation
//! and the record as it stands: a patch merged field by field, a command
//! by its aggregate's rule, a reference pointed at what the writer may see.
//! Nothing here touches the database.

use super::current::Current;
use super::sql::ROWS_PER_INSERT;
use super::writes::{new_secret, PendingRows, Write, Writes};
use crate::error::{AppError, FieldError, FieldProblem};
use crate::policy::{self, Ownership};
use crate::roles::CurrentUser;
use crate::ssr::DbError;
use crate::sync::entity::{CommandCall, Context, Entities, EntitySpec, Singles, Touch};
use crate::sync::{
    create, merge, merge_edit, Fields, Merged, Mutation, MutationResult, MutationStatus, Op, PushBatch,
    StoredRecord,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Mutations decided per chunk of rows sent to the database.
const DECIDE_CHUNK: usize = ROWS_PER_INSERT;
/// Decided chunks that may wait for the database.
pub(super) const CHUNKS_AHEAD: usize = 4;

/// What the deciding thread sends to the writing task.
pub(super) enum Decided {
    /// The rows of the next chunk of mutations.
    Chunk(PendingRows),
    /// Every mutation decided: the results, and the writes' last rows and
    /// change counter.
    Done {
        results: Vec<MutationResult>,
        writes: Writes,
    },
    Failed(DbError),
}

/// Decides every mutation of a batch in order, sending rows a chunk at a
/// time. Runs on a blocking thread; the parsed batch and the records it
/// read are freed here too, beside the commit rather than before it.
pub(super) fn decide_batch(
    entities: Entities,
    user: &CurrentUser,
    batch: PushBatch,
    mut answered: HashMap<Uuid, (MutationStatus, Uuid)>,
    (mut records, mut context): (HashMap<(&'static str, Uuid), Current>, Context),
    mut writes: Writes,
    sender: &tokio::sync::mpsc::Sender<Decided>,
) {
    let decide_all = || -> Result<Vec<MutationResult>, DbError> {
        let mut results = Vec::with_capacity(batch.mutations.len());
        for (n, mut mutation) in batch.mutations.into_iter().enumerate() {
            let id = mutation.id;
            let status = match answered.get(&id) {
                // Another user's mutation id: refuse, and reveal nothing of
                // its result, nor that it exists (it answers like a record
                // out of scope).
                Some((_, by)) if *by != user.id => rejected(AppError::NotFound),
                Some((original, _)) => MutationStatus::Duplicate {
                    original: Box::new(original.clone()),
                },
                None => {
                    let spec = entities
                        .spec(&mutation.entity)
                        .ok_or_else(|| DbError::Corrupt(format!("unchecked entity {}", mutation.entity)))?;
                    let key = (spec.name, mutation.record_id);
                    let now = writes.now;
                    let vouched = forward_references(entities, user, spec, &mut mutation.fields, &records);
                    let mut unseen = unseen_references(entities, user, spec, &mutation.fields, &records);
                    unseen.retain(|error| !vouched.contains(&error.field.as_str()));
                    let command = mutation.op == Op::Command;
                    context.records = if command {
                        named_records(entities, user, spec, &mutation.fields, &records)
                    } else {
                        BTreeMap::new()
                    };
                    let touched: Vec<(Touch, Uuid)> = spec
                        .touches
                        .iter()
                        .filter_map(|t| reference_id(&mutation.fields, t.field).map(|id| (*t, id)))
                        .collect();
                    let Decision { status, write } = decide(
                        user,
                        spec,
                        mutation,
                        records.get(&key),
                        (&context, unseen),
                        now,
                        &mut |series| writes.next_number(series),
                    );
                    if let Some(write) = write {
                        writes.record(user, spec, key.1, &write)?;
                        if let Some(absorbed) = write.absorbs {
                            absorb(entities, user, spec, (key.1, absorbed), &mut records, &mut writes)?;
                        }
                        if command {
                            *context.today.entry((spec.name, write.action)).or_default() += 1;
                        }
                        if !write.current.record.deleted {
                            for (touch, target) in touched {
                                touch_record(entities, user, touch, target, &mut records, &mut writes)?;
                            }
                        }
                        records.insert(key, write.current);
                    }
                    writes.answer(user, id, &status)?;
                    answered.insert(id, (status.clone(), user.id));
                    status
                }
            };
            results.push(MutationResult { id, status });
            if (n + 1) % DECIDE_CHUNK == 0 && sender.blocking_send(Decided::Chunk(writes.take())).is_err() {
                // The writing task has given up (a database error): stop.
                return Ok(results);
            }
        }
        Ok(results)
    };
    let message = match decide_all() {
        Ok(results) => Decided::Done { results, writes },
        Err(error) => Decided::Failed(error),
    };
    // Nobody listens if the writing task has already failed.
    let _ = sender.blocking_send(message);
}

/// How many merges a reference is followed through (a merged record
/// absorbed in turn by another).
pub(super) const MAX_FORWARDS: usize = 8;

/// Points each reference of a write that names a merged record at the
/// record that absorbed it (a visit made offline to a customer merged
/// meanwhile), as far as the loaded records say. Returns the fields so
/// pointed whose original the user could read: the writer named a record
/// of theirs, and the merge (not they) chose where it went, so the
/// reference stands even if the survivor is not theirs to see.
fn forward_references(
    entities: Entities,
    user: &CurrentUser,
    spec: &EntitySpec,
    fields: &mut Fields,
    records: &HashMap<(&'static str, Uuid), Current>,
) -> Vec<&'static str> {
    let mut vouched = Vec::new();
    for reference in spec.references() {
        let Some(target) = entities.spec(reference.entity) else {
            continue;
        };
        let Some(mark) = target.merged_into else {
            continue;
        };
        let Some(mut id) = reference_id(fields, reference.field) else {
            continue;
        };
        let mut moved = false;
        for _ in 0..MAX_FORWARDS {
            match records
                .get(&(target.name, id))
                .filter(|current| current.record.deleted)
                .and_then(|current| reference_id(&current.record.fields, mark))
            {
                Some(next) => {
                    id = next;
                    moved = true;
                }
                None => break,
            }
        }
        if moved {
            let named = reference_id(fields, reference.field)
                .and_then(|original| records.get(&(target.name, original)));
            if named.is_some_and(|current| policy::can_read(user, target.kind, current.ownership)) {
                vouched.push(reference.field);
            }
            fields.insert(
                reference.field.to_owned(),
                serde_json::Value::String(id.to_string()),
            );
        }
    }
    vouched
}

/// The records a command's arguments name that the actor may read, for
/// its rule's `Context`.
fn named_records(
    entities: Entities,
    user: &CurrentUser,
    spec: &EntitySpec,
    args: &Fields,
    records: &HashMap<(&'static str, Uuid), Current>,
) -> BTreeMap<Uuid, crate::sync::entity::Other> {
    let mut named = BTreeMap::new();
    for reference in spec.references() {
        let (Some(target), Some(id)) = (
            entities.spec(reference.entity),
            reference_id(args, reference.field),
        ) else {
            continue;
        };
        if let Some(current) = records.get(&(target.name, id)).filter(|current| {
            !current.record.deleted && policy::can_read(user, target.kind, current.ownership)
        }) {
            named.insert(
                id,
                crate::sync::entity::Other {
                    fields: current.record.fields.clone(),
                    ownership: current.ownership,
                },
            );
        }
    }
    named
}

/// The stored reference fields that name records of `entity`: (the
/// naming entity, its field).
pub(super) fn naming_fields(entities: Entities, entity: &str) -> Vec<(&'static EntitySpec, &'static str)> {
    entities
        .iter()
        .flat_map(|spec| {
            spec.references()
                .filter(move |r| r.entity == entity && spec.has_field(r.field))
                .map(move |r| (spec, r.field))
        })
        .collect()
}

/// A merge, once the surviving record's write is recorded: the absorbed
/// record is deleted and marked with the survivor's id, and every record
/// that names it is pointed at the survivor, as the same transaction's
/// writes by the same user. The records that name it were loaded before
/// deciding (`load_naming`); those made earlier in this batch are here too.
fn absorb(
    entities: Entities,
    user: &CurrentUser,
    spec: &'static EntitySpec,
    (survivor, absorbed): (Uuid, Uuid),
    records: &mut HashMap<(&'static str, Uuid), Current>,
    writes: &mut Writes,
) -> Result<(), DbError> {
    let Some(mark) = spec.merged_into else {
        return Ok(());
    };
    let survivor_id = serde_json::Value::String(survivor.to_string());
    let Some(current) = records.get(&(spec.name, absorbed)).filter(|c| !c.record.deleted) else {
        return Ok(());
    };
    let changes: Fields = std::iter::once((mark.to_owned(), survivor_id.clone())).collect();
    let Merged { mut record, .. } = merge(&current.record, current.record.version, &changes);
    record.deleted = true;
    let write = Write {
        current: Current {
            record,
            ownership: current.ownership,
            owner_name: current.owner_name.clone(),
        },
        action: "merged",
        before: Some(current.record.fields.clone()),
        after: Some(changes),
        previous_owner: None,
        absorbs: None,
        conflicts: Vec::new(),
    };
    writes.record(user, spec, absorbed, &write)?;
    records.insert((spec.name, absorbed), write.current);
    let absorbed_text = absorbed.to_string();
    for (naming, field) in naming_fields(entities, spec.name) {
        let ids: Vec<Uuid> = records
            .iter()
            .filter(|((entity, _), current)| {
                *entity == naming.name
                    && !current.record.deleted
                    && current
                        .record
                        .fields
                        .get(field)
                        .and_then(serde_json::Value::as_str)
                        == Some(absorbed_text.as_str())
            })
            .map(|((_, id), _)| *id)
            .collect();
        for id in ids {
            let current = &records[&(naming.name, id)];
            let changes: Fields = std::iter::once((field.to_owned(), survivor_id.clone())).collect();
            let Merged { record, .. } = merge(&current.record, current.record.version, &changes);
            let write = Write {
                current: Current {
                    record,
                    ownership: current.ownership,
                    owner_name: current.owner_name.clone(),
                },
                action: "merge_moved",
                before: current
                    .record
                    .fields
                    .get(field)
                    .map(|v| std::iter::once((field.to_owned(), v.clone())).collect()),
                after: Some(changes),
                previous_owner: None,
                absorbs: None,
                conflicts: Vec::new(),
            };
            writes.record(user, naming, id, &write)?;
            records.insert((naming.name, id), write.current);
        }
    }
    Ok(())
}

/// Marks the record a write touched (a visit's customer, followed up
/// now), as the same transaction's write by the same user. A target gone,
/// not loaded (the reference was refused) or not the writer's to change is
/// left alone.
fn touch_record(
    entities: Entities,
    user: &CurrentUser,
    touch: Touch,
    target: Uuid,
    records: &mut HashMap<(&'static str, Uuid), Current>,
    writes: &mut Writes,
) -> Result<(), DbError> {
    let Some(spec) = entities.spec(touch.entity) else {
        return Ok(());
    };
    // A record the writer may not mark (a pooled customer a rep only
    // reads) is left as it is.
    let Some(current) = records
        .get(&(spec.name, target))
        .filter(|c| !c.record.deleted && (touch.by)(user, spec.kind, c.ownership))
    else {
        return Ok(());
    };
    let changes: Fields =
        std::iter::once((touch.mark.to_owned(), crate::stored::instant_value(writes.now))).collect();
    let Merged {
        record,
        unchanged: nothing_new,
        ..
    } = merge(&current.record, current.record.version, &changes);
    if nothing_new {
        return Ok(());
    }
    let before: Fields = current
        .record
        .fields
        .get(touch.mark)
        .map(|v| (touch.mark.to_owned(), v.clone()))
        .into_iter()
        .collect();
    let write = Write {
        current: Current {
            record,
            ownership: current.ownership,
            owner_name: current.owner_name.clone(),
        },
        action: "touch",
        before: Some(before),
        after: Some(changes),
        previous_owner: None,
        absorbs: None,
        conflicts: Vec::new(),
    };
    writes.record(user, spec, target, &write)?;
    records.insert((spec.name, target), write.current);
    Ok(())
}

/// What one mutation does: its result, and the record's new state if it
/// changes.
pub(super) struct Decision {
    pub(super) status: MutationStatus,
    pub(super) write: Option<Write>,
}

pub(super) fn rejected(reason: AppError) -> MutationStatus {
    MutationStatus::Rejected { reason }
}

pub(super) fn unchanged(status: MutationStatus) -> Decision {
    Decision { status, write: None }
}

/// The next number of a series (`Writes::next_number`), for the command
/// that asks for one.
type Numbers<'a> = &'a mut dyn FnMut(&str) -> i64;

/// Decides one mutation against the record as it stands: access, the
/// entity's rules, and the field-level merge.
///
/// `unseen` are the mutation's references to records the user may not see
/// (`unseen_references`): refused once access to the record itself is
/// settled, so that an out-of-scope record still answers like a missing one.
pub(super) fn decide(
    user: &CurrentUser,
    spec: &EntitySpec,
    mutation: Mutation,
    current: Option<&Current>,
    (context, unseen): (&Context, Vec<FieldError>),
    now: DateTime<Utc>,
    numbers: Numbers,
) -> Decision {
    let Some(current) = current else {
        if mutation.op == Op::Delete || mutation.base_version != 0 {
            return unchanged(rejected(AppError::NotFound));
        }
        if mutation.op == Op::Command {
            return unchanged(rejected(AppError::NotFound));
        }
        if spec.single.is_some_and(|single| single != mutation.record_id) {
            return unchanged(rejected(AppError::refused("single_record")));
        }
        if !policy::can_create(user, spec.kind) {
            return unchanged(rejected(AppError::Forbidden));
        }
        if !unseen.is_empty() {
            return unchanged(crate::sync::invalid(unseen));
        }
        if let Some(refusal) = crate::sync::workflow_patch(spec, &mutation.fields) {
            return unchanged(rejected(refusal));
        }
        let mut record = create(mutation.fields);
        stamp(spec, &mut record, &context.singles);
        if let Err(errors) = spec.check(&record.fields, now) {
            return unchanged(crate::sync::invalid(errors));
        }
        return Decision {
            status: MutationStatus::Applied {
                version: record.version,
            },
            write: Some(Write {
                after: None,
                current: Current {
                    record,
                    ownership: Ownership {
                        owner_id: user.id,
                        owner_team_id: user.team_id,
                    },
                    owner_name: user.display_name.clone(),
                },
                action: "create",
                before: None,
                previous_owner: None,
                absorbs: None,
                conflicts: Vec::new(),
            }),
        };
    };
    let claim =
        mutation.op == Op::Command && spec.claim.is_some() && mutation.command.as_deref() == spec.claim;
    // Out of scope answers like missing, so probing ids reveals nothing;
    // a record one may read but not change (the general manager's) says so.
    if !policy::can_read(user, spec.kind, current.ownership) {
        // A pooled record a teammate claimed first: the one who may claim
        // it is told by whom, as a rule's refusal.
        if claim && policy::may_name_holder(user, spec.kind, current.ownership) {
            return unchanged(rejected(AppError::Refused {
                code: "pool_claimed".into(),
                by: Some(current.owner_name.clone()),
            }));
        }
        return unchanged(rejected(AppError::NotFound));
    }
    // Claiming from the pool is the one thing a reader of a pooled record
    // may do to it.
    let claiming = claim && policy::can_claim(user, spec.kind, current.ownership);
    if !claiming && !policy::can_write(user, spec.kind, current.ownership) {
        return unchanged(rejected(AppError::Forbidden));
    }
    if !unseen.is_empty() {
        return unchanged(crate::sync::invalid(unseen));
    }
    if current.record.deleted {
        return unchanged(match mutation.op {
            // Deleting twice is the same delete.
            Op::Delete => MutationStatus::Applied {
                version: current.record.version,
            },
            Op::Upsert | Op::Command => rejected(AppError::NotFound),
        });
    }
    if mutation.op == Op::Command {
        return decide_command(user, spec, mutation, current, context, now, numbers);
    }
    if let Some(refusal) = crate::sync::workflow_patch(spec, &mutation.fields) {
        return unchanged(rejected(refusal));
    }
    if let Some(code) = (spec.locked)(&current.record.fields) {
        return unchanged(rejected(AppError::refused(code)));
    }
    if mutation.op == Op::Delete {
        if spec.single.is_some() {
            return unchanged(rejected(AppError::refused("single_record")));
        }
        let mut record = current.record.clone();
        record.deleted = true;
        record.version += 1;
        return Decision {
            status: MutationStatus::Applied {
                version: record.version,
            },
            write: Some(Write {
                current: Current {
                    record,
                    ownership: current.ownership,
                    owner_name: current.owner_name.clone(),
                },
                action: "delete",
                before: Some(current.record.fields.clone()),
                after: None,
                previous_owner: None,
                absorbs: None,
                conflicts: Vec::new(),
            }),
        };
    }
    let Merged {
        mut record,
        conflicts,
        unchanged: nothing_new,
    } = merge_edit(&current.record, &mutation, spec.fields);
    if nothing_new {
        return unchanged(MutationStatus::Applied {
            version: record.version,
        });
    }
    stamp(spec, &mut record, &context.singles);
    if let Err(errors) = spec.check(&record.fields, now) {
        return unchanged(crate::sync::invalid(errors));
    }
    // The edited fields as they were and as stored (a field merged line by
    // line may differ from the edit).
    let edited = |fields: &Fields| -> Fields {
        mutation
            .fields
            .keys()
            .filter_map(|k| fields.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    };
    let (before, after) = (edited(&current.record.fields), edited(&record.fields));
    let status = if conflicts.is_empty() {
        MutationStatus::Applied {
            version: record.version,
        }
    } else {
        MutationStatus::Conflict {
            version: record.version,
            conflicts: conflicts.clone(),
        }
    };
    Decision {
        status,
        write: Some(Write {
            current: Current {
                record,
                ownership: current.ownership,
                owner_name: current.owner_name.clone(),
            },
            action: "update",
            before: Some(before),
            after: Some(after),
            previous_owner: None,
            absorbs: None,
            conflicts,
        }),
    }
}

/// The entity's stamp on a record about to be stored: the fields it sets
/// that differ, dated at the record's version (only the engine writes
/// them, so they never conflict with a device's edit).
fn stamp(spec: &EntitySpec, record: &mut StoredRecord, singles: &Singles) {
    let Some(stamp) = spec.stamp else { return };
    for (field, value) in stamp(&record.fields, record.version == 1, singles) {
        if record.fields.get(&field) == Some(&value) {
            continue;
        }
        // A new record's fields all date from version 1 without entries.
        if record.version > 1 {
            record.field_versions.insert(field.clone(), record.version);
        }
        record.fields.insert(field, value);
    }
}

/// Decides a command: the entity's pure `decide` against the record as it
/// stands now (not as the device saw it: a command's rules are about the
/// present), then the entity's check of the record it would leave.
pub(super) fn decide_command(
    user: &CurrentUser,
    spec: &EntitySpec,
    mutation: Mutation,
    current: &Current,
    context: &Context,
    now: DateTime<Utc>,
    numbers: Numbers,
) -> Decision {
    let Some(action) = mutation
        .command
        .as_deref()
        .and_then(|name| spec.commands.iter().copied().find(|c| *c == name))
    else {
        return unchanged(rejected(AppError::refused("unknown_command")));
    };
    let call = CommandCall {
        name: action,
        args: &mutation.fields,
        record: &current.record.fields,
        ownership: current.ownership,
        actor: user,
        now,
        context,
    };
    let (mut changes, number, new_owner, secret, absorbs) = match (spec.decide)(&call) {
        Ok(decided) => (
            decided.changes,
            decided.number,
            decided.owner,
            decided.secret,
            decided.absorbs,
        ),
        Err(refusal) => return unchanged(rejected(refusal.into())),
    };
    // A record absorbed is deleted: the actor must be one who may change
    // it, and it must be another record of an entity whose records merge.
    if let Some(absorbed) = absorbs {
        let allowed = spec.merged_into.is_some()
            && absorbed != mutation.record_id
            && context
                .records
                .get(&absorbed)
                .is_some_and(|other| policy::can_write(user, spec.kind, other.ownership));
        if !allowed {
            return unchanged(rejected(AppError::NotFound));
        }
    }
    if let Some(field) = secret {
        changes.insert(field.to_owned(), new_secret());
    }
    // A move goes only to a person the rule was shown, to the actor (a
    // claim), or to the team's pool (a return), and the record takes the
    // new owner's team with it.
    let team_pool = current.ownership.owner_team_id.map(policy::pool_owner);
    const POOL_NAME: &str = policy::POOL_NAME;
    let (ownership, owner_name, previous_owner) = match new_owner {
        Some(owner) if owner == current.ownership.owner_id => {
            (current.ownership, current.owner_name.clone(), None)
        }
        Some(owner) if owner == user.id => (
            Ownership {
                owner_id: user.id,
                owner_team_id: user.team_id,
            },
            user.display_name.clone(),
            Some(current.ownership.owner_id),
        ),
        Some(owner) if Some(owner) == team_pool => (
            Ownership {
                owner_id: owner,
                owner_team_id: current.ownership.owner_team_id,
            },
            POOL_NAME.to_owned(),
            Some(current.ownership.owner_id),
        ),
        Some(owner) => match context.people.get(&owner) {
            Some(person) => (
                Ownership {
                    owner_id: person.id,
                    owner_team_id: person.team_id,
                },
                person.display_name.clone(),
                Some(current.ownership.owner_id),
            ),
            None => return unchanged(rejected(AppError::NotFound)),
        },
        None => (current.ownership, current.owner_name.clone(), None),
    };
    let Merged {
        record,
        unchanged: nothing_new,
        ..
    } = merge(&current.record, current.record.version, &changes);
    if nothing_new && previous_owner.is_none() {
        return unchanged(MutationStatus::Applied {
            version: record.version,
        });
    }
    if let Err(errors) = spec.check(&record.fields, now) {
        return unchanged(crate::sync::invalid(errors));
    }
    let mut record = record;
    if nothing_new {
        // Only the owner moves: still a new version, so devices take it.
        record.version += 1;
    }
    if let Some(request) = number {
        // Given last, once every rule and check has held: a refused command
        // never takes a number, so a series has no gap.
        let code = serde_json::Value::String(request.format(numbers(&request.series)));
        record.fields.insert(request.field.to_owned(), code.clone());
        record
            .field_versions
            .insert(request.field.to_owned(), record.version);
        changes.insert(request.field.to_owned(), code);
    }
    let before: Fields = changes
        .keys()
        .filter_map(|k| current.record.fields.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    Decision {
        status: MutationStatus::Applied {
            version: record.version,
        },
        write: Some(Write {
            current: Current {
                record,
                ownership,
                owner_name,
            },
            action,
            before: Some(before),
            after: Some(changes),
            previous_owner,
            absorbs,
            conflicts: Vec::new(),
        }),
    }
}

/// The record id a reference field holds, if it holds one (a value that
/// is no id is the entity's check's to refuse).
pub(super) fn reference_id(fields: &Fields, field: &str) -> Option<Uuid> {
    fields
        .get(field)
        .and_then(serde_json::Value::as_str)
        .and_then(|raw| Uuid::parse_str(raw).ok())
}

/// The references of a mutation that name no record the user may see: a
/// missing one, a deleted one and one out of scope alike. A record made
/// earlier in the same batch is in `records` by then.
fn unseen_references(
    entities: Entities,
    user: &CurrentUser,
    spec: &EntitySpec,
    fields: &Fields,
    records: &HashMap<(&'static str, Uuid), Current>,
) -> Vec<FieldError> {
    spec.references()
        .filter(|reference| {
            let Some(id) = reference_id(fields, reference.field) else {
                return false;
            };
            let Some(target) = entities.spec(reference.entity) else {
                return true;
            };
            !records.get(&(target.name, id)).is_some_and(|current| {
                !current.record.deleted && policy::can_read(user, target.kind, current.ownership)
            })
        })
        .map(|reference| FieldError::new(reference.field, FieldProblem::UnknownReference))
        .collect()
}
