//! `fieldbook backup PATH` while the server serves: the copy is one
//! consistent moment of the database (every push before it whole, none
//! after it in part), and it opens as a Fieldbook database.

use crate::common::{self, push_ok, stored_lead, Backend, TestApp};
use app::ssr::Db;
use serde_json::json;
use std::process::Command;
use uuid::Uuid;

fn backup(url: &str, path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .env("RUST_LOG", "warn")
        .args(["--database-url", url, "backup"])
        .arg(path)
        .output()
        .unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_points_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let output = backup(
        &common::fresh_postgres_database().await,
        &dir.path().join("pg.db"),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
    assert!(!dir.path().join("pg.db").exists());
}
