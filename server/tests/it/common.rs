//! A real server on a real database per test: SQLite in a temporary folder or
//! a fresh PostgreSQL database, on a free port, spoken to over HTTP.

#![allow(dead_code)]

use app::roles::Role;
use app::ssr::{AppState, Db, Settings};
use fieldbook::accounts::{self, NewUser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test body on SQLite and on PostgreSQL, as two tests named
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = common::TestApp::spawn(common::Backend::Sqlite).await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = common::TestApp::spawn(common::Backend::Postgres).await;
                let url = app.url.clone();
                ($body)(app).await;
                // A passed test leaves no database behind (a failed one
                // keeps it, to look into).
                common::drop_postgres_database(&url).await;
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub url: String,
    pub db: Db,
    pub users: HashMap<&'static str, Uuid>,
    server: Server,
    _dir: Option<tempfile::TempDir>,
}

/// The serving task and what stops it.
struct Server {
    task: tokio::task::JoinHandle<()>,
    stop: Arc<tokio::sync::Notify>,
}

/// Test users: two teams, every role.
pub const PEOPLE: &[(&str, Role, Option<usize>)] = &[
    ("rep1", Role::Rep, Some(0)),
    ("rep2", Role::Rep, Some(0)),
    ("rep3", Role::Rep, Some(1)),
    ("rep4", Role::Rep, Some(0)),
    ("sup_a", Role::Supervisor, Some(0)),
    ("sup_b", Role::Supervisor, Some(1)),
    ("manager", Role::SalesManager, None),
    ("gm", Role::GeneralManager, None),
    ("agent", Role::ServiceAgent, None),
    ("service_sup", Role::ServiceSupervisor, None),
    ("tech", Role::Technician, None),
    ("finance", Role::Finance, None),
    ("legal", Role::Legal, None),
    ("admin", Role::Admin, None),
];

pub fn postgres_url() -> String {
    std::env::var("FIELDBOOK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A URL of a new, empty PostgreSQL database.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin_url = postgres_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required for this test: {e}"));
    let name = format!("fb_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

/// Drops a database `fresh_postgres_database` made, with whatever is still
/// connected to it.
pub async fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    let mut admin = sqlx::PgConnection::connect(&postgres_url())
        .await
        .expect("PostgreSQL admin connection");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop the test's database");
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (
                    format!("sqlite://{}/fieldbook.db", dir.path().display()),
                    Some(dir),
                )
            }
            Backend::Postgres => (fresh_postgres_database().await, None),
        };
        let db = Db::connect(&url).await.expect("database opens and migrates");
        let mut users = HashMap::new();
        let region = accounts::ensure_region(&db, "华东").await.unwrap();
        let teams = [
            accounts::ensure_team(&db, "A 组", Some(region)).await.unwrap(),
            accounts::ensure_team(&db, "B 组", Some(region)).await.unwrap(),
        ];
        for (username, role, team) in PEOPLE {
            let id = accounts::add_user(
                &db,
                NewUser {
                    username,
                    display_name: username,
                    role: *role,
                    team_id: team.map(|t| teams[t]),
                    region_id: Some(region),
                    password: PASSWORD,
                },
            )
            .await
            .unwrap();
            users.insert(*username, id);
        }
        let (base, server) = serve(db.clone()).await;
        Self {
            base,
            url,
            db,
            users,
            server,
            _dir: dir,
        }
    }

    /// Stops serving (open connections finish first) and closes the
    /// database pool, as a stopped server process would.
    pub async fn stop(self) -> Stopped {
        self.server.stop.notify_one();
        self.server.task.await.unwrap();
        self.db.pool.close().await;
        Stopped {
            url: self.url,
            users: self.users,
            _dir: self._dir,
        }
    }

    /// A second, independent server (own pool, own port) on the same database.
    pub async fn second_server(&self) -> Self {
        let db = Db::connect(&self.url).await.expect("second pool opens");
        let (base, server) = serve(db.clone()).await;
        Self {
            base,
            url: self.url.clone(),
            db,
            users: self.users.clone(),
            server,
            _dir: None,
        }
    }
}

/// A stopped test server's database, to start serving again.
pub struct Stopped {
    pub url: String,
    users: HashMap<&'static str, Uuid>,
    _dir: Option<tempfile::TempDir>,
}

impl Stopped {
    /// Serves the database again, on a new port.
    pub async fn start(self) -> TestApp {
        let db = Db::connect(&self.url).await.expect("the database opens again");
        let (base, server) = serve(db.clone()).await;
        TestApp {
            base,
            url: self.url,
            db,
            users: self.users,
            server,
            _dir: self._dir,
        }
    }
}

/// Serves the app on a free port of 127.0.0.1 and returns its base URL.
async fn serve(db: Db) -> (String, Server) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let leptos_options = leptos::config::LeptosOptions::builder()
        .output_name("fieldbook")
        .site_root("target/site")
        .site_addr(addr)
        .build();
    let state = AppState {
        db,
        settings: Arc::new(Settings {
            default_time_zone: chrono_tz::Asia::Shanghai,
            secure_cookies: false,
            public_origin: format!("http://{addr}"),
            behind_proxy: false,
        }),
        leptos_options,
    };
    // 256 KiB here (1 MiB in production) so the oversized tests stay small.
    let router =
        fieldbook::router(state, 256 * 1024).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stopped.notified().await })
            .await
            .unwrap()
    });
    (format!("http://{addr}"), Server { task, stop })
}

/// Every test's HTTP client: an answer that never ends fails its test
/// with the request named, within minutes, instead of holding the run.
pub fn http() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(120))
}

impl TestApp {
    /// A client with its own cookie jar, not signed in.
    pub fn anonymous(&self) -> Client {
        Client {
            http: http().cookie_store(true).build().unwrap(),
            base: self.base.clone(),
        }
    }

    /// A client with its own cookie jar, not signed in, whose requests
    /// come from `address` (any of 127.0.0.0/8 reaches the test server).
    pub fn anonymous_from(&self, address: &str) -> Client {
        Client {
            http: http()
                .cookie_store(true)
                .local_address(address.parse::<std::net::IpAddr>().unwrap())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }

    /// A client signed in as `username`.
    pub async fn signed_in(&self, username: &str) -> Client {
        let client = self.anonymous();
        let (status, body) = client
            .call("auth/login", json!({"username": username, "password": PASSWORD}))
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {username} failed: {body}");
        client
    }

    pub async fn count(&self, table: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        n
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    /// Calls the server function at `/api/<path>` with a JSON body, as the
    /// browser does (same-origin `Origin` header included).
    pub async fn call(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn raw(&self, path: &str, content_type: &str, body: impl Into<String>) -> (StatusCode, Value) {
        let body: String = body.into();
        // A body over the limit is answered 413 from its Content-Length,
        // and the server may close the connection before reading the rest:
        // HTTP/1.1 then lets the client see a broken pipe instead of the
        // answer. That is the transport, not the server's verdict, so the
        // request is sent again (a few times at most) to read the verdict.
        let mut attempts = 0;
        let response = loop {
            attempts += 1;
            let sent = self
                .http
                .post(format!("{}/api/{path}", self.base))
                .header("origin", &self.base)
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) => break response,
                Err(error) if error.is_request() && attempts < 5 => continue,
                Err(error) => panic!("request sent: {error:?}"),
            }
        };
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request sent")
    }

    /// A server-rendered page, whole.
    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("the page, whole")
    }
}

/// A lead's fields in stored form, as a client's outbox carries them.
pub fn stored_lead(company: &str) -> Value {
    json!({
        "company": company,
        "industry": "电子",
        "contact_name": "刘海涛",
        "phone": "13812345678",
        "source": "referral",
        "grade": "B",
        "contacted_at": "2026-11-20T02:00:00Z",
    })
}

/// A new record's create mutation, its id that of the record.
pub fn create(entity: &str, fields: Value) -> Value {
    let id = Uuid::now_v7();
    json!({"id": id, "entity": entity, "record_id": id, "base_version": 0, "op": "upsert", "fields": fields})
}

/// Adds a lead as `client`, as its phone's outbox does, and returns its id.
pub async fn add_lead(client: &Client, company: &str) -> String {
    let mutation = create("lead", stored_lead(company));
    let results = push_ok(client, vec![mutation.clone()]).await;
    assert_eq!(results[0]["status"], "applied", "add_lead failed: {results:?}");
    mutation["record_id"].as_str().unwrap().to_owned()
}

/// The companies of the leads `client` pulls, sorted.
pub async fn lead_companies(client: &Client) -> Vec<String> {
    let mut held = std::collections::BTreeMap::new();
    for change in pull_all(client)
        .await
        .into_iter()
        .filter(|c| c["entity"] == "lead")
    {
        match change["kind"].as_str() {
            Some("upsert") => held.insert(
                change["id"].clone().to_string(),
                change["fields"]["company"].clone(),
            ),
            _ => held.remove(&change["id"].clone().to_string()),
        };
    }
    let mut names: Vec<String> = held.values().map(|c| c.as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

/// Pushes `mutations` as `client` (one batch) and returns the results.
pub async fn push_ok(client: &Client, mutations: Vec<Value>) -> Vec<Value> {
    let (status, body) = client
        .call(
            "sync/push",
            json!({"batch": {"client_id": Uuid::new_v4(), "mutations": mutations}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

/// A command mutation on a record of `entity`.
pub fn command(entity: &str, record_id: Uuid, name: &str, args: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": entity, "record_id": record_id,
        "base_version": 1, "op": "command", "command": name, "fields": args,
    })
}

/// The service desk's dispatch of a ticket to a technician.
pub fn dispatch(ticket: Uuid, technician: Uuid) -> Value {
    command("ticket", ticket, "dispatch", json!({"technician": technician}))
}

/// One record as the server holds it now, through `sync/records`.
pub async fn held(client: &Client, entity: &str, id: Uuid) -> Value {
    let (status, body) = client
        .call("sync/records", json!({"entity": entity, "ids": [id]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body[0].clone()
}

/// Every change `client` pulls from cursor 0 to the end, in order.
pub async fn pull_all(client: &Client) -> Vec<Value> {
    let mut cursor = 0;
    let mut found = Vec::new();
    loop {
        let (status, page) = client
            .call("sync/pull", json!({"request": {"cursor": cursor, "limit": 500}}))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        found.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_i64().unwrap();
        if !page["has_more"].as_bool().unwrap() {
            return found;
        }
    }
}
