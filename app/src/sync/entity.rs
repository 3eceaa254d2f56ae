//! The synced entities. An entity syncs by declaring itself here: its name,
//! its fields, and the pure check its stored fields must pass. The engine
//! (`sync::store`) is the same for all of them.

use super::Fields;
use crate::error::{FieldError, FieldProblem};
use crate::leads::{Grade, LeadSource, LeadStatus, LONG_TEXT, SHORT_TEXT};
use crate::policy::Kind;
use crate::validate::{Checker, Email, Phone};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

pub struct EntitySpec {
    /// The name on the wire and in storage, e.g. `lead`.
    pub name: &'static str,
    /// What the access policy calls it.
    pub kind: Kind,
    /// Every field a mutation may set.
    pub fields: &'static [&'static str],
    /// The field that names a record in lists (a company, a customer).
    pub title: &'static str,
    /// The free-text fields a list's search box looks in (names, phones,
    /// notes; not coded choices, whose stored words the user never sees).
    pub searched: &'static [&'static str],
    /// Checks a whole record (after merging) as it will be stored.
    pub check: fn(&Fields, DateTime<Utc>) -> Result<(), Vec<FieldError>>,
}

pub const LEAD: EntitySpec = EntitySpec {
    name: "lead",
    kind: Kind::Lead,
    fields: &[
        "company",
        "industry",
        "staff_size",
        "revenue_band",
        "contact_name",
        "contact_title",
        "phone",
        "email",
        "source",
        "initial_need",
        "grade",
        "status",
        "contacted_at",
        "last_follow_up_at",
        "next_step",
        "next_step_date",
        "notes",
    ],
    title: "company",
    searched: &[
        "company",
        "industry",
        "contact_name",
        "phone",
        "email",
        "initial_need",
        "next_step",
        "notes",
    ],
    check: check_lead,
};

/// A visit record (拜访记录): when, whom, why, with what result.
pub const VISIT: EntitySpec = EntitySpec {
    name: "visit",
    kind: Kind::Visit,
    fields: &[
        "customer_name",
        "lead_id",
        "visited_at",
        "met_name",
        "met_title",
        "met_department",
        "purpose",
        "result",
        "next_step",
        "next_step_date",
        "urgent",
    ],
    title: "customer_name",
    searched: &[
        "customer_name",
        "met_name",
        "met_department",
        "purpose",
        "result",
        "next_step",
    ],
    check: check_visit,
};

/// A service ticket (售后工单) as it is opened; its process comes later.
pub const TICKET: EntitySpec = EntitySpec {
    name: "ticket",
    kind: Kind::Ticket,
    fields: &[
        "customer_name",
        "contact_name",
        "contact_phone",
        "product",
        "order_ref",
        "channel",
        "ticket_type",
        "description",
        "opened_at",
        "status",
    ],
    title: "customer_name",
    searched: &[
        "customer_name",
        "contact_name",
        "contact_phone",
        "product",
        "order_ref",
        "description",
    ],
    check: check_ticket,
};

pub const ENTITIES: &[EntitySpec] = &[LEAD, VISIT, TICKET];

/// Where a ticket came in (DOMAIN.md: 400 hotline, phone, email, web, visit).
pub const TICKET_CHANNELS: &[&str] = &["hotline", "phone", "email", "web", "visit"];
/// 投诉, 维修, 咨询, 培训, 不合格品退换.
pub const TICKET_TYPES: &[&str] = &[
    "complaint",
    "repair",
    "consultation",
    "training",
    "return_exchange",
];
pub const TICKET_STATUSES: &[&str] = &["open", "contacted", "in_progress", "resolved", "closed"];

pub fn spec(name: &str) -> Option<&'static EntitySpec> {
    ENTITIES.iter().find(|spec| spec.name == name)
}

/// Reads the fields of a stored record and reports every problem at once.
struct Reader<'a> {
    fields: &'a Fields,
    check: Checker,
}

impl<'a> Reader<'a> {
    fn new(fields: &'a Fields) -> Self {
        Self {
            fields,
            check: Checker::default(),
        }
    }

    /// The text of `field` (empty for null or missing), or `None` after
    /// recording that it is not text at all.
    fn text(&mut self, field: &str) -> Option<&'a str> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Some(""),
            Some(Value::String(text)) => Some(text),
            Some(_) => {
                self.check.fail(field, FieldProblem::WrongType);
                None
            }
        }
    }

    fn is_empty(&self, field: &str) -> bool {
        match self.fields.get(field) {
            None | Some(Value::Null) => true,
            Some(value) => value.as_str().is_some_and(|text| text.trim().is_empty()),
        }
    }

    fn required(&mut self, field: &str, max: usize) {
        if let Some(text) = self.text(field) {
            self.check.required(field, text, max);
        }
    }

    fn optional(&mut self, field: &str, max: usize) {
        if let Some(text) = self.text(field) {
            self.check.optional(field, text, max);
        }
    }

    fn parsed<T>(&mut self, field: &str, parse: impl FnOnce(&str) -> Result<T, FieldProblem>) -> Option<T> {
        let text = self.text(field)?;
        self.check.optional_parsed(field, text, parse)
    }

    fn choice<T>(&mut self, field: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let text = self.text(field)?;
        if text.is_empty() {
            self.check.fail(field, FieldProblem::Required);
            return None;
        }
        let parsed = parse(text);
        if parsed.is_none() {
            self.check.fail(field, FieldProblem::InvalidChoice);
        }
        parsed
    }

    /// A required instant no later than now (with five minutes of clock skew).
    fn past_instant(&mut self, field: &str, now: DateTime<Utc>) {
        match self.instant(field) {
            Some(at) if at > now + chrono::Duration::minutes(5) => {
                self.check.fail(field, FieldProblem::InFuture)
            }
            Some(_) => {}
            None if self.is_empty(field) => self.check.fail(field, FieldProblem::Required),
            None => {}
        }
    }

    fn instant(&mut self, field: &str) -> Option<DateTime<Utc>> {
        self.parsed(field, |raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| FieldProblem::InvalidDate)
        })
    }
}

/// A stored lead: the same rules as the entry form (`LeadForm::validate`),
/// on the stored representation (UTC instants in RFC 3339, ISO dates).
pub fn check_lead(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("company", SHORT_TEXT);
    read.required("industry", SHORT_TEXT);
    read.optional("staff_size", SHORT_TEXT);
    read.optional("revenue_band", SHORT_TEXT);
    read.required("contact_name", SHORT_TEXT);
    read.optional("contact_title", SHORT_TEXT);
    let phone = read.parsed("phone", |raw| {
        Phone::parse(raw).and_then(|p| canonical(raw, p.as_str(), FieldProblem::InvalidPhone))
    });
    let email = read.parsed("email", |raw| {
        Email::parse(raw).and_then(|e| canonical(raw, e.as_str(), FieldProblem::InvalidEmail))
    });
    if phone.is_none() && email.is_none() && read.is_empty("phone") && read.is_empty("email") {
        read.check.fail("phone", FieldProblem::Required);
    }
    read.choice("source", LeadSource::parse);
    read.optional("initial_need", LONG_TEXT);
    read.choice("grade", Grade::parse);
    if !read.is_empty("status") {
        read.choice("status", LeadStatus::parse);
    }
    match read.instant("contacted_at") {
        Some(at) if at > now + chrono::Duration::minutes(5) => {
            read.check.fail("contacted_at", FieldProblem::InFuture)
        }
        Some(_) => {}
        None if read.is_empty("contacted_at") => read.check.fail("contacted_at", FieldProblem::Required),
        None => {}
    }
    read.instant("last_follow_up_at");
    read.optional("next_step", LONG_TEXT);
    read.parsed("next_step_date", |raw| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| FieldProblem::InvalidDate)
    });
    read.optional("notes", LONG_TEXT);
    read.check.finish(())
}

/// A stored visit.
pub fn check_visit(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("customer_name", SHORT_TEXT);
    read.parsed("lead_id", |raw| {
        uuid::Uuid::parse_str(raw)
            .map(|_| ())
            .map_err(|_| FieldProblem::InvalidChoice)
    });
    read.past_instant("visited_at", now);
    read.optional("met_name", SHORT_TEXT);
    read.optional("met_title", SHORT_TEXT);
    read.optional("met_department", SHORT_TEXT);
    read.required("purpose", LONG_TEXT);
    read.optional("result", LONG_TEXT);
    read.optional("next_step", LONG_TEXT);
    read.parsed("next_step_date", |raw| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(|_| ())
            .map_err(|_| FieldProblem::InvalidDate)
    });
    if !read.is_empty("urgent") {
        read.choice("urgent", |raw| ["yes", "no"].contains(&raw).then_some(()));
    }
    read.check.finish(())
}

/// A stored service ticket.
pub fn check_ticket(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("customer_name", SHORT_TEXT);
    read.optional("contact_name", SHORT_TEXT);
    read.parsed("contact_phone", |raw| {
        Phone::parse(raw).and_then(|p| canonical(raw, p.as_str(), FieldProblem::InvalidPhone))
    });
    read.optional("product", SHORT_TEXT);
    read.optional("order_ref", SHORT_TEXT);
    read.choice("channel", |raw| TICKET_CHANNELS.contains(&raw).then_some(()));
    read.choice("ticket_type", |raw| TICKET_TYPES.contains(&raw).then_some(()));
    read.required("description", LONG_TEXT);
    read.past_instant("opened_at", now);
    if !read.is_empty("status") {
        read.choice("status", |raw| TICKET_STATUSES.contains(&raw).then_some(()));
    }
    read.check.finish(())
}

/// Stored values are already normalised: a phone or email stored as typed
/// but not in its normal form is refused rather than silently changed.
fn canonical(raw: &str, normal: &str, problem: FieldProblem) -> Result<(), FieldProblem> {
    if raw == normal {
        Ok(())
    } else {
        Err(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lead() -> Fields {
        json!({
            "company": "苏州恒达精密机械有限公司",
            "industry": "机械制造",
            "contact_name": "王建国",
            "phone": "13812345678",
            "source": "trade_show",
            "grade": "A",
            "contacted_at": "2026-11-20T01:30:00Z",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-24T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_complete_stored_lead_passes() {
        assert_eq!(check_lead(&lead(), now()), Ok(()));
    }

    #[test]
    fn stored_leads_follow_the_form_rules() {
        let mut bad = lead();
        bad.insert("grade".into(), json!("Z"));
        bad.insert("phone".into(), json!("138 1234 5678"));
        bad.insert("company".into(), json!(42));
        bad.insert("contacted_at".into(), json!("2027-01-01T00:00:00Z"));
        let fields: Vec<String> = check_lead(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["company", "phone", "grade", "contacted_at"]);
    }

    #[test]
    fn visits_and_tickets_have_their_required_fields() {
        let names = |r: Result<(), Vec<FieldError>>| -> Vec<String> {
            r.unwrap_err().into_iter().map(|e| e.field).collect()
        };
        assert_eq!(
            names(check_visit(&Fields::new(), now())),
            ["customer_name", "visited_at", "purpose"]
        );
        assert_eq!(
            names(check_ticket(&Fields::new(), now())),
            [
                "customer_name",
                "channel",
                "ticket_type",
                "description",
                "opened_at"
            ]
        );
        let ticket = json!({
            "customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
            "description": "叉车液压系统漏油", "opened_at": "2026-11-24T01:00:00Z", "contact_phone": "0574-87654321"
        });
        assert_eq!(check_ticket(ticket.as_object().unwrap(), now()), Ok(()));
    }

    #[test]
    fn every_entity_declares_distinct_fields() {
        for spec in ENTITIES {
            let mut names = spec.fields.to_vec();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), spec.fields.len(), "{}", spec.name);
        }
    }
}
