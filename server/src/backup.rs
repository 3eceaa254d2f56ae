//! `fieldbook backup PATH`: a consistent copy of the SQLite database, taken
//! while the server keeps serving. SQLite's `VACUUM INTO` reads the database
//! in one read transaction, so the copy holds every push committed before it
//! began and nothing of one after (a push is one transaction); readers and
//! writers go on meanwhile (write-ahead log). PostgreSQL has its own tools.

use app::ssr::{Db, Dialect};
use std::path::Path;

/// Writes the copy to `path`, which must not exist yet.
pub async fn sqlite(db: &Db, path: &Path) -> Result<(), String> {
    if db.dialect == Dialect::Postgres {
        return Err(
            "this is a PostgreSQL database: back it up with `pg_dump --format=custom --file=PATH <url>` \
             and restore with `pg_restore`"
                .into(),
        );
    }
    if path.exists() {
        return Err(format!("{} exists already: choose a new file", path.display()));
    }
    let target = path
        .to_str()
        .ok_or_else(|| format!("{} is not a path SQLite can take", path.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&db.pool)
        .await
        .map_err(|e| format!("the backup failed: {e}"))?;
    Ok(())
}
