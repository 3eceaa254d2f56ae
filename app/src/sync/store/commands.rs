//! Changes that arrive outside a push: a command by the holder of a link's
//! secret (a customer's survey answer) and a supervisor's reassignment.

use super::current::{load, Current};
use super::decide::{decide_command, Decision};
use super::writes::{Write, Writes};
use crate::error::AppError;
use crate::policy::Ownership;
use crate::roles::CurrentUser;
use crate::ssr::session::parse_uuid;
use crate::ssr::Db;
use crate::ssr::DbError;
use crate::sync::entity::{Context, Entities, EntitySpec};
use crate::sync::{Fields, Mutation, MutationStatus, Op};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Applies `command` to a record for whoever holds a link's secret (a
/// customer answering a survey): no one is signed in, so the access policy
/// has no user to ask; the authority is the secret in `args`, which the
/// entity's rule checks against the record (`entity::LINK_HOLDER` is the
/// actor). Decided and written as any command. `Ok(Err(reason))` is a
/// refusal; a missing or deleted record is `NotFound`.
pub async fn command_by_link(
    db: &Db,
    entities: Entities,
    spec: &'static EntitySpec,
    id: Uuid,
    command: &'static str,
    args: Fields,
    now: DateTime<Utc>,
) -> Result<Result<(), AppError>, DbError> {
    let link = CurrentUser {
        id: crate::sync::entity::LINK_HOLDER,
        username: "link".into(),
        display_name: String::new(),
        role: crate::roles::Role::Admin,
        team_id: None,
        time_zone: "Asia/Shanghai".into(),
    };
    let mut tx = db.pool.begin().await?;
    let mut writes = Writes::begin(&mut tx, now, entities).await?;
    let Some(current) = load(&mut tx, spec, &[id]).await?.remove(&(spec.name, id)) else {
        return Ok(Err(AppError::NotFound));
    };
    if current.record.deleted {
        return Ok(Err(AppError::NotFound));
    }
    let mutation = Mutation {
        id: Uuid::now_v7(),
        entity: spec.name.to_owned(),
        record_id: id,
        base_version: current.record.version,
        op: Op::Command,
        fields: args,
        command: Some(command.to_owned()),
        base: Default::default(),
    };
    let Decision { status, write } = decide_command(
        &link,
        spec,
        mutation,
        &current,
        &Context::default(),
        now,
        &mut |series| writes.next_number(series),
    );
    if let MutationStatus::Rejected { reason } = status {
        return Ok(Err(reason));
    }
    if let Some(write) = write {
        writes.record(&link, spec, id, &write)?;
    }
    writes.finish(&mut tx).await?;
    tx.commit().await?;
    db.wrote();
    Ok(Ok(()))
}

/// Gives a record to another owner (a supervisor's reassignment). The old
/// owner's next pull receives it as `removed` if it left their scope.
pub async fn reassign(
    db: &Db,
    entities: Entities,
    entity: &str,
    id: Uuid,
    new_owner: Uuid,
    actor: &CurrentUser,
) -> Result<bool, DbError> {
    let spec = entities
        .spec(entity)
        .ok_or_else(|| DbError::Corrupt(format!("unknown entity {entity}")))?;
    let mut tx = db.pool.begin().await?;
    let mut writes = Writes::begin(&mut tx, Utc::now(), entities).await?;
    let Some(current) = load(&mut tx, spec, &[id]).await?.remove(&(spec.name, id)) else {
        return Ok(false);
    };
    let (new_team, owner_name): (Option<String>, String) =
        sqlx::query_as("SELECT team_id, display_name FROM users WHERE id = $1")
            .bind(new_owner.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let mut record = current.record;
    record.version += 1;
    let owners = |o: Uuid| {
        serde_json::json!({ "owner_id": o })
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let write = Write {
        current: Current {
            record,
            ownership: Ownership {
                owner_id: new_owner,
                owner_team_id: new_team.as_deref().map(parse_uuid).transpose()?,
            },
            owner_name,
        },
        action: "reassign",
        before: Some(owners(current.ownership.owner_id)),
        after: Some(owners(new_owner)),
        previous_owner: Some(current.ownership.owner_id),
        absorbs: None,
        conflicts: Vec::new(),
    };
    writes.record(actor, spec, id, &write)?;
    writes.finish(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}
