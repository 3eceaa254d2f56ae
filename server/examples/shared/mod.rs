//! What the benchmarks share: a fresh database of either kind, and the
//! median and slowest of a series of times.

use app::ssr::Db;
use std::time::Duration;
use uuid::Uuid;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Which database a benchmark runs on.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    pub database: String,
    /// An administrative PostgreSQL URL; the benchmark makes its own database.
    #[arg(
        long,
        env = "FIELDBOOK_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres: String,
}

/// A fresh, migrated database: SQLite in `dir`, or a new PostgreSQL
/// database made through `postgres` (an administrative URL whose database
/// is left as it is).
pub async fn fresh_database(args: &DatabaseArgs, dir: &tempfile::TempDir) -> Result<Db, Error> {
    let postgres = args.postgres.as_str();
    let url = match args.database.as_str() {
        "postgres" => {
            let name = format!("fb_bench_{}", Uuid::new_v4().simple());
            // A plain connection: `Db::connect` would migrate the
            // administrative database too.
            let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(postgres).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
            let (base, _) = postgres
                .rsplit_once('/')
                .ok_or("a PostgreSQL URL ends in /database")?;
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}/bench.db", dir.path().display()),
    };
    Ok(Db::connect(&url).await?)
}

pub fn median_and_max(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}
