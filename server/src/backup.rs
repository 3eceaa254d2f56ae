//! `fieldbook backup PATH` and `fieldbook restore PATH`.
//!
//! A backup is a consistent copy taken while the server keeps serving. On
//! SQLite, `VACUUM INTO` reads the database in one read transaction, so the
//! copy holds every push committed before it began and nothing of one after
//! (a push is one transaction); readers and writers go on meanwhile
//! (write-ahead log). On PostgreSQL, `pg_dump` reads one snapshot likewise.
//!
//! A restore puts a backup back, with every server stopped, and gives the
//! database a new epoch (`sync::store::renew_epoch`): a device that synced
//! with the database it replaces is refused its next push and pull with
//! `epoch_changed`, sends again what it had sent (the restored database
//! applies what it lacks and answers the rest as duplicates) and pulls
//! from 0 (docs/sync.md, "Restored servers").

use app::ssr::db::sqlite_file;
use app::ssr::{Db, Dialect};
use sqlx::Connection;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes a copy of the database at `url` to `path`, which must not exist yet.
pub async fn backup(db: &Db, url: &str, path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!("{} exists already: choose a new file", path.display()));
    }
    match db.dialect {
        Dialect::Sqlite => {
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
        Dialect::Postgres => run(
            Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--file")
                .arg(path)
                .arg(url),
            "pg_dump",
        ),
    }
}

/// Replaces the database at `url` by the backup at `path` and gives it a
/// new epoch, which it returns. SQLite: refused while a server serves the
/// file (it holds `hold_while_serving`'s lock); the replaced file is kept
/// beside it as `<name>.replaced-<UTC time>`. PostgreSQL: stop the servers
/// first; the backup is loaded by `pg_restore --clean`.
pub async fn restore(url: &str, path: &Path) -> Result<String, String> {
    if !path.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    match sqlite_file(url) {
        Some(target) => restore_sqlite(&target, path).await?,
        None if url.starts_with("postgres://") || url.starts_with("postgresql://") => run(
            Command::new("pg_restore")
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                ])
                .arg(format!("--dbname={url}"))
                .arg(path),
            "pg_restore",
        )?,
        None => return Err("restore needs a SQLite file or a PostgreSQL database".into()),
    }
    // Opening migrates a backup made by an older version to this one.
    let db = Db::connect(url).await.map_err(|e| e.to_string())?;
    let epoch = app::sync::store::renew_epoch(&db)
        .await
        .map_err(|e| format!("the restored database refused its new epoch: {e}"))?;
    db.pool.close().await;
    Ok(epoch)
}

/// A shared lock on the SQLite file for as long as the server serves it, so
/// that `restore` refuses to replace a file in use (several servers may
/// share it; a restore needs it alone). `None` for PostgreSQL.
pub fn hold_while_serving(url: &str) -> Result<Option<File>, String> {
    let Some(file) = sqlite_file(url) else {
        return Ok(None);
    };
    let held = File::open(&file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    held.try_lock_shared().map_err(|_| {
        format!(
            "{} is being restored: start the server again when it is done",
            file.display()
        )
    })?;
    Ok(Some(held))
}

async fn restore_sqlite(target: &Path, backup: &Path) -> Result<(), String> {
    let source = backup
        .to_str()
        .ok_or_else(|| format!("{} is not a path SQLite can take", backup.display()))?;
    sqlx::any::install_default_drivers();
    let mut copy = sqlx::AnyConnection::connect(&format!("sqlite://{source}?mode=ro"))
        .await
        .map_err(|e| format!("{} does not open as a database: {e}", backup.display()))?;
    let fieldbook: Result<(i64,), _> = sqlx::query_as("SELECT seq FROM sync_counter WHERE id = 1")
        .fetch_one(&mut copy)
        .await;
    if fieldbook.is_err() {
        return Err(format!("{} is not a Fieldbook backup", backup.display()));
    }
    // Alone on the file, or refused: a server keeps a shared lock on it.
    let _alone = match File::open(target) {
        Ok(file) => {
            file.try_lock()
                .map_err(|_| format!("a server is serving {}: stop it, then restore", target.display()))?;
            Some(file)
        }
        Err(_) => None,
    };
    // A fresh, checked copy beside the target, then one rename: a restore
    // cut short leaves the database as it was.
    let fresh = with_suffix(target, ".restoring");
    let _ = std::fs::remove_file(&fresh);
    let fresh_text = fresh
        .to_str()
        .ok_or_else(|| format!("{} is not a path SQLite can take", fresh.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(fresh_text)
        .execute(&mut copy)
        .await
        .map_err(|e| format!("copying {} failed: {e}", backup.display()))?;
    copy.close().await.ok();
    if target.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = with_suffix(target, &format!(".replaced-{stamp}"));
        rename(target, &kept)?;
        // The log belongs to the replaced file: left here, SQLite would
        // replay it into the restored one.
        let log = with_suffix(target, "-wal");
        if log.exists() {
            rename(&log, &with_suffix(&kept, "-wal"))?;
        }
        let _ = std::fs::remove_file(with_suffix(target, "-shm"));
    }
    rename(&fresh, target)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("cannot move {} to {}: {e}", from.display(), to.display()))
}

/// Runs a PostgreSQL tool; its own message on failure.
fn run(command: &mut Command, tool: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {tool} (install PostgreSQL's client tools): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
