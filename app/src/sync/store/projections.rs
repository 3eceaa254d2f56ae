//! The typed tables beside the records: rebuilt from the records, or filled
//! for a projection that is new since the last start.

use super::sql::parse_json;
use super::sql::IdText;
use super::writes::{insert_projected, projected_row, New, Writes};
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::DbError;
use crate::sync::entity::{Entities, EntitySpec};
use crate::sync::StoredRecord;
use chrono::Utc;
use std::collections::BTreeMap;

/// Rebuilds every projection from the records, in one transaction per
/// entity (readers see the old rows until it commits). Returns the rows
/// written. Holds the change counter, so no push interleaves.
pub async fn rebuild_projections(db: &Db, entities: Entities) -> Result<u64, DbError> {
    let mut written = 0u64;
    for spec in entities.iter() {
        written += rebuild_projection(db, entities, spec).await?;
    }
    Ok(written)
}

/// Fills each projection that is empty while its entity has records (one
/// a newer version added): the server runs it as it starts, so an upgrade
/// needs no manual rebuild. Returns the tables filled.
pub async fn fill_new_projections(db: &Db, entities: Entities) -> Result<Vec<&'static str>, DbError> {
    let mut filled = Vec::new();
    for spec in entities.iter() {
        let Some(projection) = spec.projection else {
            continue;
        };
        let projected: Option<(String,)> =
            sqlx::query_as(&format!("SELECT id FROM {} LIMIT 1", projection.table))
                .fetch_optional(&db.pool)
                .await?;
        let stored: Option<(String,)> = sqlx::query_as("SELECT id FROM records WHERE entity = $1 LIMIT 1")
            .bind(spec.name)
            .fetch_optional(&db.pool)
            .await?;
        if projected.is_none() && stored.is_some() {
            rebuild_projection(db, entities, spec).await?;
            filled.push(projection.table);
        }
    }
    Ok(filled)
}

pub(super) async fn rebuild_projection(
    db: &Db,
    entities: Entities,
    spec: &EntitySpec,
) -> Result<u64, DbError> {
    const CHUNK: i64 = 5_000;
    let Some(projection) = spec.projection else {
        return Ok(0);
    };
    let mut written = 0u64;
    let mut tx = db.pool.begin().await?;
    let _ = Writes::begin(&mut tx, Utc::now(), entities).await?;
    sqlx::query(&format!("DELETE FROM {}", projection.table))
        .execute(&mut *tx)
        .await?;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT id, owner_id, deleted, data FROM records WHERE entity = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(spec.name)
        .bind(after.as_str())
        .bind(CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let mut batch = Vec::with_capacity(rows.len());
        for (id, owner, deleted, data) in &rows {
            let record = StoredRecord {
                version: 0,
                deleted: *deleted != 0,
                fields: parse_json(data)?,
                field_versions: BTreeMap::new(),
            };
            batch.push(projected_row(
                projection,
                IdText::new(parse_uuid(id)?),
                IdText::new(parse_uuid(owner)?),
                &record,
            ));
        }
        written += batch.len() as u64;
        // The table was emptied above: every row is new.
        insert_projected(&mut tx, projection, batch.into_iter(), New::Only).await?;
        if (rows.len() as i64) < CHUNK {
            break;
        }
    }
    tx.commit().await?;
    Ok(written)
}
