//! Lead queries (server only). Every read takes a `LeadScope`, so no query
//! can forget the access rule.

use super::{Grade, Lead, LeadSource, LeadStatus, ValidLead};
use crate::policy::{LeadScope, Ownership};
use crate::ssr::session::parse_uuid;
use crate::ssr::{audit, from_millis, to_millis, Db, DbError};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

const SELECT: &str = "SELECT l.id, l.company, l.industry, l.staff_size, l.revenue_band, l.contact_name, \
     l.contact_title, l.phone, l.email, l.source, l.initial_need, l.grade, l.status, l.owner_id, \
     u.display_name AS owner_name, u.team_id AS owner_team_id, l.contacted_at, l.last_follow_up_at, \
     l.next_step, l.next_step_date, l.notes, l.created_at, l.updated_at, l.version \
     FROM leads l JOIN users u ON u.id = l.owner_id";

#[derive(sqlx::FromRow)]
struct LeadRow {
    id: String,
    company: String,
    industry: String,
    staff_size: Option<String>,
    revenue_band: Option<String>,
    contact_name: String,
    contact_title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    source: String,
    initial_need: Option<String>,
    grade: String,
    status: String,
    owner_id: String,
    owner_name: String,
    owner_team_id: Option<String>,
    contacted_at: i64,
    last_follow_up_at: Option<i64>,
    next_step: Option<String>,
    next_step_date: Option<String>,
    notes: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl LeadRow {
    fn into_lead(self) -> Result<(Lead, Ownership), DbError> {
        let corrupt = |what: &str, value: &str| DbError::Corrupt(format!("lead {what} {value}"));
        let owner_id = parse_uuid(&self.owner_id)?;
        let ownership = Ownership {
            owner_id,
            owner_team_id: self.owner_team_id.as_deref().map(parse_uuid).transpose()?,
        };
        let lead = Lead {
            id: parse_uuid(&self.id)?,
            source: LeadSource::parse(&self.source).ok_or_else(|| corrupt("source", &self.source))?,
            grade: Grade::parse(&self.grade).ok_or_else(|| corrupt("grade", &self.grade))?,
            status: LeadStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?,
            next_step_date: self
                .next_step_date
                .as_deref()
                .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| corrupt("date", d)))
                .transpose()?,
            company: self.company,
            industry: self.industry,
            staff_size: self.staff_size,
            revenue_band: self.revenue_band,
            contact_name: self.contact_name,
            contact_title: self.contact_title,
            phone: self.phone,
            email: self.email,
            initial_need: self.initial_need,
            owner_id,
            owner_name: self.owner_name,
            contacted_at: from_millis(self.contacted_at),
            last_follow_up_at: self.last_follow_up_at.map(from_millis),
            next_step: self.next_step,
            notes: self.notes,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            version: self.version,
        };
        Ok((lead, ownership))
    }
}

/// The leads in `scope`, A leads first, then the most recently contacted.
pub async fn list(db: &Db, scope: LeadScope) -> Result<Vec<Lead>, DbError> {
    let order = "ORDER BY l.grade ASC, l.contacted_at DESC, l.id ASC";
    let rows: Vec<LeadRow> = match scope {
        LeadScope::Own(user) => {
            sqlx::query_as(&format!("{SELECT} WHERE l.owner_id = $1 {order}"))
                .bind(user.to_string())
                .fetch_all(&db.pool)
                .await?
        }
        LeadScope::Team(team) => {
            sqlx::query_as(&format!("{SELECT} WHERE u.team_id = $1 {order}"))
                .bind(team.to_string())
                .fetch_all(&db.pool)
                .await?
        }
        LeadScope::All => {
            sqlx::query_as(&format!("{SELECT} {order}"))
                .fetch_all(&db.pool)
                .await?
        }
    };
    rows.into_iter()
        .map(|row| row.into_lead().map(|(lead, _)| lead))
        .collect()
}

/// One lead and who owns it, whatever the scope: the caller decides access.
pub async fn find(db: &Db, id: Uuid) -> Result<Option<(Lead, Ownership)>, DbError> {
    let row: Option<LeadRow> = sqlx::query_as(&format!("{SELECT} WHERE l.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    row.map(LeadRow::into_lead).transpose()
}

/// Stores a new lead and its audit entry in one transaction. Returns `false`
/// when a lead with this id already exists (a retried submit), changing nothing.
pub async fn insert(
    db: &Db,
    id: Uuid,
    lead: &ValidLead,
    owner_id: Uuid,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO leads (id, company, industry, staff_size, revenue_band, contact_name, contact_title, \
         phone, email, source, initial_need, grade, status, owner_id, contacted_at, next_step, \
         next_step_date, notes, created_by, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'new', $13, $14, $15, $16, $17, $18, $19, $19, 1) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(&lead.company)
    .bind(&lead.industry)
    .bind(lead.staff_size.as_deref())
    .bind(lead.revenue_band.as_deref())
    .bind(&lead.contact_name)
    .bind(lead.contact_title.as_deref())
    .bind(lead.phone.as_ref().map(|p| p.as_str().to_owned()))
    .bind(lead.email.as_ref().map(|e| e.as_str().to_owned()))
    .bind(lead.source.as_str())
    .bind(lead.initial_need.as_deref())
    .bind(lead.grade.as_str())
    .bind(owner_id.to_string())
    .bind(to_millis(lead.contacted_at))
    .bind(lead.next_step.as_deref())
    .bind(lead.next_step_date.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(lead.notes.as_deref())
    .bind(actor_id.to_string())
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        audit::record(
            &mut tx,
            audit::Change {
                actor_id,
                entity: "lead",
                record_id: id,
                action: "create",
                before: None,
                after: Some(audit_snapshot(lead, owner_id)),
                at: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

fn audit_snapshot(lead: &ValidLead, owner_id: Uuid) -> serde_json::Value {
    serde_json::json!({
        "company": lead.company,
        "industry": lead.industry,
        "contact_name": lead.contact_name,
        "phone": lead.phone.as_ref().map(|p| p.as_str()),
        "email": lead.email.as_ref().map(|e| e.as_str()),
        "source": lead.source.as_str(),
        "grade": lead.grade.as_str(),
        "owner_id": owner_id,
        "contacted_at": lead.contacted_at,
    })
}
