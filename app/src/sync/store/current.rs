//! The records a transaction works on, as the server holds them: read
//! once per batch, an entity at a time.

use super::sql::{parse_json, placeholders, IdText, IDS_PER_QUERY};
use crate::policy::Ownership;
use crate::ssr::session::parse_uuid;
use crate::ssr::DbError;
use crate::sync::entity::EntitySpec;
use crate::sync::StoredRecord;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A record as the server holds it, and whose it is.
#[derive(Debug, Clone)]
pub(super) struct Current {
    pub(super) record: StoredRecord,
    pub(super) ownership: Ownership,
    /// The owner's name, for a refusal that says who holds the record.
    pub(super) owner_name: String,
}

/// The records of one entity with these ids, as they stand.
pub(super) async fn load(
    tx: &mut AnyConnection,
    spec: &'static EntitySpec,
    ids: &[Uuid],
) -> Result<HashMap<(&'static str, Uuid), Current>, DbError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let sql = format!(
            "SELECT r.id, r.owner_id, u.team_id, u.display_name, r.version, r.deleted, r.data, r.field_versions \
             FROM records r JOIN users u ON u.id = r.owner_id WHERE r.entity = {} AND r.id IN ({})",
            placeholders(tx, 1, 1),
            placeholders(tx, 2, chunk.len())
        );
        let texts: Vec<IdText> = chunk.iter().copied().map(IdText::new).collect();
        type Row = (String, String, Option<String>, String, i64, i64, String, String);
        let mut query = sqlx::query_as::<_, Row>(&sql).bind(spec.name);
        for id in &texts {
            query = query.bind(id.as_str());
        }
        for (id, owner, team, owner_name, version, deleted, data, field_versions) in
            query.fetch_all(&mut *tx).await?
        {
            let current = Current {
                record: StoredRecord {
                    version,
                    deleted: deleted != 0,
                    fields: parse_json(&data)?,
                    field_versions: parse_json::<BTreeMap<String, i64>>(&field_versions)?,
                },
                ownership: Ownership {
                    owner_id: parse_uuid(&owner)?,
                    owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
                },
                owner_name,
            };
            found.insert((spec.name, parse_uuid(&id)?), current);
        }
    }
    Ok(found)
}
