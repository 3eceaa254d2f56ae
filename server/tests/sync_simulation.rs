//! A property-based simulation of three clients and the server's sync engine
//! (the real store on SQLite): random creates, edits and deletes made
//! offline, network drops before and after the server commits, duplicated
//! deliveries and stale replays of old batches, and commands (a lead's
//! screening) decided on the device first and again by the server. After a
//! final sync every replica equals the server's view of its scope, every
//! mutation was recorded exactly once, every command the server applied is
//! what the aggregate's pure `decide` gives on the server's state, and every
//! refused command was reported to its device. 1,000 cases by default
//! (PROPTEST_CASES overrides).

#[path = "it/common.rs"]
#[macro_use]
mod common;

use app::aggregates::ENTITIES;
use app::leads::record::{decide_lead, LEAD};
use app::policy::Ownership;
use app::roles::{CurrentUser, Role};
use app::ssr::Db;
use app::sync::entity::CommandCall;
use app::sync::store::{pull, push, records};
use app::sync::{Fields, Mutation, MutationStatus, Op, PullRequest, PulledChange, PushBatch};
use chrono::Utc;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    DropBeforeCommit,
    DropAfterCommit,
    Duplicate,
}

#[derive(Debug, Clone)]
enum Step {
    Create {
        client: usize,
    },
    Edit {
        client: usize,
        pick: usize,
        field: usize,
        value: u8,
    },
    Delete {
        client: usize,
        pick: usize,
    },
    Sync {
        client: usize,
        fault: Fault,
    },
    Replay {
        client: usize,
        pick: usize,
    },
    Command {
        client: usize,
        pick: usize,
        disqualify: bool,
    },
}

const FIELDS: [&str; 3] = ["grade", "notes", "industry"];

fn step() -> impl Strategy<Value = Step> {
    let client = 0..3usize;
    prop_oneof![
        3 => client.clone().prop_map(|client| Step::Create { client }),
        5 => (client.clone(), any::<usize>(), 0..3usize, 0..3u8)
            .prop_map(|(client, pick, field, value)| Step::Edit { client, pick, field, value }),
        1 => (client.clone(), any::<usize>()).prop_map(|(client, pick)| Step::Delete { client, pick }),
        4 => (client.clone(), prop_oneof![
                Just(Fault::None),
                Just(Fault::DropBeforeCommit),
                Just(Fault::DropAfterCommit),
                Just(Fault::Duplicate)
            ])
            .prop_map(|(client, fault)| Step::Sync { client, fault }),
        1 => (client.clone(), any::<usize>()).prop_map(|(client, pick)| Step::Replay { client, pick }),
        2 => (client, any::<usize>(), any::<bool>())
            .prop_map(|(client, pick, disqualify)| Step::Command { client, pick, disqualify }),
    ]
}

fn value(field: &str, v: u8) -> Value {
    match field {
        "grade" => json!(["A", "B", "C"][v as usize % 3]),
        _ => json!(format!("{field}-{v}")),
    }
}

#[derive(Default)]
struct Replica {
    /// id → (version the server last sent, fields as the user sees them)
    records: BTreeMap<Uuid, (i64, Fields)>,
    outbox: Vec<Mutation>,
    /// What each queued command changed locally (its id → fields).
    decided: BTreeMap<Uuid, Fields>,
    cursor: i64,
    sent: Vec<Vec<Mutation>>,
    /// Commands the server refused, as this device was told.
    refused: HashSet<Uuid>,
}

impl Replica {
    fn pick(&self, pick: usize) -> Option<(Uuid, i64)> {
        let ids: Vec<_> = self.records.iter().map(|(id, (v, _))| (*id, *v)).collect();
        (!ids.is_empty()).then(|| ids[pick % ids.len()])
    }

    /// Applies a pulled change, keeping this replica's own unsent edits on top.
    fn apply(&mut self, change: PulledChange) {
        match change {
            PulledChange::Upsert {
                id, version, fields, ..
            } => {
                let mut fields = fields.into_fields().expect("pulled fields are a JSON object");
                let mut deleted_locally = false;
                for pending in self.outbox.iter().filter(|m| m.record_id == id) {
                    match pending.op {
                        Op::Upsert => fields.extend(pending.fields.clone()),
                        Op::Command => fields.extend(self.decided[&pending.id].clone()),
                        Op::Delete => deleted_locally = true,
                    }
                }
                if !deleted_locally {
                    self.records.insert(id, (version, fields));
                }
            }
            PulledChange::Deleted { id, .. } | PulledChange::Removed { id, .. } => {
                self.records.remove(&id);
            }
        }
    }
}

struct World {
    db: Db,
    /// What the server must hold: every mutation the server reported as
    /// applied, replayed in the order it reported them.
    oracle: BTreeMap<Uuid, Option<Fields>>,
    users: Vec<CurrentUser>,
    replicas: Vec<Replica>,
    mutation_ids: HashSet<Uuid>,
    /// Commands the server refused, and those it applied.
    refused: HashSet<Uuid>,
    commands_applied: usize,
    _dir: tempfile::TempDir,
}

fn user(username: &str, role: Role, team: Uuid) -> CurrentUser {
    CurrentUser {
        id: Uuid::now_v7(),
        username: username.into(),
        display_name: username.into(),
        role,
        team_id: Some(team),
        time_zone: "Asia/Shanghai".into(),
    }
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/sim.db", dir.path().display()))
            .await
            .unwrap();
        let team = Uuid::now_v7();
        sqlx::query("INSERT INTO teams (id, name) VALUES ($1, 'A')")
            .bind(team.to_string())
            .execute(&db.pool)
            .await
            .unwrap();
        // Two reps and their supervisor: overlapping scopes.
        let users = vec![
            user("rep1", Role::Rep, team),
            user("rep2", Role::Rep, team),
            user("sup", Role::Supervisor, team),
        ];
        for u in &users {
            sqlx::query(
                "INSERT INTO users (id, username, display_name, role, team_id, password_hash, created_at) \
                 VALUES ($1, $2, $2, $3, $4, 'x', 0)",
            )
            .bind(u.id.to_string())
            .bind(&u.username)
            .bind(u.role.as_str())
            .bind(team.to_string())
            .execute(&db.pool)
            .await
            .unwrap();
        }
        World {
            db,
            oracle: BTreeMap::new(),
            users,
            replicas: (0..3).map(|_| Replica::default()).collect(),
            mutation_ids: HashSet::new(),
            refused: HashSet::new(),
            commands_applied: 0,
            _dir: dir,
        }
    }

    /// Pushes as `client` and feeds every fresh outcome to the oracle,
    /// whether or not the client gets to hear the answer.
    async fn deliver(&mut self, client: usize, batch: &PushBatch) -> app::sync::PushResult {
        let now = Utc::now();
        let user = self.users[client].clone();
        let answer = push(&self.db, ENTITIES, &user, batch.clone(), now).await.unwrap();
        for (mutation, result) in batch.mutations.iter().zip(&answer.results) {
            assert_eq!(mutation.id, result.id, "results come in mutation order");
            if mutation.op == Op::Command && !matches!(result.status, MutationStatus::Duplicate { .. }) {
                // The server's answer is the aggregate's pure rule on the
                // record as the server held it.
                let held = self.oracle.get(&mutation.record_id).cloned().flatten();
                let expected = held.as_ref().map(|record| {
                    decide_lead(&CommandCall {
                        name: mutation.command.as_deref().unwrap(),
                        args: &mutation.fields,
                        record,
                        ownership: Ownership {
                            owner_id: user.id,
                            owner_team_id: user.team_id,
                        },
                        actor: &user,
                        now,
                        context: &app::sync::entity::Context::default(),
                    })
                });
                match (&result.status, expected) {
                    (MutationStatus::Applied { .. }, Some(Ok(decided))) => {
                        let changes = decided.changes;
                        self.commands_applied += 1;
                        if let Some(Some(fields)) = self.oracle.get_mut(&mutation.record_id) {
                            fields.extend(changes);
                        }
                    }
                    (MutationStatus::Rejected { .. }, Some(Err(_)) | None) => {
                        self.refused.insert(mutation.id);
                    }
                    (status, expected) => {
                        // Another user's record (out of scope) is refused too.
                        assert!(
                            matches!(status, MutationStatus::Rejected { .. }),
                            "server said {status:?}, the rule {expected:?}"
                        );
                        self.refused.insert(mutation.id);
                    }
                }
                continue;
            }
            match (&result.status, mutation.op) {
                (MutationStatus::Applied { .. } | MutationStatus::Conflict { .. }, Op::Upsert) => {
                    let entry = self
                        .oracle
                        .entry(mutation.record_id)
                        .or_insert_with(|| Some(Fields::new()));
                    if let Some(fields) = entry {
                        fields.extend(mutation.fields.clone());
                    }
                }
                (MutationStatus::Applied { .. }, Op::Delete) => {
                    self.oracle.insert(mutation.record_id, None);
                }
                _ => {}
            }
        }
        answer
    }

    fn record(&mut self, client: usize, mutation: Mutation) {
        self.mutation_ids.insert(mutation.id);
        self.replicas[client].outbox.push(mutation);
    }

    async fn run(&mut self, step: Step) {
        match step {
            Step::Create { client } => {
                let id = Uuid::now_v7();
                let fields = common::stored_lead(&format!("公司{}", &id.simple().to_string()[24..]));
                let fields = fields.as_object().unwrap().clone();
                self.replicas[client].records.insert(id, (0, fields.clone()));
                let mutation = Mutation {
                    id: Uuid::new_v4(),
                    entity: "lead".into(),
                    record_id: id,
                    base_version: 0,
                    op: Op::Upsert,
                    fields,
                    command: None,
                    base: Default::default(),
                };
                self.record(client, mutation);
            }
            Step::Edit {
                client,
                pick,
                field,
                value: v,
            } => {
                let Some((id, version)) = self.replicas[client].pick(pick) else {
                    return;
                };
                let name = FIELDS[field];
                let mut fields = Fields::new();
                fields.insert(name.into(), value(name, v));
                self.replicas[client]
                    .records
                    .get_mut(&id)
                    .unwrap()
                    .1
                    .extend(fields.clone());
                let mutation = Mutation {
                    id: Uuid::new_v4(),
                    entity: "lead".into(),
                    record_id: id,
                    base_version: version,
                    op: Op::Upsert,
                    fields,
                    command: None,
                    base: Default::default(),
                };
                self.record(client, mutation);
            }
            Step::Delete { client, pick } => {
                let Some((id, version)) = self.replicas[client].pick(pick) else {
                    return;
                };
                self.replicas[client].records.remove(&id);
                let mutation = Mutation {
                    id: Uuid::new_v4(),
                    entity: "lead".into(),
                    record_id: id,
                    base_version: version,
                    op: Op::Delete,
                    fields: Fields::new(),
                    command: None,
                    base: Default::default(),
                };
                self.record(client, mutation);
            }
            Step::Command {
                client,
                pick,
                disqualify,
            } => {
                let Some((id, version)) = self.replicas[client].pick(pick) else {
                    return;
                };
                let (name, args) = if disqualify {
                    ("disqualify", json!({"reason": "预算取消"}))
                } else {
                    ("qualify", json!({}))
                };
                let args = args.as_object().unwrap().clone();
                let user = self.users[client].clone();
                let replica = &mut self.replicas[client];
                let record = &replica.records[&id].1;
                // Decided on the device first: a refusal here is shown at
                // once and never queued, as in the app.
                let Ok(decided) = decide_lead(&CommandCall {
                    name,
                    args: &args,
                    record,
                    ownership: Ownership {
                        owner_id: user.id,
                        owner_team_id: user.team_id,
                    },
                    actor: &user,
                    now: Utc::now(),
                    context: &app::sync::entity::Context::default(),
                }) else {
                    return;
                };
                let changes = decided.changes;
                replica.records.get_mut(&id).unwrap().1.extend(changes.clone());
                let mutation = Mutation {
                    id: Uuid::now_v7(),
                    entity: "lead".into(),
                    record_id: id,
                    base_version: version,
                    op: Op::Command,
                    fields: args,
                    command: Some(name.into()),
                    base: Default::default(),
                };
                replica.decided.insert(mutation.id, changes);
                self.record(client, mutation);
            }
            Step::Sync { client, fault } => self.sync(client, fault).await,
            Step::Replay { client, pick } => {
                // The network delivers an old batch again, late.
                let sent = &self.replicas[client].sent;
                if sent.is_empty() {
                    return;
                }
                let batch = PushBatch {
                    client_id: Uuid::nil(),
                    epoch: None,
                    mutations: sent[pick % sent.len()].clone(),
                };
                self.deliver(client, &batch).await;
            }
        }
    }

    async fn sync(&mut self, client: usize, fault: Fault) {
        let user = self.users[client].clone();
        let mutations = self.replicas[client].outbox.clone();
        if !mutations.is_empty() {
            self.replicas[client].sent.push(mutations.clone());
            let batch = PushBatch {
                client_id: Uuid::nil(),
                epoch: None,
                mutations,
            };
            let answer = match fault {
                Fault::DropBeforeCommit => return,
                Fault::DropAfterCommit => {
                    self.deliver(client, &batch).await;
                    return;
                }
                Fault::Duplicate => {
                    self.deliver(client, &batch).await;
                    self.deliver(client, &batch).await
                }
                Fault::None => self.deliver(client, &batch).await,
            };
            // Every answered mutation leaves the outbox: applied, merged,
            // already applied, or rejected with a reason the user is shown.
            let answered: HashSet<Uuid> = answer.results.iter().map(|r| r.id).collect();
            assert_eq!(answered.len(), batch.mutations.len(), "one result per mutation");
            for result in &answer.results {
                if let MutationStatus::Duplicate { original } = &result.status {
                    assert!(
                        !matches!(**original, MutationStatus::Duplicate { .. }),
                        "a duplicate of a duplicate"
                    );
                }
            }
            // A refused command is reported to its device, whose copy then
            // returns to the server's (as the app asks `sync/records`).
            let mut refused_records = Vec::new();
            for (mutation, result) in batch.mutations.iter().zip(&answer.results) {
                let refused = match &result.status {
                    MutationStatus::Rejected { .. } => true,
                    MutationStatus::Duplicate { original } => {
                        matches!(**original, MutationStatus::Rejected { .. })
                    }
                    _ => false,
                };
                if refused && mutation.op == Op::Command {
                    self.replicas[client].refused.insert(mutation.id);
                    refused_records.push(mutation.record_id);
                }
            }
            self.replicas[client].outbox.retain(|m| !answered.contains(&m.id));
            if !refused_records.is_empty() {
                let fresh = records(&self.db, &LEAD, &user, &refused_records).await.unwrap();
                for change in fresh {
                    self.replicas[client].apply(change);
                }
            }
        }
        loop {
            let cursor = self.replicas[client].cursor;
            let page = pull(
                &self.db,
                ENTITIES,
                &user,
                &PullRequest {
                    cursor,
                    limit: 7,
                    epoch: None,
                },
            )
            .await
            .unwrap()
            .unwrap();
            for change in page.changes {
                self.replicas[client].apply(change);
            }
            self.replicas[client].cursor = page.cursor;
            if !page.has_more {
                break;
            }
        }
    }

    /// The server's current view for one user, from a fresh pull.
    async fn truth(&self, client: usize) -> BTreeMap<Uuid, (i64, Fields)> {
        let mut replica = Replica::default();
        loop {
            let page = pull(
                &self.db,
                ENTITIES,
                &self.users[client],
                &PullRequest {
                    cursor: replica.cursor,
                    limit: 50,
                    epoch: None,
                },
            )
            .await
            .unwrap()
            .unwrap();
            for change in page.changes {
                replica.apply(change);
            }
            replica.cursor = page.cursor;
            if !page.has_more {
                return replica.records;
            }
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_and_no_mutation_is_lost_or_applied_twice(steps in prop::collection::vec(step(), 1..40)) {
        runtime().block_on(async {
            let mut world = World::new().await;
            for step in steps {
                world.run(step).await;
            }
            // The network comes back for good: everyone syncs, twice round so
            // each replica also sees what the others pushed last.
            for _ in 0..2 {
                for client in 0..3 {
                    world.sync(client, Fault::None).await;
                }
            }
            for client in 0..3 {
                assert!(world.replicas[client].outbox.is_empty(), "client {client} still has an outbox");
                let truth = world.truth(client).await;
                assert_eq!(world.replicas[client].records, truth, "client {client} differs from the server");
            }
            // Nothing lost: the server holds exactly what its answers said
            // it applied (the supervisor's scope is every record here).
            let expected: BTreeMap<Uuid, Fields> =
                world.oracle.iter().filter_map(|(id, f)| f.clone().map(|f| (*id, f))).collect();
            let held: BTreeMap<Uuid, Fields> = world.truth(2).await.into_iter().map(|(id, (_, f))| (id, f)).collect();
            assert_eq!(held, expected, "the server's records differ from what it acknowledged");
            let (recorded,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM applied_mutations").fetch_one(&world.db.pool).await.unwrap();
            assert_eq!(recorded as usize, world.mutation_ids.len(), "every mutation recorded exactly once");
            // Each change is one version step of one record: nothing applied twice.
            let (changes,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM changes").fetch_one(&world.db.pool).await.unwrap();
            let (versions,): (i64,) = sqlx::query_as("SELECT COALESCE(SUM(version), 0) FROM records").fetch_one(&world.db.pool).await.unwrap();
            assert_eq!(changes, versions);
            // Every refused command was reported to the device that gave it.
            let reported: HashSet<Uuid> = world.replicas.iter().flat_map(|r| r.refused.iter().copied()).collect();
            assert_eq!(reported, world.refused, "refused commands and what devices were told");
            let (commands,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM audit_log WHERE action IN ('qualify', 'disqualify')",
            )
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
            assert_eq!(commands as usize, world.commands_applied, "each applied command written once");
        });
    }
}
