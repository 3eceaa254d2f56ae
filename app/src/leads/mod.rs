//! Leads (线索): the first step of 客户开发. A lead is entered, screened
//! (graded, then qualified, converted into a new-customer application, or
//! dropped with a reason) within 3 working days. Its record, check and
//! commands are in `record`; its screen (form, list, page) is declared here
//! and drawn by `records`, as every aggregate's is.

pub mod record;

use crate::i18n::Words;
use crate::schema::{field, Field, Input, Link};
use crate::screen::{CommandArgs, Deadline, Proposal, Proposed, RecordScreen};
use crate::sync::entity::Singles;
use crate::sync::Fields;
use serde::{Deserialize, Serialize};

/// Where a lead came from (线索来源).
pub const SOURCES: &[&str] = &[
    "trade_show",
    "webinar",
    "referral",
    "public_tender",
    "phone",
    "website",
    "other",
];

/// Intent grade (意向等级): A leads are worked first.
pub const GRADES: &[&str] = &["A", "B", "C"];

/// The factors a lead is scored on in screening (seed 002, 线索筛选:
/// 行业匹配度, 企业规模, 预算范围, 决策链完整性), each a choice of three
/// answers worth 2, 1 and 0 points.
pub const FACTORS: [(&str, &[&str]); 4] = [
    ("industry_fit", INDUSTRY_FIT),
    ("scale", SCALE),
    ("budget", BUDGET),
    ("decision_chain", DECISION_CHAIN),
];
/// The intent grade, chosen by the rep (proposed from the score); a
/// qualification may set it with the command.
const GRADE: Field = field("grade", Input::Choice(GRADES), "意向等级", "Grade");
/// A lead's screening statuses (`LeadStatus`), as stored.
const STATUSES: &[&str] = &["new", "qualified", "converted", "disqualified"];
const INDUSTRY_FIT: &[&str] = &["fit_high", "fit_medium", "fit_low"];
const SCALE: &[&str] = &["scale_large", "scale_medium", "scale_small"];
const BUDGET: &[&str] = &["budget_confirmed", "budget_range", "budget_unknown"];
const DECISION_CHAIN: &[&str] = &["chain_clear", "chain_partial", "chain_unknown"];

pub use crate::settings::MAX_SCORE;

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

/// The score of a lead's stored (or typed) answers.
pub fn score_of_fields(fields: &Fields) -> Option<u32> {
    score_of(FACTORS.map(|(factor, _)| fields.get(factor).and_then(|v| v.as_str()).unwrap_or_default()))
}

/// The grade a score proposes by the company's thresholds (the rep may
/// choose another).
pub fn proposed_grade(score: u32, settings: &crate::settings::ProcessSettings) -> &'static str {
    if score >= settings.lead_grade_a_points {
        "A"
    } else if score >= settings.lead_grade_b_points {
        "B"
    } else {
        "C"
    }
}

/// The grade a lead's answers propose, by the company's settings.
fn propose_grade(fields: &Fields, singles: &Singles) -> Option<Proposed> {
    let score = score_of_fields(fields)?;
    let settings = crate::settings::ProcessSettings::of(singles);
    Some(Proposed {
        value: proposed_grade(score, &settings),
        score,
        max: MAX_SCORE,
    })
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

/// The lead's form, list and page (模板一 客户信息登记表).
pub const LEAD_SCREEN: RecordScreen = RecordScreen {
    spec: &record::LEAD,
    new: Words {
        zh: "新增线索",
        en: "New lead",
    },
    when: "contacted_at",
    path: "/leads",
    from: None,
    dedup: false,
    offered: &[],
    args: &[
        CommandArgs {
            command: record::QUALIFY,
            fields: &[GRADE],
            applies: crate::screen::always,
        },
        CommandArgs {
            command: record::DISQUALIFY,
            fields: &[field("reason", Input::Long, "作废原因", "Reason dropped").required()],
            applies: crate::screen::always,
        },
    ],
    deadlines: Some(lead_deadlines),
    rates: None,
    board: None,
    share: None,
    photos: false,
    pairs: None,
    proposal: Some(Proposal {
        field: "grade",
        rule: propose_grade,
    }),
    order: Some(work_order),
    badge: Some("grade"),
    summary: &["industry", "source", "contact_name", "phone", "email"],
    status: Some(|fields| record::status_of(fields).as_str()),
};

/// The customer a converted lead became.
const LEAD_CUSTOMER: Link = Link {
    // Named, not imported: a customer is made from a lead, so the
    // customers' module already uses this one.
    entity: "customer",
    copy: &[("company", "company")],
};

/// The lead's screening deadline (线索筛选), met when it was screened.
fn lead_deadlines(id: uuid::Uuid, fields: &Fields, tz: chrono_tz::Tz, singles: &Singles) -> Vec<Deadline> {
    let Some(entered) = record::entered(id, fields) else {
        return Vec::new();
    };
    let calendar = crate::settings::ProcessSettings::of(singles).calendar();
    let met_at = crate::stored::stored_instant(fields, "screened_at");
    // A lead closed without the screening's stamp (never, by the commands)
    // has no deadline left to show.
    if met_at.is_none() && record::status_of(fields) != LeadStatus::New {
        return Vec::new();
    }
    vec![Deadline {
        kind: record::SCREENING,
        due_at: record::screening_due(entered, tz, &calendar),
        met_at,
    }]
}

/// The order reps work leads in: A leads first, then the most recent
/// contact.
pub fn work_order(a: &Fields, b: &Fields) -> std::cmp::Ordering {
    let grade = |f: &Fields| crate::stored::stored_text(f, "grade").unwrap_or_default();
    let contacted = |f: &Fields| crate::stored::stored_instant(f, "contacted_at");
    grade(a).cmp(&grade(b)).then(contacted(b).cmp(&contacted(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldProblem;
    use chrono::{DateTime, TimeZone, Utc};
    use chrono_tz::Asia::Shanghai;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
    }

    /// What the form stores for these inputs (the rest left empty).
    fn typed(inputs: &[(&'static str, &str)]) -> Fields {
        let typed: Vec<(&'static str, String)> = LEAD_SCREEN
            .form()
            .map(|f| {
                let text = inputs.iter().find(|(n, _)| *n == f.name).map_or("", |(_, v)| v);
                (f.name, text.to_owned())
            })
            .collect();
        crate::records::to_fields(&LEAD_SCREEN, &typed, Shanghai)
    }

    const FILLED: [(&str, &str); 7] = [
        ("company", "苏州恒达精密机械有限公司"),
        ("industry", "机械制造"),
        ("contact_name", "王建国"),
        ("phone", "138 1234 5678"),
        ("source", "trade_show"),
        ("grade", "A"),
        ("contacted_at", "2026-11-24T09:30"),
    ];

    fn with(changes: &[(&'static str, &str)]) -> Fields {
        let mut inputs: Vec<(&'static str, &str)> = FILLED.to_vec();
        for (name, value) in changes {
            inputs.retain(|(n, _)| n != name);
            inputs.push((name, value));
        }
        typed(&inputs)
    }

    fn problems(fields: &Fields) -> Vec<(String, FieldProblem)> {
        record::LEAD
            .check(fields, now())
            .expect_err("should be invalid")
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn a_filled_form_stores_normalised_fields_that_pass_the_check() {
        let fields = with(&[("email", " A@B.cn ")]);
        assert_eq!(record::LEAD.check(&fields, now()), Ok(()));
        // Typed in Shanghai, stored in UTC; the phone's spaces gone.
        assert_eq!(fields["contacted_at"], "2026-11-24T01:30:00Z");
        assert_eq!(fields["phone"], "13812345678");
        assert_eq!(fields["email"], "a@b.cn");
        assert!(!fields.contains_key("notes"));
    }

    #[test]
    fn an_empty_form_names_every_required_field() {
        let fields: Vec<String> = problems(&typed(&[])).into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "company",
                "industry",
                "contact_name",
                "phone",
                "source",
                "grade",
                "contacted_at"
            ]
        );
    }

    #[test]
    fn an_email_alone_is_enough_to_reach_the_contact() {
        let fields = with(&[("phone", ""), ("email", "wang@hengda.cn")]);
        assert_eq!(record::LEAD.check(&fields, now()), Ok(()));
    }

    #[test]
    fn future_contact_bad_choices_and_long_texts_are_refused() {
        let long = "公".repeat(crate::schema::SHORT_TEXT + 1);
        let fields = with(&[
            ("contacted_at", "2026-11-25T09:30"),
            ("source", "pigeon"),
            ("company", &long),
            ("next_step_date", "2026-13-01"),
            ("phone", "138 1234 567"),
        ]);
        assert_eq!(
            problems(&fields),
            [
                (
                    "company".into(),
                    FieldProblem::TooLong {
                        max: crate::schema::SHORT_TEXT
                    }
                ),
                ("phone".into(), FieldProblem::InvalidPhone),
                ("source".into(), FieldProblem::InvalidChoice),
                ("contacted_at".into(), FieldProblem::InFuture),
                ("next_step_date".into(), FieldProblem::InvalidDate),
            ]
        );
    }

    #[test]
    fn a_leads_score_proposes_its_grade_by_the_companys_thresholds() {
        let seed = crate::settings::ProcessSettings::default();
        // Nothing answered: nothing proposed.
        assert_eq!(score_of(["", "", "", ""]), None);
        assert_eq!(propose_grade(&with(&[]), &Singles::default()), None);
        // 模板一's first lead: a close fit, large, budget to confirm, the
        // buyer reached: 2 + 2 + 1 + 2.
        let first = with(&[
            ("industry_fit", "fit_high"),
            ("scale", "scale_large"),
            ("budget", "budget_range"),
            ("decision_chain", "chain_clear"),
        ]);
        assert_eq!(
            propose_grade(&first, &Singles::default()),
            Some(Proposed {
                value: "A",
                score: 7,
                max: MAX_SCORE
            })
        );
        // Exactly the thresholds: 6 is A, 5 is B, 3 is B, 2 is C.
        let six = score_of(["fit_high", "scale_large", "budget_confirmed", "chain_unknown"]).unwrap();
        assert_eq!((six, proposed_grade(six, &seed)), (6, "A"));
        assert_eq!(proposed_grade(5, &seed), "B");
        assert_eq!(proposed_grade(3, &seed), "B");
        // The second: some fit, medium, no decision maker yet, budget unknown.
        let score = score_of(["fit_medium", "scale_medium", "budget_unknown", "chain_unknown"]).unwrap();
        assert_eq!((score, proposed_grade(score, &seed)), (2, "C"));
        // An answer that is not its factor's counts as none.
        assert_eq!(score_of(["scale_large", "", "", ""]), None);
        // The company raises the bar for A.
        let strict = crate::settings::ProcessSettings::from_fields(
            &serde_json::from_value(json!({"lead_grade_a_points": "8", "lead_grade_b_points": "5"})).unwrap(),
        );
        assert_eq!(proposed_grade(7, &strict), "B");
        assert_eq!(proposed_grade(4, &strict), "C");
    }

    #[test]
    fn the_factors_are_checked_in_the_form_and_stored_with_the_lead() {
        let fields = with(&[("industry_fit", "fit_high"), ("budget", " budget_range ")]);
        assert_eq!(score_of_fields(&fields), Some(3));
        assert_eq!(
            (&fields["industry_fit"], &fields["budget"]),
            (&json!("fit_high"), &json!("budget_range"))
        );
        assert!(!fields.contains_key("scale"));
        assert_eq!(record::LEAD.check(&fields, now()), Ok(()));
        assert_eq!(
            problems(&with(&[("scale", "huge")])),
            [("scale".to_owned(), FieldProblem::InvalidChoice)]
        );
    }

    #[test]
    fn leads_are_worked_a_first_then_by_the_latest_contact() {
        let lead = |grade: &str, at: &str| with(&[("grade", grade), ("contacted_at", at)]);
        let mut leads = [
            lead("B", "2026-11-24T09:00"),
            lead("A", "2026-11-20T09:00"),
            lead("B", "2026-11-24T10:00"),
            lead("A", "2026-11-23T09:00"),
        ];
        leads.sort_by(work_order);
        let order: Vec<(String, String)> = leads
            .iter()
            .map(|f| {
                (
                    f["grade"].as_str().unwrap().into(),
                    f["contacted_at"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("A".into(), "2026-11-23T01:00:00Z".into()),
                ("A".into(), "2026-11-20T01:00:00Z".into()),
                ("B".into(), "2026-11-24T02:00:00Z".into()),
                ("B".into(), "2026-11-24T01:00:00Z".into()),
            ]
        );
    }

    #[test]
    fn the_screening_deadline_runs_from_entry_and_is_met_by_screening() {
        // Entered (its id made) on Monday 23 November at 10:00 in Shanghai:
        // three working days end on Thursday 26 at midnight.
        let entered: DateTime<Utc> = "2026-11-23T02:00:00Z".parse().unwrap();
        let id = uuid::Builder::from_unix_timestamp_millis(entered.timestamp_millis() as u64, &[0; 10])
            .into_uuid();
        let mut fields = with(&[]);
        let [deadline] = lead_deadlines(id, &fields, Shanghai, &Singles::default())[..] else {
            panic!("one deadline");
        };
        assert_eq!(
            deadline.due_at,
            "2026-11-26T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(deadline.met_at, None);
        fields.insert("status".into(), json!("qualified"));
        fields.insert("screened_at".into(), json!("2026-11-24T03:00:00Z"));
        let [met] = lead_deadlines(id, &fields, Shanghai, &Singles::default())[..] else {
            panic!("one deadline");
        };
        assert_eq!(met.met_at, Some("2026-11-24T03:00:00Z".parse().unwrap()));
    }
}
