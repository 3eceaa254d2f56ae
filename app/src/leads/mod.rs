//! Leads (线索): the first step of 客户开发. Types and rules here are pure and
//! shared; `api` holds the server functions, `store` the queries, `view` the UI.

pub mod api;
pub mod record;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;

use crate::error::{FieldError, FieldProblem};
use crate::validate::{Checker, Email, Phone};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a lead came from (线索来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadSource {
    TradeShow,
    Webinar,
    Referral,
    PublicTender,
    Phone,
    Website,
    Other,
}

impl LeadSource {
    pub const ALL: [LeadSource; 7] = [
        Self::TradeShow,
        Self::Webinar,
        Self::Referral,
        Self::PublicTender,
        Self::Phone,
        Self::Website,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TradeShow => "trade_show",
            Self::Webinar => "webinar",
            Self::Referral => "referral",
            Self::PublicTender => "public_tender",
            Self::Phone => "phone",
            Self::Website => "website",
            Self::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Intent grade (意向等级): A leads are worked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
}

impl Grade {
    pub const ALL: [Grade; 3] = [Self::A, Self::B, Self::C];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == name)
    }
}

/// The factors a lead is scored on in screening (seed 002, 线索筛选:
/// 行业匹配度, 企业规模, 预算范围, 决策链完整性), each a choice of three
/// answers worth 2, 1 and 0 points.
pub const FACTORS: [(&str, [&str; 3]); 4] = [
    ("industry_fit", ["fit_high", "fit_medium", "fit_low"]),
    ("scale", ["scale_large", "scale_medium", "scale_small"]),
    ("budget", ["budget_confirmed", "budget_range", "budget_unknown"]),
    (
        "decision_chain",
        ["chain_clear", "chain_partial", "chain_unknown"],
    ),
];
/// The most a lead scores: every factor's best answer.
pub const MAX_SCORE: u32 = 8;

/// A lead's answers to the scoring factors, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scoring {
    pub industry_fit: Option<String>,
    pub scale: Option<String>,
    pub budget: Option<String>,
    pub decision_chain: Option<String>,
}

impl Scoring {
    /// The answers by factor name (`FACTORS`' order).
    pub fn answers(&self) -> [(&'static str, Option<&str>); 4] {
        [
            (FACTORS[0].0, self.industry_fit.as_deref()),
            (FACTORS[1].0, self.scale.as_deref()),
            (FACTORS[2].0, self.budget.as_deref()),
            (FACTORS[3].0, self.decision_chain.as_deref()),
        ]
    }

    /// The score of the answers given, or `None` before any is given.
    pub fn score(&self) -> Option<u32> {
        score_of(self.answers().map(|(_, answer)| answer.unwrap_or_default()))
    }
}

/// The score of `answers`, one per factor in `FACTORS`' order (empty: not
/// answered), or `None` when none is answered; an answer that is not one
/// of its factor's counts as unanswered.
pub fn score_of(answers: [&str; 4]) -> Option<u32> {
    let mut answered = false;
    let mut score = 0;
    for ((_, options), answer) in FACTORS.iter().zip(answers) {
        if let Some(rank) = options.iter().position(|o| *o == answer) {
            answered = true;
            score += 2 - rank as u32;
        }
    }
    answered.then_some(score)
}

/// The grade a score proposes by the company's thresholds (the rep may
/// choose another).
pub fn proposed_grade(score: u32, settings: &crate::settings::ProcessSettings) -> Grade {
    if score >= settings.lead_grade_a_points {
        Grade::A
    } else if score >= settings.lead_grade_b_points {
        Grade::B
    } else {
        Grade::C
    }
}

/// Where a lead stands in screening (线索筛选).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Qualified,
    Converted,
    Disqualified,
}

impl LeadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Qualified => "qualified",
            Self::Converted => "converted",
            Self::Disqualified => "disqualified",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::New, Self::Qualified, Self::Converted, Self::Disqualified]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A lead form as typed (模板一 客户信息登记表): every field is the raw text of
/// its input, so the browser and the server run the very same checks on it.
/// Unknown fields are refused rather than silently dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeadForm {
    /// Client-made UUID v7; the server makes one when absent.
    pub id: Option<Uuid>,
    pub company: String,
    pub industry: String,
    pub staff_size: String,
    pub revenue_band: String,
    pub contact_name: String,
    pub contact_title: String,
    pub phone: String,
    pub email: String,
    pub source: String,
    pub initial_need: String,
    pub grade: String,
    pub industry_fit: String,
    pub scale: String,
    pub budget: String,
    pub decision_chain: String,
    /// When the contact happened, `YYYY-MM-DDTHH:MM` in the user's zone.
    pub contacted_at: String,
    pub next_step: String,
    /// `YYYY-MM-DD`.
    pub next_step_date: String,
    pub notes: String,
}

/// A lead that passed every check, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLead {
    pub id: Option<Uuid>,
    pub company: String,
    pub industry: String,
    pub staff_size: Option<String>,
    pub revenue_band: Option<String>,
    pub contact_name: String,
    pub contact_title: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub source: LeadSource,
    pub initial_need: Option<String>,
    pub grade: Grade,
    pub scoring: Scoring,
    pub contacted_at: DateTime<Utc>,
    pub next_step: Option<String>,
    pub next_step_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

pub const SHORT_TEXT: usize = 100;
pub const LONG_TEXT: usize = 2000;

impl LeadForm {
    /// Checks the form as the user typed it. `now` bounds the contact time;
    /// `tz` is the user's zone, in which `contacted_at` was typed.
    pub fn validate(&self, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Result<ValidLead, Vec<FieldError>> {
        let mut check = Checker::default();
        let company = check.required("company", &self.company, SHORT_TEXT).to_owned();
        let industry = check.required("industry", &self.industry, SHORT_TEXT).to_owned();
        let staff_size = check
            .optional("staff_size", &self.staff_size, SHORT_TEXT)
            .map(str::to_owned);
        let revenue_band = check
            .optional("revenue_band", &self.revenue_band, SHORT_TEXT)
            .map(str::to_owned);
        let contact_name = check
            .required("contact_name", &self.contact_name, SHORT_TEXT)
            .to_owned();
        let contact_title = check
            .optional("contact_title", &self.contact_title, SHORT_TEXT)
            .map(str::to_owned);
        let phone = check.optional_parsed("phone", &self.phone, Phone::parse);
        let email = check.optional_parsed("email", &self.email, Email::parse);
        // A lead nobody can reach is no lead: a phone or an email is required.
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            check.fail("phone", FieldProblem::PhoneOrEmail);
        }
        let source = choice(&mut check, "source", &self.source, LeadSource::parse);
        let grade = choice(&mut check, "grade", &self.grade, Grade::parse);
        let mut factor = |name: &str, raw: &str| -> Option<String> {
            let options = FACTORS.iter().find(|(f, _)| *f == name).map(|(_, o)| o)?;
            check.optional_parsed(name, raw, |raw| {
                options
                    .iter()
                    .find(|o| **o == raw.trim())
                    .map(|o| (*o).to_owned())
                    .ok_or(FieldProblem::InvalidChoice)
            })
        };
        let scoring = Scoring {
            industry_fit: factor("industry_fit", &self.industry_fit),
            scale: factor("scale", &self.scale),
            budget: factor("budget", &self.budget),
            decision_chain: factor("decision_chain", &self.decision_chain),
        };
        let initial_need = check
            .optional("initial_need", &self.initial_need, LONG_TEXT)
            .map(str::to_owned);
        let contacted_at = check
            .optional_parsed("contacted_at", &self.contacted_at, |raw| {
                parse_local_time(raw, tz)
            })
            .unwrap_or(now);
        if contacted_at > now + chrono::Duration::minutes(5) {
            check.fail("contacted_at", FieldProblem::InFuture);
        }
        let next_step = check
            .optional("next_step", &self.next_step, LONG_TEXT)
            .map(str::to_owned);
        let next_step_date = check.optional_parsed("next_step_date", &self.next_step_date, |raw| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| FieldProblem::InvalidDate)
        });
        let notes = check.optional("notes", &self.notes, LONG_TEXT).map(str::to_owned);
        check.finish(()).and_then(|()| {
            Ok(ValidLead {
                id: self.id,
                company,
                industry,
                staff_size,
                revenue_band,
                contact_name,
                contact_title,
                phone,
                email,
                source: source.ok_or_else(Vec::new)?,
                initial_need,
                grade: grade.ok_or_else(Vec::new)?,
                scoring,
                contacted_at,
                next_step,
                next_step_date,
                notes,
            })
        })
    }
}

fn choice<T>(check: &mut Checker, field: &str, raw: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        check.fail(field, FieldProblem::Required);
        return None;
    }
    let parsed = parse(raw);
    if parsed.is_none() {
        check.fail(field, FieldProblem::InvalidChoice);
    }
    parsed
}

/// A `datetime-local` value (`2026-11-24T09:30`, seconds optional) in `tz`.
pub fn parse_local_time(raw: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, FieldProblem> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldProblem::InvalidDate)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
        .ok_or(FieldProblem::InvalidDate)
}

impl ValidLead {
    /// The lead as stored and synced (`record::LEAD`): UTC instants in
    /// RFC 3339, ISO dates, empty optional fields left out.
    pub fn to_fields(&self) -> crate::sync::Fields {
        use chrono::SecondsFormat;
        use serde_json::Value;
        let mut fields = crate::sync::Fields::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                fields.insert(name.to_owned(), Value::String(value));
            }
        };
        put("company", Some(self.company.clone()));
        put("industry", Some(self.industry.clone()));
        put("staff_size", self.staff_size.clone());
        put("revenue_band", self.revenue_band.clone());
        put("contact_name", Some(self.contact_name.clone()));
        put("contact_title", self.contact_title.clone());
        put("phone", self.phone.as_ref().map(|p| p.as_str().to_owned()));
        put("email", self.email.as_ref().map(|e| e.as_str().to_owned()));
        put("source", Some(self.source.as_str().to_owned()));
        put("initial_need", self.initial_need.clone());
        put("grade", Some(self.grade.as_str().to_owned()));
        for (factor, answer) in self.scoring.answers() {
            put(factor, answer.map(str::to_owned));
        }
        put(
            "contacted_at",
            Some(self.contacted_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        put("next_step", self.next_step.clone());
        put(
            "next_step_date",
            self.next_step_date.map(|d| d.format("%Y-%m-%d").to_string()),
        );
        put("notes", self.notes.clone());
        fields
    }
}

/// The stored fields of a lead, typed (they passed `check_lead` on write).
#[derive(Debug, Deserialize)]
pub struct StoredLead {
    pub company: String,
    pub industry: String,
    pub staff_size: Option<String>,
    pub revenue_band: Option<String>,
    pub contact_name: String,
    pub contact_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: LeadSource,
    pub initial_need: Option<String>,
    pub grade: Grade,
    #[serde(flatten)]
    pub scoring: Scoring,
    pub status: Option<LeadStatus>,
    pub contacted_at: DateTime<Utc>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_step: Option<String>,
    pub next_step_date: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// Who owns a stored record and its bookkeeping, beside its fields.
#[derive(Debug, Clone)]
pub struct RecordMeta {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Lead {
    pub fn from_stored(meta: RecordMeta, stored: StoredLead) -> Self {
        Self {
            id: meta.id,
            company: stored.company,
            industry: stored.industry,
            staff_size: stored.staff_size,
            revenue_band: stored.revenue_band,
            contact_name: stored.contact_name,
            contact_title: stored.contact_title,
            phone: stored.phone,
            email: stored.email,
            source: stored.source,
            initial_need: stored.initial_need,
            grade: stored.grade,
            scoring: stored.scoring,
            status: stored.status.unwrap_or(LeadStatus::New),
            owner_id: meta.owner_id,
            owner_name: meta.owner_name,
            contacted_at: stored.contacted_at,
            last_follow_up_at: stored.last_follow_up_at,
            next_step: stored.next_step,
            next_step_date: stored.next_step_date,
            notes: stored.notes,
            created_at: meta.created_at,
            updated_at: meta.updated_at,
            version: meta.version,
        }
    }
}

/// A stored lead as the list and detail views show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: Uuid,
    pub company: String,
    pub industry: String,
    pub staff_size: Option<String>,
    pub revenue_band: Option<String>,
    pub contact_name: String,
    pub contact_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: LeadSource,
    pub initial_need: Option<String>,
    pub grade: Grade,
    pub scoring: Scoring,
    pub status: LeadStatus,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub contacted_at: DateTime<Utc>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_step: Option<String>,
    pub next_step_date: Option<NaiveDate>,
    pub notes: Option<String>,
    /// When it was entered (录入时间), as opposed to when the contact happened.
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A lead as this device holds it: the record, and where its sync stands.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalLead {
    pub lead: Lead,
    /// Saved here, not yet acknowledged by the server.
    pub pending: bool,
    /// Why the server refused its last change.
    pub rejected: Option<crate::error::AppError>,
}

impl LocalLead {
    /// Reads a local record's fields as a lead. Every stored lead passed
    /// `check_lead`, so `None` means a record this build cannot read.
    pub fn from_view(view: crate::client::LocalView, me: &crate::roles::CurrentUser) -> Option<Self> {
        let (owner_id, owner_name) = view.owner_or(me);
        let stored: StoredLead = serde_json::from_value(serde_json::Value::Object(view.fields)).ok()?;
        // The id is a UUID v7, made when the record was: its moment of entry.
        // A client that made another kind of id gives no entry time; the
        // contact's time stands in (entry is never before the contact).
        let created_at = crate::sync::entity::entered_at(view.id).unwrap_or(stored.contacted_at);
        let meta = RecordMeta {
            id: view.id,
            owner_id,
            owner_name,
            version: view.version,
            created_at,
            updated_at: created_at,
        };
        Some(Self {
            lead: Lead::from_stored(meta, stored),
            pending: view.pending,
            rejected: view.rejected,
        })
    }
}

/// Orders a list the way reps work it: A leads first, then the most recent.
/// What the lead list is narrowed to beside the search box: one grade, one
/// owner (for supervisors and managers, who see others' leads), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilter {
    pub grade: Option<Grade>,
    pub owner: Option<Uuid>,
}

impl LeadFilter {
    pub fn is_empty(&self) -> bool {
        self.grade.is_none() && self.owner.is_none()
    }

    pub fn matches(&self, lead: &Lead) -> bool {
        self.grade.is_none_or(|grade| lead.grade == grade)
            && self.owner.is_none_or(|owner| lead.owner_id == owner)
    }
}

pub fn work_order(a: &Lead, b: &Lead) -> std::cmp::Ordering {
    a.grade.cmp(&b.grade).then(b.contacted_at.cmp(&a.contacted_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
    }

    fn filled() -> LeadForm {
        LeadForm {
            company: "苏州恒达精密机械有限公司".into(),
            industry: "机械制造".into(),
            contact_name: "王建国".into(),
            phone: "13812345678".into(),
            source: "trade_show".into(),
            grade: "A".into(),
            ..LeadForm::default()
        }
    }

    fn problems(form: &LeadForm) -> Vec<(String, FieldProblem)> {
        form.validate(now(), Shanghai)
            .expect_err("should be invalid")
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn a_filled_form_is_valid_and_contact_time_defaults_to_now() {
        let lead = filled().validate(now(), Shanghai).unwrap();
        assert_eq!(lead.grade, Grade::A);
        assert_eq!(lead.contacted_at, now());
        assert_eq!(lead.staff_size, None);
    }

    #[test]
    fn an_empty_form_names_every_required_field() {
        let fields: Vec<String> = problems(&LeadForm::default()).into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            ["company", "industry", "contact_name", "phone", "source", "grade"]
        );
    }

    #[test]
    fn an_email_alone_is_enough_to_reach_the_contact() {
        let form = LeadForm {
            phone: String::new(),
            email: "wang@hengda.cn".into(),
            ..filled()
        };
        assert!(form.validate(now(), Shanghai).is_ok());
    }

    #[test]
    fn contact_time_is_read_in_the_users_zone() {
        let form = LeadForm {
            contacted_at: "2026-11-24T09:30".into(),
            ..filled()
        };
        let lead = form.validate(now(), Shanghai).unwrap();
        assert_eq!(
            lead.contacted_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 1, 30, 0).unwrap()
        );
    }

    #[test]
    fn future_contact_bad_choices_and_long_texts_are_refused() {
        let form = LeadForm {
            contacted_at: "2026-11-25T09:30".into(),
            source: "pigeon".into(),
            company: "公".repeat(SHORT_TEXT + 1),
            next_step_date: "2026-13-01".into(),
            ..filled()
        };
        assert_eq!(
            problems(&form),
            [
                ("company".into(), FieldProblem::TooLong { max: SHORT_TEXT }),
                ("source".into(), FieldProblem::InvalidChoice),
                ("contacted_at".into(), FieldProblem::InFuture),
                ("next_step_date".into(), FieldProblem::InvalidDate),
            ]
        );
    }

    #[test]
    fn a_valid_form_stores_fields_that_pass_the_stored_check() {
        let form = LeadForm {
            contacted_at: "2026-11-24T09:30".into(),
            email: "A@B.cn".into(),
            ..filled()
        };
        let fields = form.validate(now(), Shanghai).unwrap().to_fields();
        assert_eq!(record::check_lead(&fields, now()), Ok(()));
        assert_eq!(fields["contacted_at"], "2026-11-24T01:30:00Z");
        assert_eq!(fields["email"], "a@b.cn");
        assert!(!fields.contains_key("notes"));
    }

    #[test]
    fn a_leads_score_proposes_its_grade_by_the_companys_thresholds() {
        let seed = crate::settings::ProcessSettings::default();
        let answers = |fit: &'static str, scale: &'static str, budget: &'static str, chain: &'static str| {
            [fit, scale, budget, chain]
        };
        // Nothing answered: nothing proposed.
        assert_eq!(score_of(answers("", "", "", "")), None);
        // 模板一's first lead: a close fit, large, budget to confirm, the
        // buyer reached: 2 + 2 + 1 + 2.
        let score = score_of(answers("fit_high", "scale_large", "budget_range", "chain_clear")).unwrap();
        assert_eq!((score, proposed_grade(score, &seed)), (7, Grade::A));
        // Exactly the thresholds: 6 is A, 5 is B, 3 is B, 2 is C.
        let six = score_of(answers(
            "fit_high",
            "scale_large",
            "budget_confirmed",
            "chain_unknown",
        ))
        .unwrap();
        assert_eq!((six, proposed_grade(six, &seed)), (6, Grade::A));
        assert_eq!(proposed_grade(5, &seed), Grade::B);
        assert_eq!(proposed_grade(3, &seed), Grade::B);
        // The second: some fit, medium, no decision maker yet, budget unknown.
        let score = score_of(answers(
            "fit_medium",
            "scale_medium",
            "budget_unknown",
            "chain_unknown",
        ))
        .unwrap();
        assert_eq!((score, proposed_grade(score, &seed)), (2, Grade::C));
        // An answer that is not its factor's counts as none.
        assert_eq!(score_of(answers("scale_large", "", "", "")), None);
        // The company raises the bar for A.
        let strict = crate::settings::ProcessSettings::from_fields(
            &serde_json::from_value(
                serde_json::json!({"lead_grade_a_points": "8", "lead_grade_b_points": "5"}),
            )
            .unwrap(),
        );
        assert_eq!(proposed_grade(7, &strict), Grade::B);
        assert_eq!(proposed_grade(4, &strict), Grade::C);
    }

    #[test]
    fn the_factors_are_checked_in_the_form_and_stored_with_the_lead() {
        let mut form = filled();
        form.industry_fit = "fit_high".into();
        form.budget = " budget_range ".into();
        let lead = form.validate(now(), Shanghai).unwrap();
        assert_eq!(lead.scoring.score(), Some(3));
        let fields = lead.to_fields();
        assert_eq!(
            (&fields["industry_fit"], &fields["budget"]),
            (&serde_json::json!("fit_high"), &serde_json::json!("budget_range"))
        );
        assert!(!fields.contains_key("scale"));
        assert_eq!(record::check_lead(&fields, now()), Ok(()));
        form.scale = "huge".into();
        assert_eq!(
            problems(&form),
            [("scale".to_owned(), FieldProblem::InvalidChoice)]
        );
        let mut stored = fields.clone();
        stored.insert("decision_chain".into(), serde_json::json!("chain_maybe"));
        assert!(record::check_lead(&stored, now()).is_err());
    }

    fn lead_of(grade: Grade, owner: (Uuid, &str)) -> Lead {
        Lead {
            id: Uuid::now_v7(),
            company: "苏州恒达精密机械有限公司".into(),
            industry: "机械制造".into(),
            staff_size: None,
            revenue_band: None,
            contact_name: "王建国".into(),
            contact_title: None,
            phone: Some("13812345678".into()),
            email: None,
            source: LeadSource::TradeShow,
            initial_need: None,
            grade,
            scoring: Scoring::default(),
            status: LeadStatus::New,
            owner_id: owner.0,
            owner_name: owner.1.into(),
            contacted_at: now(),
            last_follow_up_at: None,
            next_step: None,
            next_step_date: None,
            notes: None,
            created_at: now(),
            updated_at: now(),
            version: 1,
        }
    }

    #[test]
    fn the_lead_filter_narrows_by_grade_and_owner_together() {
        let (wang, li) = ((Uuid::now_v7(), "王芳"), (Uuid::now_v7(), "李雷"));
        let leads = [
            lead_of(Grade::A, wang),
            lead_of(Grade::B, wang),
            lead_of(Grade::A, li),
        ];
        let kept = |filter: LeadFilter| leads.iter().filter(|l| filter.matches(l)).count();
        assert_eq!(kept(LeadFilter::default()), 3);
        assert!(LeadFilter::default().is_empty());
        assert_eq!(
            kept(LeadFilter {
                grade: Some(Grade::A),
                owner: None
            }),
            2
        );
        assert_eq!(
            kept(LeadFilter {
                grade: None,
                owner: Some(wang.0)
            }),
            2
        );
        assert_eq!(
            kept(LeadFilter {
                grade: Some(Grade::A),
                owner: Some(li.0)
            }),
            1
        );
        assert_eq!(
            kept(LeadFilter {
                grade: Some(Grade::C),
                owner: None
            }),
            0
        );
    }

    #[test]
    fn unknown_fields_are_refused_when_parsing() {
        let err = serde_json::from_str::<LeadForm>(r#"{"company":"x","owner_id":"me"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
