//! End-to-end benchmark of the sync protocol (`docs/sync.md`) over HTTP on
//! loopback. Results and how to read them: `docs/benchmarks.md`.
//!
//! ```sh
//! cargo build --release -p fieldbook
//! cargo run --release -p fieldbook --example sync_bench -- --database sqlite
//! cargo run --release -p fieldbook --example sync_bench -- --database postgres
//! ```
//!
//! It starts the release `fieldbook` binary as a child process on a free port
//! with a fresh database, adds a user, signs in, and measures:
//!
//! 1. push of 10,000 new leads (10 batches of 1,000), records/s;
//! 2. a fresh client's pull of those 10,000 records (pages of 1,000), records/s;
//! 3. with 100,000 records stored, the incremental pull of 100 edited records
//!    from an up-to-date cursor (median of `--repetitions`);
//! 4. server memory (VmRSS, VmHWM) with the first 10,000 records synced, with
//!    100,000, and at the end;
//! 5. `--clients` concurrent clients syncing for `--concurrent-secs`: each
//!    pushes 5 new leads, then pulls from its own cursor until `has_more` is
//!    false, again and again; latency of every request, errors, peak memory.
//!
//! Request bodies are serialised before the clock starts; times include
//! sending, the server's work and reading the whole answer.

use clap::Parser;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use uuid::Uuid;

const USERNAME: &str = "bench";
const PASSWORD: &str = "benchpass1";
const BATCH: usize = 1_000;
const FIRST_PUSH: usize = 10_000;
const TOTAL_RECORDS: usize = 100_000;
const EDITS: usize = 100;
const CONCURRENT_BATCH: usize = 5;
const PAGE: usize = 1_000;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Parser)]
#[command(about = "Benchmark of the Fieldbook sync protocol over HTTP (see docs/benchmarks.md)")]
struct Args {
    /// The database behind the server: a fresh one is made for the run.
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Database,
    /// A PostgreSQL database to connect to for `CREATE DATABASE fb_bench_…`.
    #[arg(
        long,
        env = "FIELDBOOK_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Seconds the concurrent clients run.
    #[arg(long, default_value_t = 60)]
    concurrent_secs: u64,
    /// Number of concurrent clients.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Repetitions of the incremental pull (the median is reported).
    #[arg(long, default_value_t = 20)]
    repetitions: usize,
    /// The server binary (default: target/release/fieldbook in the workspace).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// The server's log filter.
    #[arg(long, default_value = "info")]
    server_log_level: String,
    /// Keep the database and the server log after the run.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Database {
    Sqlite,
    Postgres,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sync_bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    let binary = args
        .binary
        .clone()
        .unwrap_or_else(|| root.join("target/release/fieldbook"));
    if !binary.is_file() {
        return Err(format!(
            "{} not found; build it first: cargo build --release -p fieldbook",
            binary.display()
        )
        .into());
    }
    let work = tempfile::Builder::new().prefix("fb-sync-bench-").tempdir()?;
    let fresh = FreshDatabase::create(args.database, &args.postgres_url, work.path()).await?;
    let outcome = bench(&args, &root, &binary, work.path(), &fresh.url).await;
    // The server log outlives a failed run.
    if args.keep || outcome.is_err() {
        let kept = work.keep();
        eprintln!("kept {}", kept.display());
    }
    if args.keep {
        eprintln!("kept {}", fresh.url);
    } else {
        fresh.drop_database().await?;
    }
    let report = outcome?;
    report.print(&args);
    Ok(())
}

async fn bench(args: &Args, root: &Path, binary: &Path, work: &Path, url: &str) -> Result<Report> {
    let status = tokio::process::Command::new(binary)
        .current_dir(root)
        .args(["--database-url", url, "--log-level", "warn", "user", "add"])
        .args(["--username", USERNAME, "--name", "Bench", "--role", "rep"])
        .args(["--team", "Bench", "--password", PASSWORD])
        .stdout(Stdio::null())
        .status()
        .await?;
    if !status.success() {
        return Err(format!("`fieldbook user add` failed: {status}").into());
    }
    let mut server = Server::start(
        binary,
        root,
        url,
        &work.join("server.log"),
        &args.server_log_level,
    )
    .await?;
    let outcome = measure(args, &server).await;
    server.stop().await;
    outcome.map_err(|e| format!("{e} (server log: {})", server.log.display()).into())
}

async fn measure(args: &Args, server: &Server) -> Result<Report> {
    let leads = LeadMaker::new();
    let mut records: Vec<Uuid> = Vec::with_capacity(TOTAL_RECORDS);
    let writer = Client::login(&server.base).await?;

    // 1. Push of 10,000 new leads.
    eprintln!("pushing {FIRST_PUSH} leads…");
    let sample = leads.fields(0);
    let lead_bytes = serde_json::to_vec(&sample)?.len();
    let mut batch_bytes = 0;
    let mut push_time = Duration::ZERO;
    for _ in 0..FIRST_PUSH / BATCH {
        let body = leads.creates(&mut records, BATCH)?;
        batch_bytes = batch_bytes.max(body.len());
        push_time += writer.push_all_applied(body, BATCH).await?;
    }

    // 2. A fresh client's pull of those 10,000.
    eprintln!("pulling {FIRST_PUSH} leads on a fresh client…");
    let reader = Client::login(&server.base).await?;
    let started = Instant::now();
    let (pulled, mut cursor, pages) = reader.pull_to_end(0).await?;
    let pull_time = started.elapsed();
    check_count("fresh pull", pulled, FIRST_PUSH)?;
    // 4. Memory, here with 10,000 records synced (and again below).
    let memory_10k = server.memory()?;

    // 3. Up to 100,000 records, then incremental pulls of 100 edits.
    eprintln!("pushing {} more leads…", TOTAL_RECORDS - FIRST_PUSH);
    let mut fill_time = Duration::ZERO;
    while records.len() < TOTAL_RECORDS {
        let body = leads.creates(&mut records, BATCH)?;
        fill_time += writer.push_all_applied(body, BATCH).await?;
    }
    let started = Instant::now();
    let (caught_up, end, _) = reader.pull_to_end(cursor).await?;
    let catch_up_time = started.elapsed();
    check_count("catch-up pull", caught_up, TOTAL_RECORDS - FIRST_PUSH)?;
    cursor = end;
    eprintln!("incremental pulls of {EDITS} among {TOTAL_RECORDS}…");
    let mut incremental = Vec::with_capacity(args.repetitions);
    for repetition in 0..args.repetitions {
        let targets = records
            .get(repetition * EDITS..(repetition + 1) * EDITS)
            .ok_or("more repetitions than records to edit")?;
        let body = edits(targets, repetition)?;
        writer.push_all_applied(body, EDITS).await?;
        let started = Instant::now();
        let page = reader.pull(cursor).await?;
        incremental.push(started.elapsed());
        check_count("incremental pull", page.changes.len(), EDITS)?;
        if page.has_more {
            return Err("incremental pull: has_more after 100 changes".into());
        }
        cursor = page.cursor;
    }
    let memory_100k = server.memory()?;

    // 5. Concurrent clients.
    eprintln!("signing in {} clients…", args.clients);
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(Client::login(&server.base).await?);
    }
    let memory_signed_in = server.memory()?;
    let peak_reset = server.reset_peak_memory();
    eprintln!("{} clients syncing for {} s…", args.clients, args.concurrent_secs);
    let load_started = Instant::now();
    let deadline = load_started + Duration::from_secs(args.concurrent_secs);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, client)| {
            let leads = leads.clone();
            tokio::spawn(concurrent_client(client, leads, n, cursor, deadline))
        })
        .collect();
    let mut load = LoadStats::default();
    for task in tasks {
        load.merge(task.await?);
    }
    load.elapsed = load_started.elapsed();
    let memory_concurrent = server.memory()?;
    let (landed, _, _) = writer.pull_to_end(cursor).await?;

    Ok(Report {
        lead_bytes,
        batch_bytes,
        push_time,
        pull_time,
        pull_pages: pages,
        fill_time,
        catch_up_time,
        incremental,
        memory_10k,
        memory_100k,
        memory_signed_in,
        memory_concurrent,
        peak_reset,
        load,
        landed,
    })
}

fn check_count(what: &str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(format!("{what}: got {got} changes, expected {expected}").into())
    }
}

/// One of the concurrent clients: push 5 new leads, pull to the end, repeat.
async fn concurrent_client(
    client: Client,
    leads: LeadMaker,
    n: usize,
    mut cursor: i64,
    deadline: Instant,
) -> LoadStats {
    let mut stats = LoadStats::default();
    let mut records = Vec::new();
    let mut round = 0usize;
    while Instant::now() < deadline {
        round += 1;
        let seed = 1_000_000 + n * 100_000 + round;
        let body = match leads.creates_from(&mut records, CONCURRENT_BATCH, seed) {
            Ok(body) => body,
            Err(_) => break,
        };
        let started = Instant::now();
        let answer = client.post("sync/push", body).await;
        let took = started.elapsed();
        let outcome = read_answer::<PushAnswer>(answer).and_then(|answer| {
            let applied = answer.applied();
            stats.applied += applied;
            match answer.results.iter().find(|r| r.status != "applied") {
                None if applied == CONCURRENT_BATCH => Ok(()),
                None => Err(format!("{applied} results for {CONCURRENT_BATCH} mutations")),
                Some(other) => Err(format!("status {}", other.status)),
            }
        });
        stats.record(Kind::Push, took, outcome);
        loop {
            let started = Instant::now();
            let answer = client.post("sync/pull", pull_body(cursor)).await;
            let took = started.elapsed();
            match read_answer::<Page>(answer) {
                Ok(page) => {
                    stats.record(Kind::Pull, took, Ok(()));
                    stats.pulled += page.changes.len();
                    cursor = page.cursor;
                    if !page.has_more || Instant::now() >= deadline {
                        break;
                    }
                }
                Err(error) => {
                    stats.record(Kind::Pull, took, Err(error));
                    break;
                }
            }
        }
    }
    stats
}

/// The body of a 200 answer, or a short label of what went wrong instead.
fn read_answer<T: DeserializeOwned>(
    answer: Result<(StatusCode, Vec<u8>), reqwest::Error>,
) -> Result<T, String> {
    match answer {
        Ok((StatusCode::OK, bytes)) => {
            serde_json::from_slice(&bytes).map_err(|_| "200 with an unreadable body".to_owned())
        }
        Ok((status, bytes)) => {
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|body| body.get("error").and_then(Value::as_str).map(str::to_owned));
            Err(format!("{} {}", status.as_u16(), code.unwrap_or_default()))
        }
        Err(error) if error.is_timeout() => Err("client timeout (60 s)".to_owned()),
        Err(_) => Err("transport error".to_owned()),
    }
}

// ---------------------------------------------------------------------------
// The server under test.

struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(binary: &Path, root: &Path, url: &str, log: &Path, log_level: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let child = tokio::process::Command::new(binary)
            .current_dir(root)
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .args(["--database-url", url, "--log-level", log_level])
            .args(["serve", "--addr", &addr])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the server exited at once")?;
        let server = Self {
            child,
            pid,
            base: format!("http://{addr}"),
            log: log.to_path_buf(),
        };
        let health = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = health.get(format!("{}/healthz", server.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("the server did not start; see {}", log.display()).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// VmRSS and VmHWM of the server process.
    fn memory(&self) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib = |key: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|line| line.starts_with(key))
                .ok_or_else(|| format!("no {key} in /proc/{}/status", self.pid))?;
            let value = line[key.len()..].trim().trim_end_matches("kB").trim();
            Ok(value.parse()?)
        };
        Ok(Memory {
            rss_kib: kib("VmRSS:")?,
            hwm_kib: kib("VmHWM:")?,
        })
    }

    /// Resets VmHWM to the current RSS (Linux: `5` into `clear_refs`), so the
    /// next reading is the peak of what follows. False if that is not allowed.
    fn reset_peak_memory(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    async fn stop(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

#[derive(Debug, Clone, Copy)]
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A database made for this run, and dropped after it.
struct FreshDatabase {
    url: String,
    postgres: Option<(String, String)>,
}

impl FreshDatabase {
    async fn create(database: Database, admin_url: &str, work: &Path) -> Result<Self> {
        match database {
            Database::Sqlite => Ok(Self {
                url: format!("sqlite://{}", work.join("fb.db").display()),
                postgres: None,
            }),
            Database::Postgres => {
                let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
                let name = format!("fb_bench_{}_{}", stamp.as_secs(), std::process::id());
                let mut admin = sqlx::PgConnection::connect(admin_url).await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .ok_or("the PostgreSQL URL names no database")?;
                Ok(Self {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin_url.to_owned(), name)),
                })
            }
        }
    }

    async fn drop_database(self) -> Result<()> {
        if let Some((admin_url, name)) = self.postgres {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// A signed-in sync client.

struct Client {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct PushAnswer {
    results: Vec<MutationAnswer>,
}

#[derive(Deserialize)]
struct MutationAnswer {
    status: String,
}

impl PushAnswer {
    fn applied(&self) -> usize {
        self.results.iter().filter(|r| r.status == "applied").count()
    }
}

#[derive(Deserialize)]
struct Page {
    changes: Vec<IgnoredAny>,
    cursor: i64,
    has_more: bool,
}

fn pull_body(cursor: i64) -> Vec<u8> {
    json!({"request": {"cursor": cursor, "limit": PAGE}})
        .to_string()
        .into_bytes()
}

impl Client {
    async fn login(base: &str) -> Result<Self> {
        let client = Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(60))
                .build()?,
            base: base.to_owned(),
        };
        let body = json!({"username": USERNAME, "password": PASSWORD}).to_string();
        let (status, answer) = client.post("auth/login", body.into_bytes()).await?;
        if status != StatusCode::OK {
            return Err(format!("sign-in: {status} {}", String::from_utf8_lossy(&answer)).into());
        }
        Ok(client)
    }

    /// POSTs a JSON body to `/api/<path>` (with the same-origin header the
    /// server asks for) and reads the whole answer.
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), reqwest::Error> {
        let response = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .header("origin", &self.base)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((status, bytes.to_vec()))
    }

    /// Pushes one batch; fails unless every mutation was applied. Returns the
    /// time of the request.
    async fn push_all_applied(&self, body: Vec<u8>, expected: usize) -> Result<Duration> {
        let started = Instant::now();
        let (status, bytes) = self.post("sync/push", body).await?;
        let took = started.elapsed();
        if status != StatusCode::OK {
            return Err(format!("push: {status} {}", String::from_utf8_lossy(&bytes)).into());
        }
        let answer: PushAnswer = serde_json::from_slice(&bytes)?;
        if answer.results.len() != expected || answer.applied() != expected {
            let first = answer.results.iter().find(|r| r.status != "applied");
            return Err(format!(
                "push: {} of {expected} applied (first other status: {:?})",
                answer.applied(),
                first.map(|r| &r.status)
            )
            .into());
        }
        Ok(took)
    }

    async fn pull(&self, cursor: i64) -> Result<Page> {
        let (status, bytes) = self.post("sync/pull", pull_body(cursor)).await?;
        if status != StatusCode::OK {
            return Err(format!("pull: {status} {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Pulls page after page from `cursor`: (changes, final cursor, pages).
    async fn pull_to_end(&self, mut cursor: i64) -> Result<(usize, i64, usize)> {
        let (mut changes, mut pages) = (0, 0);
        loop {
            let page = self.pull(cursor).await?;
            changes += page.changes.len();
            pages += 1;
            cursor = page.cursor;
            if !page.has_more {
                return Ok((changes, cursor, pages));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Leads as a client's outbox carries them (stored form, all fields filled).

#[derive(Clone)]
struct LeadMaker {
    contacted_base: chrono::DateTime<chrono::Utc>,
    next_step_date: String,
}

use app::leads::{GRADES, SOURCES};

impl LeadMaker {
    fn new() -> Self {
        let now = chrono::Utc::now();
        Self {
            contacted_base: now - chrono::Duration::days(1),
            next_step_date: (now + chrono::Duration::days(7))
                .date_naive()
                .format("%Y-%m-%d")
                .to_string(),
        }
    }

    fn fields(&self, n: usize) -> Value {
        let contacted_at = self.contacted_base - chrono::Duration::seconds((n % 86_400) as i64);
        json!({
            "company": format!("苏州恒达精密机械有限公司{n:07}"),
            "industry": "机械制造",
            "staff_size": "100-499人",
            "revenue_band": "5000万-1亿元",
            "contact_name": "王建国",
            "contact_title": "采购经理",
            "phone": format!("138{:08}", n % 100_000_000),
            "email": format!("buyer{n}@hengda-example.cn"),
            "source": SOURCES[n % SOURCES.len()],
            "initial_need": "需要两台五轴加工中心的报价，年内采购",
            "grade": GRADES[n % GRADES.len()],
            "contacted_at": contacted_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "next_step": "下周上门演示并提交方案",
            "next_step_date": self.next_step_date,
            "notes": "展会上交换名片，对五轴机型感兴趣。",
        })
    }

    /// A push body creating `count` new leads; their ids are added to `records`.
    fn creates(&self, records: &mut Vec<Uuid>, count: usize) -> Result<Vec<u8>> {
        let seed = records.len();
        self.creates_from(records, count, seed)
    }

    fn creates_from(&self, records: &mut Vec<Uuid>, count: usize, seed: usize) -> Result<Vec<u8>> {
        let mutations: Vec<Value> = (0..count)
            .map(|i| {
                let record_id = Uuid::now_v7();
                records.push(record_id);
                json!({
                    "id": Uuid::now_v7(),
                    "entity": "lead",
                    "record_id": record_id,
                    "base_version": 0,
                    "op": "upsert",
                    "fields": self.fields(seed + i),
                })
            })
            .collect();
        batch_body(mutations)
    }
}

/// A push body editing `notes` of each record (all at version 1).
fn edits(records: &[Uuid], repetition: usize) -> Result<Vec<u8>> {
    let mutations = records
        .iter()
        .map(|record_id| {
            json!({
                "id": Uuid::now_v7(),
                "entity": "lead",
                "record_id": record_id,
                "base_version": 1,
                "op": "upsert",
                "fields": {"notes": format!("第{repetition}轮回访：客户要求补充报价明细。")},
            })
        })
        .collect();
    batch_body(mutations)
}

fn batch_body(mutations: Vec<Value>) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(
        &json!({"batch": {"client_id": Uuid::new_v4(), "mutations": mutations}}),
    )?)
}

// ---------------------------------------------------------------------------
// Results.

#[derive(Clone, Copy)]
enum Kind {
    Push,
    Pull,
}

#[derive(Default)]
struct LoadStats {
    push: Vec<Duration>,
    pull: Vec<Duration>,
    push_errors: usize,
    pull_errors: usize,
    applied: usize,
    pulled: usize,
    /// Errors by kind, e.g. `pull: 500 internal`.
    error_kinds: BTreeMap<String, usize>,
    /// From the start until the last client finished its last request.
    elapsed: Duration,
}

impl LoadStats {
    fn record(&mut self, kind: Kind, took: Duration, outcome: Result<(), String>) {
        let (times, errors, name) = match kind {
            Kind::Push => (&mut self.push, &mut self.push_errors, "push"),
            Kind::Pull => (&mut self.pull, &mut self.pull_errors, "pull"),
        };
        times.push(took);
        if let Err(error) = outcome {
            *errors += 1;
            *self.error_kinds.entry(format!("{name}: {error}")).or_default() += 1;
        }
    }

    fn merge(&mut self, other: LoadStats) {
        self.push.extend(other.push);
        self.pull.extend(other.pull);
        self.push_errors += other.push_errors;
        self.pull_errors += other.pull_errors;
        self.applied += other.applied;
        self.pulled += other.pulled;
        for (kind, count) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += count;
        }
    }
}

/// The median of `times`, in ms (the mean of the middle two for an even count).
fn median(times: &[Duration]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => ms(sorted[n / 2]),
        n => (ms(sorted[n / 2 - 1]) + ms(sorted[n / 2])) / 2.0,
    }
}

/// The `p`-th percentile (nearest rank) of `times`, in ms.
fn percentile(times: &[Duration], p: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    ms(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

fn per_second(records: usize, time: Duration) -> f64 {
    records as f64 / time.as_secs_f64()
}

struct Report {
    lead_bytes: usize,
    batch_bytes: usize,
    push_time: Duration,
    pull_time: Duration,
    pull_pages: usize,
    fill_time: Duration,
    catch_up_time: Duration,
    incremental: Vec<Duration>,
    memory_10k: Memory,
    memory_100k: Memory,
    memory_signed_in: Memory,
    memory_concurrent: Memory,
    peak_reset: bool,
    load: LoadStats,
    landed: usize,
}

impl Report {
    fn print(&self, args: &Args) {
        let load = &self.load;
        let all: Vec<Duration> = load.push.iter().chain(&load.pull).copied().collect();
        let requests = all.len();
        let errors = load.push_errors + load.pull_errors;
        let secs = load.elapsed.as_secs_f64();
        let inc_min = self.incremental.iter().min().copied().map_or(f64::NAN, ms);
        let inc_max = self.incremental.iter().max().copied().map_or(f64::NAN, ms);
        let peak_label = if self.peak_reset {
            "server peak memory during the run (VmHWM)"
        } else {
            "server peak memory since start (VmHWM; reset refused)"
        };
        let rows: Vec<(String, String)> = vec![
            (
                "lead size (JSON fields) / largest push body".into(),
                format!(
                    "{} B / {:.0} KiB",
                    self.lead_bytes,
                    self.batch_bytes as f64 / 1024.0
                ),
            ),
            (
                format!(
                    "1. push {FIRST_PUSH} new leads ({} × {BATCH})",
                    FIRST_PUSH / BATCH
                ),
                format!(
                    "{:.0} records/s ({:.0} ms)",
                    per_second(FIRST_PUSH, self.push_time),
                    ms(self.push_time)
                ),
            ),
            (
                format!(
                    "2. fresh pull of {FIRST_PUSH} ({} pages of {PAGE})",
                    self.pull_pages
                ),
                format!(
                    "{:.0} records/s ({:.0} ms)",
                    per_second(FIRST_PUSH, self.pull_time),
                    ms(self.pull_time)
                ),
            ),
            (
                format!(
                    "   push of {} more (to {TOTAL_RECORDS})",
                    TOTAL_RECORDS - FIRST_PUSH
                ),
                format!(
                    "{:.0} records/s",
                    per_second(TOTAL_RECORDS - FIRST_PUSH, self.fill_time)
                ),
            ),
            (
                format!("   catch-up pull of those {}", TOTAL_RECORDS - FIRST_PUSH),
                format!(
                    "{:.0} records/s",
                    per_second(TOTAL_RECORDS - FIRST_PUSH, self.catch_up_time)
                ),
            ),
            (
                format!(
                    "3. incremental pull of {EDITS} among {TOTAL_RECORDS}, median of {}",
                    self.incremental.len()
                ),
                format!(
                    "{:.2} ms (min {inc_min:.2}, max {inc_max:.2})",
                    median(&self.incremental)
                ),
            ),
            (
                format!("4. server memory after {FIRST_PUSH} pushed + pulled"),
                format!(
                    "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
                    mib(self.memory_10k.rss_kib),
                    mib(self.memory_10k.hwm_kib)
                ),
            ),
            (
                format!("   server memory with {TOTAL_RECORDS} records"),
                format!(
                    "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
                    mib(self.memory_100k.rss_kib),
                    mib(self.memory_100k.hwm_kib)
                ),
            ),
            (
                format!("   server memory after {} sign-ins", args.clients),
                format!(
                    "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
                    mib(self.memory_signed_in.rss_kib),
                    mib(self.memory_signed_in.hwm_kib)
                ),
            ),
            (
                format!(
                    "5. {} clients × {} s ({secs:.1} s to the last answer): requests (push + pull)",
                    args.clients, args.concurrent_secs
                ),
                format!(
                    "{requests} ({} + {}), {:.0} requests/s",
                    load.push.len(),
                    load.pull.len(),
                    requests as f64 / secs
                ),
            ),
            (
                "   errors (transport, non-200, not applied)".into(),
                format!("{errors} (push {}, pull {})", load.push_errors, load.pull_errors),
            ),
            (
                "   errors by kind".into(),
                if load.error_kinds.is_empty() {
                    "none".to_owned()
                } else {
                    load.error_kinds
                        .iter()
                        .map(|(kind, count)| format!("{kind} × {count}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ),
            (
                "   latency, all requests: p50 / p99".into(),
                format!(
                    "{:.1} ms / {:.1} ms",
                    percentile(&all, 50.0),
                    percentile(&all, 99.0)
                ),
            ),
            (
                "   latency, push: p50 / p99".into(),
                format!(
                    "{:.1} ms / {:.1} ms",
                    percentile(&load.push, 50.0),
                    percentile(&load.push, 99.0)
                ),
            ),
            (
                "   latency, pull: p50 / p99".into(),
                format!(
                    "{:.1} ms / {:.1} ms",
                    percentile(&load.pull, 50.0),
                    percentile(&load.pull, 99.0)
                ),
            ),
            (
                "   records applied / pulled by the clients".into(),
                format!(
                    "{} applied ({:.0}/s), {} pulled; all {} found by a final pull: {}",
                    load.applied,
                    load.applied as f64 / secs,
                    load.pulled,
                    load.applied,
                    if self.landed == load.applied { "yes" } else { "NO" }
                ),
            ),
            (
                format!("   {peak_label}"),
                format!("{:.1} MiB", mib(self.memory_concurrent.hwm_kib)),
            ),
            (
                "   server memory at the end (VmRSS)".into(),
                format!("{:.1} MiB", mib(self.memory_concurrent.rss_kib)),
            ),
        ];
        let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        let database = match args.database {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        };
        println!();
        println!("Fieldbook sync benchmark: {database}");
        println!();
        println!("| {:<width$} | result |", "measure");
        println!("|{}|--------|", "-".repeat(width + 2));
        for (key, value) in &rows {
            println!("| {key:<width$} | {value} |");
        }
    }
}
