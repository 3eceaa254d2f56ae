//! The rows of one transaction (records, change log, answers, audit trail,
//! conflicts, projections, clocks), gathered in memory and sent as
//! multi-row statements, under the change counter `Writes::begin` takes.

use super::current::{load, Current};
use super::sql::{insert_rows, json, placeholders, IdText, Param, Rows, IDS_PER_QUERY};
use crate::roles::CurrentUser;
use crate::ssr::{to_millis, DbError};
use crate::sync::entity::{Clock, ClockCall, Entities, EntitySpec, Projected, Projection, Singles};
use crate::sync::{FieldConflict, Fields, MutationStatus, StoredRecord};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Rows gathered in memory and inserted together, a multi-row INSERT per
/// table.
pub(super) struct PendingRows {
    /// The last state of each written record, and whether the record is
    /// new here (so has no row yet).
    pub(super) records: BTreeMap<(&'static str, Uuid), Fresh<[Param; RECORD_WIDTH]>>,
    pub(super) changes: Rows,
    pub(super) answers: Rows,
    pub(super) audit: Rows,
    pub(super) conflicts: Rows,
    /// The last projected row of each written record, per projection, and
    /// whether the record is new here.
    pub(super) projected: BTreeMap<&'static str, (&'static Projection, ProjectedRows)>,
    /// The running clocks of each written record of an entity with clocks,
    /// and whether the record is new here (so has no clock rows yet).
    pub(super) clocks: BTreeMap<(&'static str, Uuid), Fresh<Vec<Clock>>>,
}

/// The writes of one transaction, gathered in memory and sent together by
/// `finish` (or a chunk at a time, by `take`). Holds the change counter
/// taken by `begin`.
pub(super) struct Writes {
    pub(super) now: DateTime<Utc>,
    pub(super) seq: i64,
    pub(super) start: i64,
    pub(super) rows: PendingRows,
    /// Number series as this transaction leaves them (loaded at `begin`,
    /// written back by `finish`), and which of them it advanced.
    pub(super) series: HashMap<String, i64>,
    pub(super) advanced: std::collections::BTreeSet<String>,
    /// The single entities' records as the transaction found them (the
    /// company's settings), for the clocks it plans.
    pub(super) singles: Singles,
}

/// A row, and whether its record is new in this transaction (so has no
/// row yet).
pub(super) type Fresh<Row> = (bool, Row);

/// A projection's rows, by record.
pub(super) type ProjectedRows = BTreeMap<Uuid, Fresh<Vec<Param>>>;

/// Values per row of `records`.
const RECORD_WIDTH: usize = 10;
const RECORD_COLUMNS: [&str; RECORD_WIDTH] = [
    "entity",
    "id",
    "owner_id",
    "version",
    "deleted",
    "data",
    "field_versions",
    "created_by",
    "created_at",
    "updated_at",
];

impl Writes {
    /// Takes the change counter: from here this transaction is the only writer.
    pub(super) async fn begin(
        tx: &mut AnyConnection,
        now: DateTime<Utc>,
        entities: Entities,
    ) -> Result<Self, DbError> {
        if tx.backend_name() == "PostgreSQL" {
            // Plan each lookup for its own ids. A generic plan of
            // `id IN ($2, …, $501)` made before autovacuum has analysed a
            // freshly loaded `records` walks every record of the entity:
            // 0.9 s per 500 ids at 100,000 records, against 16 ms.
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
                .execute(&mut *tx)
                .await?;
        }
        let (seq,): (i64,) = sqlx::query_as("UPDATE sync_counter SET seq = seq WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *tx)
            .await?;
        // Every series, read while holding the counter: small (a row per
        // prefix, e.g. per year), and read here because deciding happens on
        // a thread that cannot query.
        let series: Vec<(String, i64)> = sqlx::query_as("SELECT series, last FROM number_series")
            .fetch_all(&mut *tx)
            .await?;
        let singles = load_singles(tx, entities).await?;
        Ok(Self {
            now,
            seq,
            start: seq,
            rows: PendingRows::new(),
            series: series.into_iter().collect(),
            advanced: Default::default(),
            singles,
        })
    }

    /// The next number of a series, given once.
    pub(super) fn next_number(&mut self, series: &str) -> i64 {
        let last = self.series.entry(series.to_owned()).or_insert(0);
        *last += 1;
        self.advanced.insert(series.to_owned());
        *last
    }

    /// The rows gathered so far, to be inserted before those still to come.
    pub(super) fn take(&mut self) -> PendingRows {
        std::mem::replace(&mut self.rows, PendingRows::new())
    }

    /// A record's new state, its change-log entry, its audit entry and the
    /// values it lost to same-field edits.
    pub(super) fn record(
        &mut self,
        user: &CurrentUser,
        spec: &'static EntitySpec,
        id: Uuid,
        write: &Write,
    ) -> Result<(), DbError> {
        let at = to_millis(self.now);
        let owner = IdText::new(write.current.ownership.owner_id);
        let (id_text, user_id) = (IdText::new(id), IdText::new(user.id));
        let record = &write.current.record;
        // A create is decided only for a record the transaction found
        // absent, and a record written twice in one chunk keeps the first
        // write's freshness: a new record's rows go in by a plain INSERT,
        // which PostgreSQL does in half the time of an upsert.
        let fresh = write.action == "create";
        let data = json(&record.fields)?;
        let after = match (&write.after, write.action) {
            (Some(fields), _) => Some(json(fields)?),
            (None, "create") => Some(data.clone()),
            (None, _) => None,
        };
        if let Some(clocks) = spec.clocks {
            let running = if record.deleted {
                Vec::new()
            } else {
                (clocks.running)(&ClockCall {
                    id,
                    record: &record.fields,
                    tz: user.tz(),
                    singles: &self.singles,
                })
            };
            self.rows
                .clocks
                .entry((spec.name, id))
                .and_modify(|(_, clocks)| clocks.clone_from(&running))
                .or_insert((fresh, running));
        }
        if let Some(projection) = spec.projection {
            let row = projected_row(projection, id_text, owner, record);
            self.rows
                .projected
                .entry(projection.table)
                .or_insert_with(|| (projection, BTreeMap::new()))
                .1
                .entry(id)
                .or_insert((fresh, Vec::new()))
                .1 = row;
        }
        let row = [
            Param::Name(spec.name),
            Param::Id(id_text),
            Param::Id(owner),
            Param::Int(record.version),
            Param::Int(i64::from(record.deleted)),
            Param::Text(data),
            Param::Text(json(&record.field_versions)?),
            Param::Id(owner),
            Param::Int(at),
            Param::Int(at),
        ];
        match self.rows.records.entry((spec.name, id)) {
            Entry::Occupied(mut written) => written.get_mut().1 = row,
            Entry::Vacant(new) => {
                new.insert((fresh, row));
            }
        }
        self.seq += 1;
        self.rows.changes.push([
            Param::Int(self.seq),
            Param::Name(spec.name),
            Param::Id(id_text),
            Param::Id(owner),
            Param::MaybeId(write.previous_owner.map(IdText::new)),
            Param::Int(at),
        ]);
        self.rows.audit.push([
            Param::Int(at),
            Param::Id(user_id),
            Param::Name(spec.name),
            Param::Id(id_text),
            Param::Name(write.action),
            Param::MaybeText(write.before.as_ref().map(json).transpose()?),
            Param::MaybeText(after),
        ]);
        for conflict in &write.conflicts {
            self.rows.conflicts.push([
                Param::Id(IdText::new(Uuid::now_v7())),
                Param::Name(spec.name),
                Param::Id(id_text),
                Param::Text(conflict.field.clone()),
                Param::Text(conflict.kept.to_string()),
                Param::Text(conflict.lost.to_string()),
                Param::Id(user_id),
                Param::Int(at),
            ]);
        }
        Ok(())
    }

    /// A mutation's result, kept so a retry gets the same answer.
    pub(super) fn answer(
        &mut self,
        user: &CurrentUser,
        mutation: Uuid,
        status: &MutationStatus,
    ) -> Result<(), DbError> {
        self.rows.answers.push([
            Param::Id(IdText::new(mutation)),
            Param::Id(IdText::new(user.id)),
            Param::Text(json(status)?),
            Param::Int(to_millis(self.now)),
        ]);
        Ok(())
    }

    pub(super) async fn finish(self, tx: &mut AnyConnection) -> Result<(), DbError> {
        self.rows.insert(tx).await?;
        for series in &self.advanced {
            sqlx::query(
                "INSERT INTO number_series (series, last) VALUES ($1, $2) \
                 ON CONFLICT (series) DO UPDATE SET last = excluded.last",
            )
            .bind(series.as_str())
            .bind(self.series[series])
            .execute(&mut *tx)
            .await?;
        }
        if self.seq != self.start {
            sqlx::query("UPDATE sync_counter SET seq = $1 WHERE id = 1")
                .bind(self.seq)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

impl PendingRows {
    pub(super) fn new() -> Self {
        Self {
            records: BTreeMap::new(),
            changes: Rows::new(6),
            answers: Rows::new(4),
            audit: Rows::new(7),
            conflicts: Rows::new(8),
            projected: BTreeMap::new(),
            clocks: BTreeMap::new(),
        }
    }

    pub(super) async fn insert(self, tx: &mut AnyConnection) -> Result<(), DbError> {
        let (mut created, mut changed) = (Rows::new(RECORD_WIDTH), Rows::new(RECORD_WIDTH));
        for (fresh, row) in self.records.into_values() {
            if fresh { &mut created } else { &mut changed }.push(row);
        }
        insert_rows(tx, "records", &RECORD_COLUMNS, "", &created).await?;
        insert_rows(
            tx,
            "records",
            &RECORD_COLUMNS,
            "ON CONFLICT (entity, id) DO UPDATE SET owner_id = excluded.owner_id, version = excluded.version, \
             deleted = excluded.deleted, data = excluded.data, field_versions = excluded.field_versions, \
             updated_at = excluded.updated_at",
            &changed,
        )
        .await?;
        for (projection, rows) in self.projected.into_values() {
            let (created, changed): (Vec<_>, Vec<_>) = rows.into_values().partition(|(fresh, _)| *fresh);
            insert_projected(tx, projection, created.into_iter().map(|(_, row)| row), New::Only).await?;
            insert_projected(
                tx,
                projection,
                changed.into_iter().map(|(_, row)| row),
                New::Maybe,
            )
            .await?;
        }
        write_clocks(tx, self.clocks).await?;
        insert_rows(
            tx,
            "changes",
            &["seq", "entity", "record_id", "owner_id", "prev_owner_id", "at"],
            "",
            &self.changes,
        )
        .await?;
        insert_rows(
            tx,
            "applied_mutations",
            &["mutation_id", "user_id", "result", "at"],
            "",
            &self.answers,
        )
        .await?;
        insert_rows(
            tx,
            "audit_log",
            &[
                "at",
                "actor_id",
                "entity",
                "record_id",
                "action",
                "before_json",
                "after_json",
            ],
            "",
            &self.audit,
        )
        .await?;
        insert_rows(
            tx,
            "sync_conflicts",
            &[
                "id",
                "entity",
                "record_id",
                "field",
                "kept_value",
                "lost_value",
                "won_by",
                "at",
            ],
            "",
            &self.conflicts,
        )
        .await
    }
}

/// Replaces the running clocks of written records: a record's clocks not
/// raised yet go, its running ones come (a raised one stays raised while
/// its rule gives the time it was raised for).
/// The records of the single entities (the company's settings), as the
/// rules read them: one lookup by id each; absent until first saved.
pub(super) async fn load_singles(tx: &mut AnyConnection, entities: Entities) -> Result<Singles, DbError> {
    let mut singles = Singles::default();
    for (spec, id) in entities.singles() {
        if let Some(current) = load(tx, spec, &[id]).await?.remove(&(spec.name, id)) {
            if !current.record.deleted {
                singles.0.insert(spec.name, current.record.fields);
            }
        }
    }
    Ok(singles)
}

/// A secret only the server makes (a survey link's token): 128 random bits.
pub(super) fn new_secret() -> serde_json::Value {
    serde_json::Value::String(Uuid::new_v4().simple().to_string())
}

pub(super) struct Write {
    pub(super) current: Current,
    pub(super) action: &'static str,
    pub(super) before: Option<Fields>,
    /// What the change wrote; `None` for a create, whose "after" in the
    /// audit trail is the whole new record (its JSON is made once).
    pub(super) after: Option<Fields>,
    /// The owner before, when the write moves the record to another owner.
    pub(super) previous_owner: Option<Uuid>,
    /// The record of the same entity this one absorbs (a merge).
    pub(super) absorbs: Option<Uuid>,
    pub(super) conflicts: Vec<FieldConflict>,
}

const CLOCK_COLUMNS: [&str; 4] = ["entity", "record_id", "kind", "due_at"];

pub(super) async fn write_clocks(
    tx: &mut AnyConnection,
    clocks: BTreeMap<(&'static str, Uuid), Fresh<Vec<Clock>>>,
) -> Result<(), DbError> {
    let mut stale: BTreeMap<&'static str, Vec<IdText>> = BTreeMap::new();
    // A new record's clocks have no rows yet: a plain INSERT.
    let (mut created, mut rows) = (Rows::new(4), Rows::new(4));
    for ((entity, id), (fresh, running)) in &clocks {
        let id = IdText::new(*id);
        if !fresh {
            stale.entry(entity).or_default().push(id);
        }
        for clock in running {
            if *fresh { &mut created } else { &mut rows }.push([
                Param::Name(entity),
                Param::Id(id),
                Param::Name(clock.kind),
                Param::Int(to_millis(clock.due_at)),
            ]);
        }
    }
    for (entity, ids) in stale {
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "DELETE FROM clocks WHERE raised_at IS NULL AND entity = {} AND record_id IN ({})",
                placeholders(tx, 1, 1),
                placeholders(tx, 2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(entity);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
    }
    insert_rows(tx, "clocks", &CLOCK_COLUMNS, "", &created).await?;
    insert_rows(
        tx,
        "clocks",
        &CLOCK_COLUMNS,
        // A raised clock whose rule now gives another time (a customer
        // followed up again, a next date moved) runs again to that time;
        // at the time it was raised for, it stays raised.
        "ON CONFLICT (entity, record_id, kind) DO UPDATE SET due_at = excluded.due_at, raised_at = NULL \
         WHERE clocks.due_at <> excluded.due_at",
        &rows,
    )
    .await
}

/// A record's row of its entity's projection: id, owner, deleted, then
/// the projection's columns.
pub(super) fn projected_row(
    projection: &Projection,
    id: IdText,
    owner: IdText,
    record: &StoredRecord,
) -> Vec<Param> {
    let mut row = vec![
        Param::Id(id),
        Param::Id(owner),
        Param::Int(i64::from(record.deleted)),
    ];
    row.extend(
        (projection.row)(&record.fields)
            .into_iter()
            .map(|value| match value {
                Projected::Text(text) => Param::MaybeText(text),
                Projected::Int(number) => Param::MaybeInt(number),
            }),
    );
    row
}

/// Whether rows written may replace rows already there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum New {
    /// Every row is of a record that has none yet: a plain INSERT.
    Only,
    /// A row replaces the record's earlier row, if any.
    Maybe,
}

/// Writes projected rows, replacing the earlier row of each record unless
/// every record is `New::Only`.
pub(super) async fn insert_projected(
    tx: &mut AnyConnection,
    projection: &Projection,
    rows: impl Iterator<Item = Vec<Param>>,
    new: New,
) -> Result<(), DbError> {
    let width = 3 + projection.columns.len();
    let mut all = Rows::new(width);
    for row in rows {
        debug_assert_eq!(row.len(), width, "{}: a row of the wrong width", projection.table);
        all.values.extend(row);
    }
    if all.values.is_empty() {
        return Ok(());
    }
    let columns: Vec<&str> = ["id", "owner_id", "deleted"]
        .into_iter()
        .chain(projection.columns.iter().copied())
        .collect();
    let tail = match new {
        New::Only => String::new(),
        New::Maybe => {
            let updates: Vec<String> = ["owner_id", "deleted"]
                .iter()
                .chain(projection.columns)
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            format!("ON CONFLICT (id) DO UPDATE SET {}", updates.join(", "))
        }
    };
    insert_rows(tx, projection.table, &columns, &tail, &all).await
}
