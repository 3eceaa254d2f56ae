//! Sync: the protocol between a client's outbox and the server, and the pure
//! rules that apply a mutation to a record. `store` (server only) runs them
//! inside one database transaction per batch; `api` exposes
//! `POST /api/sync/push` and `POST /api/sync/pull`. See docs/sync.md.

pub mod api;
pub mod entity;
pub mod history;
#[cfg(feature = "ssr")]
pub mod store;

use crate::error::{AppError, FieldError};
use crate::schema::{Field, Input, LinesMerged, Merge};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The most mutations one push may carry; more is refused with 413.
pub const MAX_BATCH: usize = 1000;
/// The most records one pull page returns.
pub const MAX_PAGE: usize = 1000;

pub use crate::stored::Fields;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Create the record, or change the given fields of it.
    Upsert,
    /// Delete the record (it stays as a tombstone).
    Delete,
    /// Run one of the entity's commands (`command`, with `fields` as its
    /// arguments) on an existing record: the entity decides what changes.
    Command,
}

/// One change made on a client, possibly long before it reaches the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// Made by the client (UUID); the server applies each id at most once.
    pub id: Uuid,
    pub entity: String,
    /// The record's id, a UUID v7 made on the client when it created it.
    pub record_id: Uuid,
    /// The record version the client's edit was based on; 0 for a new record.
    pub base_version: i64,
    pub op: Op,
    /// The changed fields only (all required fields for a new record); a
    /// command's arguments.
    #[serde(default)]
    pub fields: Fields,
    /// The command's name, with `op: command` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The values the edit started from, of the fields it changes that
    /// merge line by line (`schema::Merge::ByLine`), as the device held
    /// them: what lets the server tell the lines this edit added, removed
    /// or changed from those a concurrent edit did. Without it such a field
    /// merges as the later arrival.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub base: Fields,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBatch {
    /// The device that sends the batch, for logs and diagnostics.
    pub client_id: Uuid,
    /// The server's epoch as the device last pulled it (`PullPage::epoch`),
    /// `None` before its first pull: a batch made against another epoch
    /// (the database was restored since) is refused whole, unapplied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    pub mutations: Vec<Mutation>,
}

/// A same-field concurrent edit: the later arrival (this mutation) won; the
/// value it replaced is kept here for the user to see and resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    /// The value now stored (this mutation's).
    pub kept: Value,
    /// The value the other edit had written, which this one replaced.
    pub lost: Value,
}

/// A same-field edit that lost, waiting for someone who may change the
/// record to look at it (`POST /api/sync/conflicts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenConflict {
    pub id: Uuid,
    pub entity: String,
    pub record_id: Uuid,
    /// What names the record (its company or customer), for the list.
    pub title: String,
    pub field: String,
    /// The value the record holds now.
    pub current: Value,
    /// The value that was overwritten.
    pub overwritten: Value,
    /// Who made the edit that won.
    pub changed_by: String,
    pub at: DateTime<Utc>,
}

/// How a conflict is settled (`POST /api/sync/resolve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// Leave the record as it is.
    Current,
    /// Write the overwritten value back, as a new change.
    Overwritten,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MutationStatus {
    Applied {
        version: i64,
    },
    /// Applied, but some fields overwrote a concurrent edit.
    Conflict {
        version: i64,
        conflicts: Vec<FieldConflict>,
    },
    /// Not applied: the record is unchanged. The reason says why.
    Rejected {
        reason: AppError,
    },
    /// Already applied earlier: this is the result it had then.
    Duplicate {
        original: Box<MutationStatus>,
    },
}

impl MutationStatus {
    /// Whether the server holds this mutation's effect: a device keeps such
    /// a mutation for `RESEND_DAYS`, to send again after a restore.
    pub fn stored(&self) -> bool {
        match self {
            Self::Applied { .. } | Self::Conflict { .. } => true,
            Self::Rejected { .. } => false,
            Self::Duplicate { original } => original.stored(),
        }
    }
}

/// How long a device keeps the mutations the server acknowledged, to send
/// them again if the server is restored from a backup older than them
/// (`AppError::EpochChanged`). A restore from an older backup loses what
/// devices sent before this many days.
pub const RESEND_DAYS: i64 = 30;

/// The mutation ids older than `RESEND_DAYS` before `now_ms` sort before
/// this one: mutation ids are UUID v7, whose first 48 bits are the time
/// they were made, so their text sorts by time too.
pub fn resend_horizon(now_ms: i64) -> Uuid {
    let cutoff = now_ms.saturating_sub(RESEND_DAYS * 24 * 3_600_000).max(0);
    uuid::Builder::from_unix_timestamp_millis(cutoff as u64, &[0; 10]).into_uuid()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    pub id: Uuid,
    #[serde(flatten)]
    pub status: MutationStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    pub results: Vec<MutationResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// The cursor of the last page pulled; 0 for a fresh client.
    pub cursor: i64,
    #[serde(default = "default_page")]
    pub limit: usize,
    /// The epoch the cursor belongs to; `None` with cursor 0 on a first
    /// pull. A cursor of another epoch means nothing to this database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
}

fn default_page() -> usize {
    MAX_PAGE
}

/// One record as the client should now hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PulledChange {
    /// Store (or replace) this record.
    Upsert {
        entity: String,
        id: Uuid,
        version: i64,
        owner_id: Uuid,
        /// The owner's display name, so lists can say whose it is offline.
        owner_name: String,
        fields: PulledFields,
    },
    /// Deleted on the server: keep a tombstone, show it no more.
    Deleted { entity: String, id: Uuid, version: i64 },
    /// No longer in this user's scope (e.g. reassigned): drop the local copy.
    Removed { entity: String, id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub changes: Vec<PulledChange>,
    /// Pass this as `cursor` next time.
    pub cursor: i64,
    /// More changes wait: pull again at once.
    pub has_more: bool,
    /// The database's epoch, which the cursor belongs to: it changes only
    /// when the database is restored from a backup (`fieldbook restore`).
    pub epoch: String,
}

/// A pulled record's fields. The server sends the JSON text it stores as it
/// is: parsing every record and writing it out again was most of a pull's
/// work on the server, and most of the memory of a page in flight. A client
/// receives them parsed, once. (Not a bare `RawValue`: it cannot be read
/// inside an internally tagged enum such as `PulledChange`.)
#[derive(Debug, Clone)]
pub enum PulledFields {
    /// The stored JSON text, checked to be one JSON value.
    Stored(Box<serde_json::value::RawValue>),
    Parsed(Fields),
}

impl PulledFields {
    /// Wraps stored text, checking that it is JSON (without building it).
    pub fn stored(text: String) -> Result<Self, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(Self::Stored)
    }

    pub fn into_fields(self) -> Result<Fields, serde_json::Error> {
        match self {
            Self::Stored(text) => serde_json::from_str(text.get()),
            Self::Parsed(fields) => Ok(fields),
        }
    }
}

impl Serialize for PulledFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Stored(text) => text.serialize(serializer),
            Self::Parsed(fields) => fields.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PulledFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Fields::deserialize(deserializer).map(Self::Parsed)
    }
}

impl PartialEq for PulledFields {
    /// The same fields, however they are held.
    fn eq(&self, other: &Self) -> bool {
        let fields = |f: &Self| f.clone().into_fields().ok();
        fields(self) == fields(other)
    }
}

/// A record as the server holds it, for merging.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredRecord {
    pub version: i64,
    pub deleted: bool,
    pub fields: Fields,
    /// The record version at which each field last changed since the record
    /// was made. A field not named here was set when the record was made
    /// (version 1) if the record has it, and never if not (0): a new record
    /// stores no field versions at all.
    pub field_versions: BTreeMap<String, i64>,
}

impl StoredRecord {
    /// The record version at which `field` last changed.
    pub fn field_changed_at(&self, field: &str) -> i64 {
        match self.field_versions.get(field) {
            Some(version) => *version,
            None if self.fields.contains_key(field) => 1,
            None => 0,
        }
    }
}

/// What applying a mutation to a stored record gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub record: StoredRecord,
    pub conflicts: Vec<FieldConflict>,
    /// Nothing changed (every field already had the mutation's value).
    pub unchanged: bool,
}

/// Applies an upsert's fields to the stored record.
///
/// Fields the mutation does not name keep the server's values, so concurrent
/// edits of different fields merge. A named field that changed on the server
/// after `base_version` is a concurrent edit of the same field: the mutation
/// (the later arrival) wins and the replaced value becomes a conflict.
pub fn merge(current: &StoredRecord, base_version: i64, changes: &Fields) -> Merged {
    merge_by_rule(current, base_version, changes, |_, _, _| None)
}

/// Applies a device's upsert to the stored record, each field by the merge
/// rule its declaration gives (`schema::Merge`): `merge`, except that a
/// concurrent edit of lines merges line by line when the mutation says
/// what its edit started from (`Mutation::base`).
pub fn merge_edit(current: &StoredRecord, mutation: &Mutation, fields: &'static [Field]) -> Merged {
    merge_by_rule(
        current,
        mutation.base_version,
        &mutation.fields,
        |name, stored, edited| {
            let declared = crate::schema::find(fields, name)?;
            let (Merge::ByLine, Input::Lines(lines)) = (declared.merge, declared.input) else {
                return None;
            };
            let (Some(base), Some(stored), Some(edited)) = (
                mutation.base.get(name).and_then(lines_of),
                lines_of(stored),
                lines_of(edited),
            ) else {
                return None;
            };
            // A list longer than lines may be is refused by the check of
            // what the edit leaves; it is not merged first.
            [base, stored, edited]
                .iter()
                .all(|l| l.len() <= lines.max)
                .then(|| lines.merge(base, stored, edited))
        },
    )
}

/// `merge`, with `by_line` merging a concurrent edit of a field line by
/// line where its rule says so (`None`: the later arrival wins).
fn merge_by_rule(
    current: &StoredRecord,
    base_version: i64,
    changes: &Fields,
    by_line: impl Fn(&str, &Value, &Value) -> Option<LinesMerged>,
) -> Merged {
    let new_version = current.version + 1;
    let mut record = current.clone();
    let mut conflicts = Vec::new();
    let mut unchanged = true;
    for (field, value) in changes {
        let old = current.fields.get(field).unwrap_or(&Value::Null);
        if old == value {
            continue;
        }
        let mut value = value.clone();
        if current.field_changed_at(field) > base_version {
            let (merged, lost, clashed) = match by_line(field, old, &value) {
                Some(LinesMerged {
                    lines,
                    clashed,
                    other,
                }) => (stored_lines(lines), stored_lines(other), clashed),
                None => (value, old.clone(), true),
            };
            // A clash is kept even where the merge left the value as it
            // was (a line changed here that the device removed).
            if !clashed && merged == *old {
                continue;
            }
            if clashed {
                conflicts.push(FieldConflict {
                    field: field.clone(),
                    kept: merged.clone(),
                    lost,
                });
            }
            value = merged;
        }
        unchanged = false;
        record.fields.insert(field.clone(), value);
        record.field_versions.insert(field.clone(), new_version);
    }
    if !unchanged {
        record.version = new_version;
    }
    Merged {
        record,
        conflicts,
        unchanged,
    }
}

/// A value as lines, if it is: no lines (an emptied list, sent as `null`)
/// are lines too.
fn lines_of(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(lines) => Some(lines),
        Value::Null => Some(&[]),
        _ => None,
    }
}

/// Lines as stored: none is `null`, as a form sends an emptied list.
fn stored_lines(lines: Vec<Value>) -> Value {
    if lines.is_empty() {
        Value::Null
    } else {
        Value::Array(lines)
    }
}

/// A new record from its first mutation: every field at version 1.
pub fn create(fields: Fields) -> StoredRecord {
    StoredRecord {
        version: 1,
        deleted: false,
        fields,
        field_versions: BTreeMap::new(),
    }
}

/// Checks a batch's shape before anything is applied: size, known entities,
/// known fields and commands. A malformed batch is refused whole. (A patch
/// of a workflow field is well formed: it is refused alone, with a reason.)
pub fn check_batch(entities: &entity::Entities, batch: &PushBatch) -> Result<(), AppError> {
    if batch.mutations.len() > MAX_BATCH {
        return Err(AppError::TooLarge { limit: MAX_BATCH });
    }
    for mutation in &batch.mutations {
        let bad = |detail: String| AppError::BadRequest {
            detail: format!("mutation {}: {detail}", mutation.id),
        };
        let spec = entities
            .spec(&mutation.entity)
            .ok_or_else(|| bad(format!("unknown entity {:?}", mutation.entity)))?;
        match (mutation.op, &mutation.command) {
            (Op::Command, Some(name)) if spec.commands.contains(&name.as_str()) => {}
            (Op::Command, Some(name)) => return Err(bad(format!("{} has no command {name:?}", spec.name))),
            (Op::Command, None) => return Err(bad("a command mutation names its command".into())),
            (_, Some(_)) => return Err(bad("only a command mutation names a command".into())),
            (Op::Upsert | Op::Delete, None) => {
                if let Some(field) = mutation.fields.keys().find(|f| !spec.has_field(f)) {
                    return Err(bad(format!("{} has no field {field:?}", spec.name)));
                }
            }
        }
        if mutation.op == Op::Delete && !mutation.fields.is_empty() {
            return Err(bad("a delete carries no fields".into()));
        }
        if let Some(field) = mutation.base.keys().find(|f| !mutation.fields.contains_key(*f)) {
            return Err(bad(format!(
                "base names {field:?}, which the mutation does not change"
            )));
        }
        if mutation.op != Op::Upsert && !mutation.base.is_empty() {
            return Err(bad("only an upsert carries a base".into()));
        }
        if mutation.base_version < 0 {
            return Err(bad("negative base_version".into()));
        }
    }
    Ok(())
}

/// The refusal of a field patch (or a create) that sets a workflow field,
/// which only the entity's commands change.
pub fn workflow_patch(spec: &entity::EntitySpec, fields: &Fields) -> Option<AppError> {
    let named: Vec<FieldError> = spec
        .workflow()
        .filter(|field| fields.contains_key(*field))
        .map(|field| FieldError::new(field, crate::error::FieldProblem::SetByCommand))
        .collect();
    (!named.is_empty()).then(|| AppError::invalid(named))
}

/// A rule violation of one mutation, as its rejection reason.
pub fn invalid(errors: Vec<FieldError>) -> MutationStatus {
    MutationStatus::Rejected {
        reason: AppError::invalid(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        value.as_object().unwrap().clone()
    }

    const NAMES: crate::schema::Lines = crate::schema::Lines {
        fields: &[crate::schema::field("name", Input::Text, "姓名", "Name").required()],
        flag: None,
        max: 2,
        text_before: false,
    };
    const DECLARED: &[Field] = &[crate::schema::field(
        "people",
        Input::Lines(&NAMES),
        "人员",
        "People",
    )];

    #[test]
    fn a_concurrent_edit_of_lines_merges_line_by_line_only_from_a_base_within_bounds() {
        let line = |name: &str| json!({ "name": name });
        // Version 2 added 李娜 to version 1's 王建国.
        let current = StoredRecord {
            version: 2,
            deleted: false,
            fields: fields(json!({"people": [line("王建国"), line("李娜")]})),
            field_versions: BTreeMap::from([("people".to_owned(), 2)]),
        };
        let edit = |base: Value| Mutation {
            id: Uuid::now_v7(),
            entity: "team".into(),
            record_id: Uuid::nil(),
            base_version: 1,
            op: Op::Upsert,
            fields: fields(json!({"people": [line("王建国"), line("赵磊")]})),
            command: None,
            base: fields(json!({ "people": base })),
        };
        let merged = merge_edit(&current, &edit(json!([line("王建国")])), DECLARED);
        assert_eq!(
            merged.record.fields["people"],
            json!([line("王建国"), line("李娜"), line("赵磊")])
        );
        assert!(merged.conflicts.is_empty());
        // The device removed every line (sent as `null`): 李娜, added
        // since, stays.
        let mut emptied = edit(json!([line("王建国")]));
        emptied.fields = fields(json!({ "people": null }));
        let merged = merge_edit(&current, &emptied, DECLARED);
        assert_eq!(
            merged.record.fields["people"],
            json!([line("王建国"), line("李娜")][1..])
        );
        assert!(merged.conflicts.is_empty());
        // The device removed 李娜, changed here since: kept, as a conflict
        // whose other side is the removal.
        let known = |n: u8, name: &str| json!({"id": format!("0193a1b2-0000-7000-8000-0000000000{n:02}"), "name": name});
        let mut changed = current.clone();
        changed.fields = fields(json!({"people": [known(1, "王建国"), known(2, "李娜娜")]}));
        changed.version = 3;
        changed.field_versions.insert("people".into(), 3);
        let mut removal = edit(json!([known(1, "王建国"), known(2, "李娜")]));
        removal.base_version = 2;
        removal.fields = fields(json!({"people": [known(1, "王建国")]}));
        let merged = merge_edit(&changed, &removal, DECLARED);
        assert_eq!(merged.record.fields["people"], changed.fields["people"]);
        assert!(!merged.unchanged);
        assert_eq!(merged.conflicts[0].lost, json!([known(1, "王建国")]));
        // A base longer than the lines may be, or not lines at all: the
        // later arrival wins, as a conflict.
        for base in [json!([line("王建国"), line("a"), line("b")]), json!("王建国")] {
            let merged = merge_edit(&current, &edit(base), DECLARED);
            assert_eq!(
                merged.record.fields["people"],
                json!([line("王建国"), line("赵磊")])
            );
            assert_eq!(merged.conflicts.len(), 1);
        }
    }

    #[test]
    fn the_resend_horizon_orders_mutation_ids_by_the_time_they_were_made() {
        let day = 24 * 3_600_000;
        let now = 1_796_000_000_000;
        let horizon = resend_horizon(now).to_string();
        let made = |ms: i64| uuid::Builder::from_unix_timestamp_millis(ms as u64, &[0xff; 10]).into_uuid();
        // Kept: made within the last 30 days, to the millisecond.
        assert!(made(now - RESEND_DAYS * day).to_string() > horizon);
        assert!(made(now).to_string() > horizon);
        // Dropped: older by a millisecond, even with the largest random bits.
        assert!(made(now - RESEND_DAYS * day - 1).to_string() < horizon);
        assert!(resend_horizon(0).to_string() <= Uuid::now_v7().to_string());
    }

    #[test]
    fn only_what_the_server_stored_is_kept_to_send_again() {
        let refused = MutationStatus::Rejected {
            reason: AppError::NotFound,
        };
        assert!(MutationStatus::Applied { version: 1 }.stored());
        assert!(!refused.stored());
        assert!(MutationStatus::Duplicate {
            original: Box::new(MutationStatus::Applied { version: 2 })
        }
        .stored());
        assert!(!MutationStatus::Duplicate {
            original: Box::new(refused)
        }
        .stored());
    }

    #[test]
    fn a_page_of_stored_fields_reads_back_as_parsed_fields() {
        let stored = r#"{"company":"苏州恒达","staff":120,"tags":["A"]}"#;
        let page = PullPage {
            changes: vec![PulledChange::Upsert {
                entity: "lead".into(),
                id: Uuid::nil(),
                version: 2,
                owner_id: Uuid::nil(),
                owner_name: "李娜".into(),
                fields: PulledFields::stored(stored.into()).unwrap(),
            }],
            cursor: 7,
            has_more: false,
            epoch: "e1".into(),
        };
        let text = serde_json::to_string(&page).unwrap();
        assert!(text.contains(stored), "{text}");
        let read: PullPage = serde_json::from_str(&text).unwrap();
        let PulledChange::Upsert {
            fields: read_fields, ..
        } = &read.changes[0]
        else {
            panic!("{read:?}");
        };
        let expected = fields(json!({"company": "苏州恒达", "staff": 120, "tags": ["A"]}));
        assert_eq!(read_fields.clone().into_fields().unwrap(), expected);
        assert_eq!(read, page);
        assert!(PulledFields::stored("{\"company\":".into()).is_err());
    }

    #[test]
    fn edits_of_different_fields_merge_without_conflict() {
        let v1 = create(fields(json!({"company": "甲", "grade": "B"})));
        let by_a = merge(&v1, 1, &fields(json!({"company": "甲乙"})));
        let by_b = merge(&by_a.record, 1, &fields(json!({"grade": "A"})));
        assert!(by_b.conflicts.is_empty());
        assert_eq!(
            by_b.record.fields,
            fields(json!({"company": "甲乙", "grade": "A"}))
        );
        assert_eq!(by_b.record.version, 3);
    }

    #[test]
    fn the_later_arrival_wins_a_same_field_edit_and_the_other_value_is_kept() {
        let v1 = create(fields(json!({"grade": "B"})));
        let by_a = merge(&v1, 1, &fields(json!({"grade": "A"})));
        let by_b = merge(&by_a.record, 1, &fields(json!({"grade": "C"})));
        assert_eq!(by_b.record.fields["grade"], "C");
        assert_eq!(
            by_b.conflicts,
            [FieldConflict {
                field: "grade".into(),
                kept: json!("C"),
                lost: json!("A")
            }]
        );
    }

    #[test]
    fn an_edit_based_on_the_latest_version_is_no_conflict() {
        let v1 = create(fields(json!({"grade": "B"})));
        let v2 = merge(&v1, 1, &fields(json!({"grade": "A"}))).record;
        let v3 = merge(&v2, 2, &fields(json!({"grade": "C"})));
        assert!(v3.conflicts.is_empty());
    }

    #[test]
    fn a_new_record_stores_no_field_versions_yet_its_fields_date_from_version_1() {
        let v1 = create(fields(json!({"grade": "B"})));
        assert!(v1.field_versions.is_empty());
        assert_eq!(
            (v1.field_changed_at("grade"), v1.field_changed_at("notes")),
            (1, 0)
        );
        // An edit based on no version of the record: its grade was set since
        // (a conflict), its notes never were.
        let blind = merge(&v1, 0, &fields(json!({"grade": "A", "notes": "新"})));
        let lost: Vec<&str> = blind.conflicts.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(lost, ["grade"]);
        assert_eq!(blind.record.field_changed_at("notes"), 2);
    }

    #[test]
    fn writing_the_same_value_changes_nothing() {
        let v1 = create(fields(json!({"grade": "B"})));
        let same = merge(&v1, 0, &fields(json!({"grade": "B"})));
        assert!(same.unchanged && same.conflicts.is_empty());
        assert_eq!(same.record.version, 1);
    }
}
