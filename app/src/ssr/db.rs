//! One pool for SQLite or PostgreSQL, chosen by the URL at start-up.
//!
//! Queries go through sqlx's `Any` driver with runtime-checked SQL that both
//! dialects accept (`$1` placeholders, TEXT ids, BIGINT epoch milliseconds,
//! TEXT decimals). Where the dialects differ, the schema lives in one migration
//! folder per dialect and the code branches on `Dialect`.

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0} (use sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// Wakes the task that follows large writes: SQLite's checkpoint of
    /// its write-ahead log, PostgreSQL's statistics of grown tables.
    after_write: Arc<Notify>,
}

/// SQLite's commit-time checkpoint, kept as a backstop should the
/// checkpoint task fall behind: at 4,000 log pages (16 MiB) rather than the
/// default 1,000.
const BACKSTOP_CHECKPOINT_PAGES: u32 = 4_000;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Opens the database, creating a SQLite file (and its folder) if needed,
    /// and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact(url)));
        };
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_owned(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match dialect {
                // SQLite has one writer; a few readers are plenty.
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10));
        let options = match dialect {
            Dialect::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                         PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES};"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            }),
            Dialect::Postgres => options,
        };
        let pool = options.connect(&url).await.map_err(|source| DbError::Open {
            url: redact(&url),
            source,
        })?;
        let after_write = Arc::new(Notify::new());
        match dialect {
            Dialect::Sqlite => tokio::spawn(checkpoint_wal(pool.clone(), after_write.clone())),
            Dialect::Postgres => tokio::spawn(refresh_statistics(pool.clone(), after_write.clone())),
        };
        let db = Self {
            pool,
            dialect,
            after_write,
        };
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Says that a transaction has just committed a large write (a sync
    /// push), so that SQLite's log is copied back soon, and PostgreSQL's
    /// statistics of a table that grew are gathered, beside the requests.
    pub fn wrote(&self) {
        self.after_write.notify_one();
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The file of a `sqlite:` URL; `None` for another database or one in memory.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (path != ":memory:" && !path.is_empty()).then(|| std::path::PathBuf::from(path))
}

/// Adds `mode=rwc` so the file is created, and creates its folder.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    if let Some(path) = sqlite_file(url) {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| DbError::DataDir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// The URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Copies SQLite's write-ahead log back into the database file after each
/// large write, and every few seconds. Left to SQLite, the commit that takes
/// the log past its mark does it before answering: every other push of 1,000
/// leads then waited some 20 ms for the copy and two fsyncs. PASSIVE never
/// waits for, or blocks, readers and writers; what it cannot copy yet, the
/// next round does.
async fn checkpoint_wal(pool: AnyPool, wake: Arc<Notify>) {
    while !pool.is_closed() {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            if !pool.is_closed() {
                tracing::warn!(%error, "WAL checkpoint failed; the next round retries");
            }
        }
    }
}

/// The tables a push looks up by lists of ids, whose statistics the
/// server keeps current itself on PostgreSQL.
const LOOKED_UP: [&str; 2] = ["records", "applied_mutations"];

/// PostgreSQL plans a push's lookup of 500 ids by the table's statistics,
/// which autovacuum gathers at most once a minute, and only once a tenth of
/// the table changed. A table that grows in a burst (a company's first
/// import, a team's phones syncing a week of work) is meanwhile planned as
/// the small table it was: the lookup then reads every record of the entity
/// instead of 500 (measured at 100,000 records: 160 ms against 6 ms;
/// docs/benchmarks.md). So after a large write, a table that has grown by
/// half since it was last analysed is analysed now: a few times while it
/// doubles from a thousand rows, then rarely. One server at a time (an
/// advisory lock), outside every request. It looks again every
/// `STATISTICS_EVERY` too: PostgreSQL counts a burst's last rows a moment
/// after their commit, and a failure is retried.
async fn refresh_statistics(pool: AnyPool, wake: Arc<Notify>) {
    while !pool.is_closed() {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(STATISTICS_EVERY) => {}
        }
        if let Err(error) = analyze_grown_tables(&pool).await {
            if !pool.is_closed() {
                tracing::warn!(%error, "refreshing table statistics failed; the next look retries");
            }
        }
    }
}

const STATISTICS_EVERY: Duration = Duration::from_secs(30);

/// Any id, shared by every server on the database: who analyses.
const ANALYZE_LOCK: i64 = 0x6662_5f73_7461_7473; // "fb_stats"

async fn analyze_grown_tables(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (locked,): (i64,) =
        sqlx::query_as("SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END::BIGINT")
            .bind(ANALYZE_LOCK)
            .fetch_one(&mut *tx)
            .await?;
    if locked == 0 {
        return Ok(());
    }
    // A table locked by something slow (a migration, a manual VACUUM) is
    // left for the next look rather than waited for, so that nothing queues
    // behind this transaction.
    sqlx::query("SET LOCAL lock_timeout = '1s'")
        .execute(&mut *tx)
        .await?;
    let grown: Vec<(String,)> = sqlx::query_as(
        "SELECT relname::TEXT FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = ANY(string_to_array($1, ',')) \
         AND n_mod_since_analyze >= 1000 AND n_mod_since_analyze * 2 >= n_live_tup",
    )
    .bind(LOOKED_UP.join(","))
    .fetch_all(&mut *tx)
    .await?;
    for (table,) in grown {
        // Only names from `LOOKED_UP` come back.
        if LOOKED_UP.contains(&table.as_str()) {
            sqlx::query(&format!("ANALYZE {table}")).execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://fb:s3cret@db:5432/fb"),
            "postgres://fb:***@db:5432/fb"
        );
        assert_eq!(redact("sqlite://data/fieldbook.db"), "sqlite://data/fieldbook.db");
    }
}
