//! Lead queries (server only). Leads are `lead` records of the sync store;
//! every read takes a `Scope`, so no query can forget the access rule.

use super::{work_order, Lead, RecordMeta, StoredLead};
use crate::policy::{Ownership, Scope};
use crate::ssr::session::parse_uuid;
use crate::ssr::{from_millis, Db, DbError};
use crate::sync::store::parse_json;
use uuid::Uuid;

const SELECT: &str =
    "SELECT r.id, r.owner_id, u.display_name, u.team_id, r.version, r.data, r.created_at, r.updated_at \
     FROM records r JOIN users u ON u.id = r.owner_id WHERE r.entity = 'lead' AND r.deleted = 0";

type Row = (String, String, String, Option<String>, i64, String, i64, i64);

fn into_lead(row: Row) -> Result<(Lead, Ownership), DbError> {
    let (id, owner, owner_name, team, version, data, created_at, updated_at) = row;
    let owner_id = parse_uuid(&owner)?;
    let meta = RecordMeta {
        id: parse_uuid(&id)?,
        owner_id,
        owner_name,
        version,
        created_at: from_millis(created_at),
        updated_at: from_millis(updated_at),
    };
    let stored: StoredLead = parse_json(&data)?;
    let ownership = Ownership {
        owner_id,
        owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
    };
    Ok((Lead::from_stored(meta, stored), ownership))
}

/// The leads in `scope`, A leads first, then the most recently contacted.
pub async fn list(db: &Db, scope: Scope) -> Result<Vec<Lead>, DbError> {
    let rows: Vec<Row> = match scope {
        Scope::Own(user) => {
            sqlx::query_as(&format!("{SELECT} AND r.owner_id = $1"))
                .bind(user.to_string())
                .fetch_all(&db.pool)
                .await?
        }
        Scope::Team(team) => {
            sqlx::query_as(&format!("{SELECT} AND u.team_id = $1"))
                .bind(team.to_string())
                .fetch_all(&db.pool)
                .await?
        }
        Scope::All => sqlx::query_as(SELECT).fetch_all(&db.pool).await?,
    };
    // One unreadable record (written before a check was tightened, or by
    // hand) must not take the whole list down with it: it is left out and
    // logged, and every other lead is listed.
    let mut leads: Vec<Lead> = rows
        .into_iter()
        .filter_map(|row| {
            let id = row.0.clone();
            into_lead(row)
                .map_err(|error| tracing::error!(lead = %id, %error, "unreadable lead left out of a list"))
                .ok()
                .map(|(lead, _)| lead)
        })
        .collect();
    leads.sort_by(work_order);
    Ok(leads)
}

/// One lead and who owns it, whatever the scope: the caller decides access.
pub async fn find(db: &Db, id: Uuid) -> Result<Option<(Lead, Ownership)>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} AND r.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    row.map(into_lead).transpose()
}
