//! Lead server functions: thin. Each resolves the user, asks `policy`, and
//! calls `store`.

use super::{Lead, LeadForm};
use crate::error::AppError;
use crate::policy::Scope;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

/// The leads the signed-in user may see, and which scope that is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeadList {
    pub scope: Scope,
    pub leads: Vec<Lead>,
}

#[server(endpoint = "leads/list", input = Json)]
pub async fn list_leads() -> Result<LeadList, AppError> {
    use crate::{policy, ssr};
    let user = ssr::require_user().await?;
    let scope = policy::lead_scope(&user).ok_or(AppError::Forbidden)?;
    let leads = super::store::list(&ssr::state()?.db, scope).await?;
    Ok(LeadList { scope, leads })
}

#[server(endpoint = "leads/get", input = Json)]
pub async fn get_lead(id: Uuid) -> Result<Lead, AppError> {
    use crate::{policy, ssr};
    let user = ssr::require_user().await?;
    // A lead outside the user's scope answers exactly like a missing one, so
    // probing ids reveals nothing.
    match super::store::find(&ssr::state()?.db, id).await? {
        Some((lead, owner)) if policy::can_read_lead(&user, owner) => Ok(lead),
        _ => Err(AppError::NotFound),
    }
}

/// Adds a lead owned by the signed-in user: one create mutation through the
/// sync engine, the same path a synced client takes. The mutation id is the
/// lead's id, so submitting the same form again (a retry after a lost
/// response) is a duplicate that returns the stored lead unchanged.
#[server(endpoint = "leads/add", input = Json)]
pub async fn add_lead(lead: LeadForm) -> Result<Lead, AppError> {
    use crate::ssr;
    use crate::sync::{self, Mutation, MutationStatus, Op, PushBatch};
    let user = ssr::require_user().await?;
    let now = chrono::Utc::now();
    let valid = lead.validate(now, user.tz()).map_err(AppError::invalid)?;
    let id = valid.id.unwrap_or_else(Uuid::now_v7);
    let batch = PushBatch {
        client_id: Uuid::nil(),
        epoch: None,
        mutations: vec![Mutation {
            id,
            entity: super::record::LEAD.name.to_owned(),
            record_id: id,
            base_version: 0,
            op: Op::Upsert,
            fields: valid.to_fields(),
            command: None,
        }],
    };
    let db = &ssr::state()?.db;
    let mut result = sync::store::push(db, crate::aggregates::ENTITIES, &user, batch, now).await?;
    let mut status = result.results.pop().map(|r| r.status).ok_or(AppError::Internal)?;
    if let MutationStatus::Duplicate { original } = status {
        status = *original;
    }
    if let MutationStatus::Rejected { reason } = status {
        return Err(reason);
    }
    // The answer is a record: the policy decides whether this user sees
    // it, whichever path (a new lead, a replay) led here.
    match super::store::find(db, id).await? {
        Some((stored, owner)) if crate::policy::can_read_lead(&user, owner) => Ok(stored),
        _ => Err(AppError::NotFound),
    }
}
