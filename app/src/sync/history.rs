//! A record's history, read from the audit trail that every write commits
//! with: who changed it, when, by which command, and the fields before and
//! after. Any synced entity has one; the record's page shows it in words.

use super::Fields;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One write of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// Who wrote it; `None` for the server itself (a clock that ran out).
    pub actor: Option<String>,
    /// `create`, `update`, `delete`, `reassign`, `raise_clock` or the
    /// command's name.
    pub action: String,
    /// The changed fields as they were (`None` for a creation).
    pub before: Option<Fields>,
    /// The changed fields as they became.
    pub after: Option<Fields>,
}

/// The most entries one history holds: the newest.
pub const MAX_HISTORY: i64 = 200;

/// `id`'s history, newest first, if the record exists and is in `user`'s
/// scope now (out of scope answers like missing: `None`). Stored JSON that
/// does not read back is left out of its entry rather than failing the
/// page: what a check once let in must stay readable.
#[cfg(feature = "ssr")]
pub async fn history(
    db: &crate::ssr::Db,
    spec: &'static super::entity::EntitySpec,
    user: &crate::roles::CurrentUser,
    id: uuid::Uuid,
) -> Result<Option<Vec<HistoryEntry>>, crate::ssr::DbError> {
    use crate::ssr::session::parse_uuid;
    let mut conn = db.pool.acquire().await?;
    let owner: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT r.owner_id, u.team_id FROM records r JOIN users u ON u.id = r.owner_id \
         WHERE r.entity = $1 AND r.id = $2",
    )
    .bind(spec.name)
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((owner_id, team)) = owner else {
        return Ok(None);
    };
    let ownership = crate::policy::Ownership {
        owner_id: parse_uuid(&owner_id)?,
        owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
    };
    if !crate::policy::can_read(user, spec.kind, ownership) {
        return Ok(None);
    }
    /// at, actor's name, action, before, after.
    type Row = (i64, Option<String>, String, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.at, u.display_name, a.action, a.before_json, a.after_json \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id \
         WHERE a.entity = $1 AND a.record_id = $2 ORDER BY a.id DESC LIMIT $3",
    )
    .bind(spec.name)
    .bind(id.to_string())
    .bind(MAX_HISTORY)
    .fetch_all(&mut *conn)
    .await?;
    let fields = |json: Option<String>| json.and_then(|text| serde_json::from_str::<Fields>(&text).ok());
    let mut entries: Vec<HistoryEntry> = rows
        .into_iter()
        .map(|(at, actor, action, before, after)| HistoryEntry {
            at: crate::ssr::from_millis(at),
            actor,
            action,
            before: fields(before),
            after: fields(after),
        })
        .collect();
    // What the pull leaves out (a pooled customer's phone, a survey's
    // secret) the history leaves out too.
    let hidden = (spec.hidden)(user, ownership);
    for fields in entries
        .iter_mut()
        .flat_map(|e| e.before.iter_mut().chain(e.after.iter_mut()))
    {
        for field in hidden {
            fields.remove(*field);
        }
    }
    name_people(&mut conn, &mut entries).await?;
    Ok(Some(entries))
}

/// Values that are a user's id (the owner a customer left for the pool)
/// read as the user's name: a history is for people to read.
#[cfg(feature = "ssr")]
async fn name_people(
    conn: &mut sqlx::AnyConnection,
    entries: &mut [HistoryEntry],
) -> Result<(), crate::ssr::DbError> {
    use serde_json::Value;
    let values = |entries: &[HistoryEntry]| -> Vec<String> {
        let mut ids: Vec<String> = entries
            .iter()
            .flat_map(|e| e.before.iter().chain(e.after.iter()))
            .flat_map(|fields| fields.values())
            .filter_map(Value::as_str)
            .filter(|text| uuid::Uuid::parse_str(text).is_ok())
            .map(str::to_owned)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let ids = values(entries);
    if ids.is_empty() {
        return Ok(());
    }
    let mut names = std::collections::HashMap::new();
    for chunk in ids.chunks(100) {
        let list = (0..chunk.len())
            .map(|n| format!("${}", n + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id, display_name FROM users WHERE id IN ({list})");
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        names.extend(query.fetch_all(&mut *conn).await?);
    }
    for fields in entries
        .iter_mut()
        .flat_map(|e| e.before.iter_mut().chain(e.after.iter_mut()))
    {
        for value in fields.values_mut() {
            if let Some(name) = value.as_str().and_then(|id| names.get(id)) {
                *value = Value::String(name.clone());
            }
        }
    }
    Ok(())
}
