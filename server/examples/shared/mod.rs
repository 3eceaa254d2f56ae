//! What the benchmarks share: a fresh database of either kind, and the
//! median and slowest of a series of times.

use app::ssr::Db;
use std::time::Duration;
use uuid::Uuid;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A fresh, migrated database: SQLite in `dir`, or a new PostgreSQL
/// database made through `postgres` (an administrative URL whose database
/// is left as it is).
pub async fn fresh_database(kind: &str, postgres: &str, dir: &tempfile::TempDir) -> Result<Db, Error> {
    let url = match kind {
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
