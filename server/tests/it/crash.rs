//! A server killed with SIGKILL in the middle of a large push, restarted,
//! and pushed to again: nothing lost, nothing applied twice. On SQLite and
//! on PostgreSQL, with the real binary.

use crate::common;

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn fieldbook(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
    command
        .args(["--database-url", url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

async fn start(url: &str, port: u16) -> Child {
    let child = fieldbook(url)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = format!("http://127.0.0.1:{port}/healthz");
    while reqwest::get(&health).await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

fn big_batch() -> Value {
    let mutations: Vec<Value> = (0..1000)
        .map(|i| {
            let mut fields = common::stored_lead(&format!("断电测试公司{i}"));
            fields["notes"] = json!("x".repeat(200));
            json!({
                "id": Uuid::new_v4(),
                "entity": "lead",
                "record_id": Uuid::now_v7(),
                "base_version": 0,
                "op": "upsert",
                "fields": fields,
            })
        })
        .collect();
    json!({"batch": {"client_id": Uuid::new_v4(), "mutations": mutations}})
}

async fn count(db: &app::ssr::Db, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap();
    n
}

async fn killed_mid_push_loses_nothing_and_doubles_nothing(url: String) {
    let added = fieldbook(&url)
        .args([
            "user",
            "add",
            "--username",
            "crash",
            "--name",
            "断电",
            "--role",
            "rep",
            "--password",
            "crash-pass",
        ])
        .status()
        .unwrap();
    assert!(added.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&url, port).await;
    let client = common::http().cookie_store(true).build().unwrap();
    let login = client
        .post(format!("{base}/api/auth/login"))
        .header("origin", &base)
        .json(&json!({"username": "crash", "password": "crash-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);

    let push = |client: reqwest::Client, base: String, batch: Value| async move {
        client
            .post(format!("{base}/api/sync/push"))
            .header("origin", &base)
            .json(&batch)
            .send()
            .await
    };
    // Time one whole push of this size, then kill the next one half-way.
    let started = Instant::now();
    let warm_up = push(client.clone(), base.clone(), big_batch()).await.unwrap();
    assert_eq!(warm_up.status().as_u16(), 200);
    let mut delay = started.elapsed() / 2;
    let mut batches = 1;
    // Kill a push half-way; if the machine was quick and it finished first,
    // try again sooner (each try's batch counts, finished or not).
    let batch = loop {
        let batch = big_batch();
        batches += 1;
        let in_flight = tokio::spawn(push(client.clone(), base.clone(), batch.clone()));
        tokio::time::sleep(delay).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        let interrupted = in_flight.await.unwrap().is_err();
        // Restart on the same database; the session is in the database, so
        // the client simply retries the same batch.
        server = start(&url, port).await;
        if interrupted {
            break batch;
        }
        assert!(batches < 8, "never managed to kill a push half-way");
        delay /= 2;
    };

    let retried = push(client.clone(), base.clone(), batch.clone()).await.unwrap();
    assert_eq!(retried.status().as_u16(), 200);
    let results: Value = retried.json().await.unwrap();
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "applied" || r["status"] == "duplicate"),
        "{results:?}"
    );
    let again: Value = push(client, base, batch).await.unwrap().json().await.unwrap();
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "duplicate"));
    server.kill().unwrap();
    server.wait().unwrap();

    let db = app::ssr::Db::connect(&url).await.unwrap();
    let expected = 1000 * batches;
    assert_eq!(count(&db, "records").await, expected, "every lead stored");
    assert_eq!(
        count(&db, "applied_mutations").await,
        expected,
        "every mutation recorded once"
    );
    assert_eq!(
        count(&db, "changes").await,
        expected,
        "every mutation applied once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_server_killed_mid_push() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_push_loses_nothing_and_doubles_nothing(format!("sqlite://{}/fb.db", dir.path().display()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_killed_mid_push() {
    let url = common::fresh_postgres_database().await;
    killed_mid_push_loses_nothing_and_doubles_nothing(url.clone()).await;
    common::drop_postgres_database(&url).await;
}
