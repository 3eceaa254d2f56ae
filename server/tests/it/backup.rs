//! `fieldbook backup PATH` while the server serves: the copy is one
//! consistent moment of the database (every push before it whole, none
//! after it in part), and it opens as a Fieldbook database.
//! `fieldbook restore PATH` puts one back under a new epoch, and devices
//! that synced since send again what the restored database lacks: every
//! device ends with the records the server holds, and nothing is lost.

use crate::common::{self, push_ok, stored_lead, Backend, Client, TestApp};
use app::ssr::Db;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use uuid::Uuid;

fn fieldbook(url: &str, command: &str, path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env("RUST_LOG", "warn")
        .args(["--database-url", url, command])
        .arg(path)
        .output()
        .unwrap()
}

fn backup(url: &str, path: &std::path::Path) -> std::process::Output {
    fieldbook(url, "backup", path)
}

fn succeeded(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn counts(db: &Db) -> (i64, i64, i64) {
    let (records,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM records")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (changed,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT record_id) FROM changes")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM applied_mutations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    (records, changed, applied)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_pushes_is_one_consistent_moment() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let rep1 = app.signed_in("rep1").await;
    let batch = |n: usize| -> Vec<serde_json::Value> {
        (0..50)
            .map(|k| {
                json!({"id": Uuid::new_v4(), "entity": "lead", "record_id": Uuid::now_v7(),
                       "base_version": 0, "op": "upsert",
                       "fields": stored_lead(&format!("备份中{n}-{k}"))})
            })
            .collect()
    };
    push_ok(&rep1, batch(0)).await;
    // Pushes go on while the backup runs.
    let pushing = {
        let rep1 = rep1.clone();
        tokio::spawn(async move {
            for n in 1..=20 {
                push_ok(&rep1, batch(n)).await;
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook-backup.db");
    let (url, target) = (app.url.clone(), path.clone());
    let output = tokio::task::spawn_blocking(move || backup(&url, &target))
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    pushing.await.unwrap();

    let copy = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let (records, changed, applied) = counts(&copy).await;
    // Whole batches only, each with its change rows and mutation ids.
    assert!(records >= 50 && records % 50 == 0, "{records}");
    assert_eq!((changed, applied), (records, records));
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&copy.pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(counts(&app.db).await.0, 21 * 50);

    // Never over an existing file.
    let again = backup(&app.url, &path);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

/// A device as `app/src/client.rs` keeps one, per docs/sync.md: its
/// records, an outbox, the mutations the server stored (to send again after
/// a restore), its cursor and the epoch the cursor belongs to.
struct Device {
    username: &'static str,
    client: Client,
    records: BTreeMap<String, Value>,
    outbox: Vec<Value>,
    sent: Vec<Value>,
    cursor: i64,
    epoch: Option<String>,
    refresh: bool,
}

fn key(entity: &str, id: &str) -> String {
    format!("{entity}:{id}")
}

impl Device {
    async fn new(app: &TestApp, username: &'static str) -> Self {
        Self {
            username,
            client: app.signed_in(username).await,
            records: BTreeMap::new(),
            outbox: Vec::new(),
            sent: Vec::new(),
            cursor: 0,
            epoch: None,
            refresh: false,
        }
    }

    /// Signs in to a restarted server (it listens on a new port).
    async fn reconnect(&mut self, app: &TestApp) {
        self.client = app.signed_in(self.username).await;
    }

    fn create(&mut self, company: &str) -> Uuid {
        let id = Uuid::now_v7();
        self.change(json!({"id": Uuid::now_v7(), "entity": "lead", "record_id": id,
                           "base_version": 0, "op": "upsert", "fields": stored_lead(company)}));
        id
    }

    fn edit(&mut self, id: Uuid, notes: &str) {
        let base = self.records[&key("lead", &id.to_string())]["version"].clone();
        self.change(json!({"id": Uuid::now_v7(), "entity": "lead", "record_id": id,
                           "base_version": base, "op": "upsert", "fields": {"notes": notes}}));
    }

    fn delete(&mut self, id: Uuid) {
        let base = self.records[&key("lead", &id.to_string())]["version"].clone();
        self.change(json!({"id": Uuid::now_v7(), "entity": "lead", "record_id": id,
                           "base_version": base, "op": "delete"}));
    }

    fn qualify(&mut self, id: Uuid) {
        let base = self.records[&key("lead", &id.to_string())]["version"].clone();
        self.change(json!({"id": Uuid::now_v7(), "entity": "lead", "record_id": id,
                           "base_version": base, "op": "command", "command": "qualify",
                           "fields": {"grade": "A"}}));
    }

    /// Saved on the device and queued (the local copy is what a pull
    /// brings back; these tests compare after syncing).
    fn change(&mut self, mutation: Value) {
        self.outbox.push(mutation);
    }

    /// One sync; after the server's database was restored, rejoin it and
    /// sync again, as the browser's `run` does.
    async fn sync(&mut self) {
        if let Err(epoch) = self.push_and_pull().await {
            // Back to the outbox, before what waits there, in the order made.
            let mut again = std::mem::take(&mut self.sent);
            again.append(&mut self.outbox);
            self.outbox = again;
            self.cursor = 0;
            self.epoch = epoch;
            self.refresh = true;
            self.push_and_pull().await.expect("a rejoined device syncs");
        }
    }

    /// `Err` with the server's new epoch (or `None`: its cursor was ahead)
    /// when the server's database was restored.
    async fn push_and_pull(&mut self) -> Result<(), Option<String>> {
        let restored = |status: StatusCode, body: &Value| -> Option<Option<String>> {
            (status == StatusCode::CONFLICT).then(|| body["epoch"].as_str().map(str::to_owned))
        };
        if !self.outbox.is_empty() {
            let (status, body) = self
                .client
                .call(
                    "sync/push",
                    json!({"batch": {"client_id": Uuid::nil(), "epoch": self.epoch,
                                     "mutations": self.outbox}}),
                )
                .await;
            if let Some(epoch) = restored(status, &body) {
                return Err(epoch);
            }
            assert_eq!(status, StatusCode::OK, "{body}");
            for (mutation, result) in std::mem::take(&mut self.outbox)
                .into_iter()
                .zip(body["results"].as_array().unwrap())
            {
                assert_eq!(mutation["id"], result["id"]);
                let outcome = match result["status"].as_str().unwrap() {
                    "duplicate" => &result["original"]["status"],
                    _ => &result["status"],
                };
                assert_ne!(outcome, "rejected", "{mutation} {result}");
                self.sent.push(mutation);
            }
        }
        let mut seen = HashSet::new();
        loop {
            let (status, page) = self
                .client
                .call(
                    "sync/pull",
                    json!({"request": {"cursor": self.cursor, "limit": 7, "epoch": self.epoch}}),
                )
                .await;
            if let Some(epoch) = restored(status, &page) {
                return Err(epoch);
            }
            assert_eq!(status, StatusCode::OK, "{page}");
            for change in page["changes"].as_array().unwrap() {
                let at = key(change["entity"].as_str().unwrap(), change["id"].as_str().unwrap());
                seen.insert(at.clone());
                if change["kind"] == "upsert" {
                    self.records.insert(at, change.clone());
                } else {
                    self.records.remove(&at);
                }
            }
            self.cursor = page["cursor"].as_i64().unwrap();
            self.epoch = Some(page["epoch"].as_str().unwrap().to_owned());
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        if std::mem::take(&mut self.refresh) {
            // What the server did not send, it no longer has.
            let waiting: HashSet<String> = self
                .outbox
                .iter()
                .map(|m| key(m["entity"].as_str().unwrap(), m["record_id"].as_str().unwrap()))
                .collect();
            self.records
                .retain(|at, _| seen.contains(at) || waiting.contains(at));
        }
        Ok(())
    }

    /// The records' state, comparable with the server's.
    fn holds(&self) -> BTreeMap<String, (i64, Value)> {
        self.records
            .iter()
            .map(|(at, change)| {
                (
                    at.clone(),
                    (change["version"].as_i64().unwrap(), change["fields"].clone()),
                )
            })
            .collect()
    }
}

/// What `username` may see on the server now, as a fresh device pulls it.
async fn server_view(app: &TestApp, username: &'static str) -> BTreeMap<String, (i64, Value)> {
    let mut fresh = Device::new(app, username).await;
    fresh.sync().await;
    fresh.holds()
}

async fn back_up_push_more_and_restore(app: TestApp) {
    let mut phone = Device::new(&app, "rep1").await;
    let mut tablet = Device::new(&app, "rep1").await;
    let mut other = Device::new(&app, "rep2").await;
    let mut supervisor = Device::new(&app, "sup_a").await;

    // Before the backup: both reps' records, synced everywhere.
    let early: Vec<Uuid> = (0..6).map(|n| phone.create(&format!("备份前{n}"))).collect();
    let theirs: Vec<Uuid> = (0..4).map(|n| other.create(&format!("同事备份前{n}"))).collect();
    phone.sync().await;
    other.sync().await;
    tablet.sync().await;

    // The backup runs while the phone pushes on (these land before or
    // after it; either way nothing may be lost).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook.backup");
    let pushing = tokio::spawn(async move {
        for n in 0..10 {
            phone.create(&format!("备份中{n}"));
            phone.sync().await;
        }
        phone
    });
    let (url, target) = (app.url.clone(), path.clone());
    succeeded(
        &tokio::task::spawn_blocking(move || backup(&url, &target))
            .await
            .unwrap(),
    );
    let mut phone = pushing.await.unwrap();

    // After the backup: creates, edits, a delete and a command, synced.
    let late: Vec<Uuid> = (0..3).map(|n| phone.create(&format!("备份后{n}"))).collect();
    phone.edit(early[0], "备份后改的");
    phone.sync().await;
    tablet.sync().await;
    tablet.edit(early[1], "平板上改的");
    tablet.delete(early[2]);
    tablet.sync().await;
    let new_theirs = other.create("同事备份后");
    other.qualify(theirs[0]);
    other.edit(theirs[1], "同事备份后改的");
    other.sync().await;
    supervisor.sync().await;
    let before_restore: BTreeMap<_, _> = [
        ("rep1", server_view(&app, "rep1").await),
        ("rep2", server_view(&app, "rep2").await),
        ("sup_a", server_view(&app, "sup_a").await),
    ]
    .into();
    // The phone goes on offline.
    phone.edit(late[0], "恢复时离线改的");

    let stopped = app.stop().await;
    let restored = fieldbook(&stopped.url, "restore", &path);
    succeeded(&restored);
    assert!(String::from_utf8_lossy(&restored.stdout).contains("new epoch"));
    let app = stopped.start().await;
    // The restored database lacks what came after the backup.
    assert!(!server_view(&app, "rep1")
        .await
        .contains_key(&key("lead", &late[0].to_string())));

    // The supervisor syncs first: what the server lost leaves their device
    // until its makers send it again.
    supervisor.reconnect(&app).await;
    supervisor.sync().await;
    assert_eq!(supervisor.holds(), server_view(&app, "sup_a").await);
    assert!(!supervisor
        .holds()
        .contains_key(&key("lead", &new_theirs.to_string())));

    for device in [&mut phone, &mut tablet, &mut other] {
        device.reconnect(&app).await;
        device.sync().await;
    }
    for device in [&mut phone, &mut tablet, &mut other, &mut supervisor] {
        device.sync().await;
    }

    // Every device holds what the server holds for its user…
    for device in [&phone, &tablet, &other, &supervisor] {
        assert_eq!(
            device.holds(),
            server_view(&app, device.username).await,
            "{}",
            device.username
        );
    }
    // …and nothing was lost: what each user saw before the restore is
    // there, edited as it was, plus the phone's offline edit.
    let now = server_view(&app, "rep1").await;
    let fields =
        |view: &BTreeMap<String, (i64, Value)>, id: Uuid| view[&key("lead", &id.to_string())].1.clone();
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        before_restore["rep1"].keys().collect::<Vec<_>>()
    );
    assert_eq!(fields(&now, early[0])["notes"], "备份后改的");
    assert_eq!(fields(&now, early[1])["notes"], "平板上改的");
    assert_eq!(fields(&now, late[0])["notes"], "恢复时离线改的");
    assert!(!now.contains_key(&key("lead", &early[2].to_string())));
    for (at, (_, before)) in &before_restore["rep1"] {
        if *at != key("lead", &late[0].to_string()) {
            assert_eq!(&now[at].1, before, "{at}");
        }
    }
    let theirs_now = server_view(&app, "rep2").await;
    assert_eq!(
        theirs_now.keys().collect::<Vec<_>>(),
        before_restore["rep2"].keys().collect::<Vec<_>>()
    );
    // A command sent again is decided again: its time is the restored
    // server's decision, not the lost one.
    let decided_again = |fields: &Value| {
        let mut fields = fields.clone();
        fields.as_object_mut().unwrap().remove("screened_at");
        fields
    };
    for (at, (_, before)) in &before_restore["rep2"] {
        assert_eq!(decided_again(&theirs_now[at].1), decided_again(before), "{at}");
    }
    assert_eq!(fields(&theirs_now, theirs[0])["status"], "qualified");
    assert!(fields(&theirs_now, theirs[0])["screened_at"].is_string());
    assert_eq!(fields(&theirs_now, new_theirs)["company"], "同事备份后");
    assert_eq!(
        server_view(&app, "sup_a").await.keys().collect::<Vec<_>>(),
        before_restore["sup_a"].keys().collect::<Vec<_>>()
    );
}

on_both_databases!(
    a_restored_server_gets_back_what_devices_hold,
    back_up_push_more_and_restore
);

#[test]
fn a_restore_waits_until_no_server_serves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fieldbook.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env("RUST_LOG", "warn")
        .args([
            "--database-url",
            &url,
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // It listens once it holds the file.
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the server never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let path = dir.path().join("copy.db");
    succeeded(&backup(&url, &path));
    let refused = fieldbook(&url, "restore", &path);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    server.wait().unwrap();
    succeeded(&fieldbook(&url, "restore", &path));
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("fieldbook.db.replaced-"))
        .collect();
    assert!(!kept.is_empty(), "the replaced database is kept");

    // Not a backup: refused, and the database is untouched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let refused = fieldbook(&url, "restore", &junk);
    assert!(!refused.status.success());
    succeeded(&backup(&url, &dir.path().join("again.db")));
}
