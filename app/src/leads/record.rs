//! The lead as the sync engine stores it: its entity declaration (its
//! fields, declared once), the rule its stored fields pass beyond them, and
//! its commands (screening: qualify or
//! disqualify). Pure: the browser and the server run the same code.

use super::{
    LeadStatus, BUDGET, DECISION_CHAIN, GRADE, INDUSTRY_FIT, LEAD_CUSTOMER, SCALE, SOURCES, STATUSES,
};
use crate::calendar::Calendar;
use crate::error::FieldProblem;
use crate::i18n::Words;
use crate::policy::Kind;
use crate::schema::{field, Input};
use crate::stored::Reader;
use crate::sync::entity::{
    entered_at, Clock, ClockCall, Clocks, CommandCall, Decided, DueCall, EntitySpec, Raised, Recipient,
    Refusal,
};
use crate::sync::Fields;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const LEAD: EntitySpec = EntitySpec {
    name: "lead",
    kind: Kind::Lead,
    plural: Words {
        zh: "线索",
        en: "Leads",
    },
    fields: &[
        field("company", Input::Text, "公司名称", "Company")
            .required()
            .searched(),
        field("industry", Input::Text, "所属行业", "Industry")
            .required()
            .searched(),
        field("contact_name", Input::Text, "联系人", "Contact")
            .required()
            .searched(),
        field("contact_title", Input::Text, "职务", "Title"),
        field("phone", Input::Phone, "电话", "Phone").searched(),
        field("email", Input::Email, "邮箱", "Email").searched(),
        field("source", Input::Choice(SOURCES), "线索来源", "Source").required(),
        field(
            "industry_fit",
            Input::Choice(INDUSTRY_FIT),
            "行业匹配度",
            "Industry fit",
        )
        .unfiltered(),
        field("scale", Input::Choice(SCALE), "企业规模", "Company size").unfiltered(),
        field("budget", Input::Choice(BUDGET), "预算范围", "Budget").unfiltered(),
        field(
            "decision_chain",
            Input::Choice(DECISION_CHAIN),
            "决策链",
            "Decision chain",
        )
        .unfiltered(),
        GRADE.required(),
        field("staff_size", Input::Text, "员工人数", "Staff"),
        field("revenue_band", Input::Text, "年营业额", "Annual revenue"),
        field("contacted_at", Input::DateTime, "接触时间", "Contacted at")
            .required()
            .past(),
        field("next_step_date", Input::Date, "下一步日期", "Next step date"),
        field("initial_need", Input::Long, "初步需求", "Initial need").searched(),
        field("next_step", Input::Long, "下一步计划", "Next step").searched(),
        field("notes", Input::Long, "备注", "Notes").searched(),
        field("screened_at", Input::DateTime, "筛选时间", "Screened at").fact(),
        field("disqualify_reason", Input::Long, "作废原因", "Reason dropped").fact(),
        field(
            "customer_id",
            Input::Reference(&LEAD_CUSTOMER),
            "客户档案",
            "Customer record",
        )
        .fact(),
        field("status", Input::Choice(STATUSES), "状态", "Status")
            .kept()
            .workflow(),
        field(
            "last_follow_up_at",
            Input::DateTime,
            "最近跟进时间",
            "Last follow-up",
        )
        .kept(),
    ],
    commands: &[QUALIFY, DISQUALIFY, CONVERT],
    title: "company",
    rules: lead_rules,
    decide: decide_lead,
    projection: Some(&LEAD_ROWS),
    clocks: Some(&LEAD_CLOCKS),
    person_args: &[],
    arg_references: &[],
    locked: crate::sync::entity::never_locked,
    claim: None,
    hidden: crate::sync::entity::nothing_hidden,
    touches: &[],
    single: None,
    stamp: None,
    merged_into: None,
};

/// A new lead's screening deadline: raised to the owner and their
/// supervisor when it passes unscreened.
pub const LEAD_CLOCKS: Clocks = Clocks {
    running: lead_clocks,
    raise: raise_lead_clock,
};

/// The clock of 线索筛选.
pub const SCREENING: &str = "screening";

fn lead_clocks(call: &ClockCall) -> Vec<Clock> {
    if status_of(call.record) != LeadStatus::New {
        return Vec::new();
    }
    let Some(entered) = entered(call.id, call.record) else {
        return Vec::new();
    };
    vec![Clock {
        kind: SCREENING,
        due_at: screening_due(
            entered,
            call.tz,
            &crate::settings::ProcessSettings::of(call.singles).calendar(),
        ),
    }]
}

fn raise_lead_clock(_: &DueCall) -> Raised {
    Raised {
        changes: Fields::new(),
        notify: vec![Recipient::OwnersSupervisor, Recipient::Owner],
        to_pool: false,
        secret: None,
    }
}

/// When a lead was entered: when its id was made (UUID v7); a client that
/// made another kind of id gives the contact's time instead (entry is
/// never before the contact).
pub fn entered(id: uuid::Uuid, fields: &Fields) -> Option<DateTime<Utc>> {
    entered_at(id).or_else(|| crate::stored::stored_instant(fields, "contacted_at"))
}

/// 线索筛选 passed: the lead is worth working (its grade may be set with it).
pub const QUALIFY: &str = "qualify";
/// 线索筛选 failed: the lead is dropped, with a reason (for 复盘).
pub const DISQUALIFY: &str = "disqualify";

/// The lead became a new-customer application (`customer_id`).
pub const CONVERT: &str = "convert";

/// Working days a new lead has to be screened in (DOMAIN.md: 线索筛选
/// within 3 working days of entry).
pub const SCREENING_WORKING_DAYS: u32 = 3;

/// A lead's rules beyond its fields: it can be reached, by phone or by
/// email.
fn lead_rules(_: &Fields, read: &mut Reader, _: DateTime<Utc>) {
    if read.is_empty("phone") && read.is_empty("email") {
        read.check.fail("phone", FieldProblem::PhoneOrEmail);
    }
}

/// `lead_rows`: a lead's status, grade, source and customer, typed (the
/// screening moment in milliseconds), for a customer's leads, the funnel's
/// reports and a merge of customers.
pub const LEAD_ROWS: crate::sync::entity::Projection = crate::sync::entity::Projection {
    table: "lead_rows",
    columns: &["customer_id", "status", "grade", "source", "screened_at"],
    row: |fields| {
        use crate::stored::{stored_instant, stored_text};
        use crate::sync::entity::Projected;
        vec![
            Projected::Text(stored_text(fields, "customer_id")),
            Projected::Text(Some(status_of(fields).as_str().to_owned())),
            Projected::Text(stored_text(fields, "grade")),
            Projected::Text(stored_text(fields, "source")),
            Projected::Int(stored_instant(fields, "screened_at").map(|at| at.timestamp_millis())),
        ]
    },
};

/// A lead's status as stored: absent means new (a lead is entered new).
pub fn status_of(fields: &Fields) -> LeadStatus {
    fields
        .get("status")
        .and_then(Value::as_str)
        .and_then(LeadStatus::parse)
        .unwrap_or(LeadStatus::New)
}

/// The screening commands. `qualify` takes an optional `grade`;
/// `disqualify` a required `reason`. A lead is screened once: a screened,
/// converted or dropped lead refuses both.
pub fn decide_lead(call: &CommandCall) -> Result<Decided, Refusal> {
    let status = status_of(call.record);
    let screened_at = crate::stored::instant_value(call.now);
    let mut changes = Fields::new();
    match call.name {
        QUALIFY => {
            if status != LeadStatus::New {
                return Err(Refusal::Rule("lead_already_screened"));
            }
            let mut read = Reader::args(call.args);
            if let Some(grade) =
                read.optional_choice("grade", |raw| super::GRADES.iter().find(|g| **g == raw))
            {
                changes.insert("grade".into(), Value::String((*grade).into()));
            }
            read.finish().map_err(Refusal::Invalid)?;
            changes.insert(
                "status".into(),
                Value::String(LeadStatus::Qualified.as_str().into()),
            );
        }
        DISQUALIFY => {
            if matches!(status, LeadStatus::Converted | LeadStatus::Disqualified) {
                return Err(Refusal::Rule("lead_already_closed"));
            }
            let mut read = Reader::args(call.args);
            read.required("reason", crate::schema::LONG_TEXT);
            read.finish().map_err(Refusal::Invalid)?;
            let reason = call
                .args
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or_default();
            changes.insert(
                "status".into(),
                Value::String(LeadStatus::Disqualified.as_str().into()),
            );
            changes.insert(
                "disqualify_reason".into(),
                Value::String(reason.trim().to_owned()),
            );
        }
        CONVERT => {
            if matches!(status, LeadStatus::Converted | LeadStatus::Disqualified) {
                return Err(Refusal::Rule("lead_already_closed"));
            }
            let mut read = Reader::args(call.args);
            if read.is_empty("customer_id") {
                read.check.fail("customer_id", FieldProblem::Required);
            }
            read.id("customer_id");
            read.finish().map_err(Refusal::Invalid)?;
            changes.insert(
                "status".into(),
                Value::String(LeadStatus::Converted.as_str().into()),
            );
            changes.insert("customer_id".into(), call.args["customer_id"].clone());
            if call.record.contains_key("screened_at") {
                return Ok(Decided::changes(changes));
            }
        }
        _ => return Err(Refusal::Rule("unknown_command")),
    }
    changes.insert("screened_at".into(), screened_at);
    Ok(Decided::changes(changes))
}

/// When a lead entered at `entered` must be screened by: the end of the
/// third working day after the day it was entered, in `tz`.
pub fn screening_due(entered: DateTime<Utc>, tz: chrono_tz::Tz, calendar: &Calendar) -> DateTime<Utc> {
    calendar.end_of_working_days_after(entered, SCREENING_WORKING_DAYS, tz)
}

/// Whether a lead with this status, entered then, is late for screening now.
pub fn screening_overdue(
    status: LeadStatus,
    entered: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    calendar: &Calendar,
) -> bool {
    status == LeadStatus::New && now >= screening_due(entered, tz, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use crate::policy::Ownership;
    use crate::roles::{CurrentUser, Role};
    use serde_json::json;
    use uuid::Uuid;

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

    fn rep() -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(1),
            username: "rep1".into(),
            display_name: "李娜".into(),
            role: Role::Rep,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn run(name: &str, args: serde_json::Value, record: &Fields) -> Result<Fields, Refusal> {
        let actor = rep();
        decide_lead(&CommandCall {
            name,
            args: args.as_object().unwrap(),
            record,
            ownership: Ownership {
                owner_id: actor.id,
                owner_team_id: None,
            },
            actor: &actor,
            now: now(),
            context: &crate::sync::entity::Context::default(),
        })
        .map(|decided| decided.changes)
    }

    #[test]
    fn a_complete_stored_lead_passes() {
        assert_eq!(LEAD.check(&lead(), now()), Ok(()));
    }

    #[test]
    fn stored_leads_follow_the_form_rules() {
        let mut bad = lead();
        bad.insert("grade".into(), json!("Z"));
        bad.insert("phone".into(), json!("138 1234 5678"));
        bad.insert("company".into(), json!(42));
        bad.insert("contacted_at".into(), json!("2027-01-01T00:00:00Z"));
        bad.insert("status".into(), json!(""));
        let fields: Vec<String> = LEAD
            .check(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["company", "phone", "grade", "contacted_at", "status"]);
    }

    /// What the check lets in, every reader can read: each field of a valid
    /// lead replaced by each hostile value either fails the check or is
    /// read by the projection, the deadlines, the list's order and the
    /// proposal without a fault.
    #[test]
    fn every_value_the_check_lets_in_reads_back() {
        let long = "长".repeat(5000);
        let hostile = [
            json!(""),
            json!(" "),
            json!(" 苏州"),
            json!("苏州 "),
            json!("\u{3000}"),
            json!(long),
            json!(format!("  {}  ", "长".repeat(200))),
            json!("2026-1-5"),
            json!("2026-01-05"),
            json!("2026-02-30"),
            json!("+12026-01-05"),
            json!("2026-01-05T00:00:00Z"),
            json!("2026-01-05T08:00:00+08:00"),
            json!("2026-01-05T00:00:00.123456789Z"),
            json!("2026-01-05 00:00:00Z"),
            json!("9999-12-31T23:59:59Z"),
            json!("A"),
            json!("a"),
            json!("new"),
            json!("NEW"),
            json!("qualified"),
            json!("13812345678"),
            json!("li@example.com"),
            json!(42),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
        ];
        for field in LEAD.fields {
            for value in &hostile {
                let mut fields = lead();
                fields.insert(field.name.into(), value.clone());
                if LEAD.check(&fields, now()).is_ok() {
                    let screen = &crate::leads::LEAD_SCREEN;
                    let row = (LEAD_ROWS.row)(&fields);
                    assert_eq!(row.len(), LEAD_ROWS.columns.len(), "{} = {value}", field.name);
                    let deadlines = screen.deadlines.unwrap();
                    let singles = crate::sync::entity::Singles::default();
                    let _ = deadlines(Uuid::now_v7(), &fields, chrono_tz::Asia::Shanghai, &singles);
                    let _ = (screen.order.unwrap())(&fields, &lead());
                    let _ = (screen.proposal.as_ref().unwrap().rule)(&fields, &singles);
                }
            }
        }
    }

    #[test]
    fn stored_text_is_trimmed_and_never_empty() {
        for (field, value) in [
            ("company", " 苏州恒达 "),
            ("notes", ""),
            ("next_step_date", ""),
            ("last_follow_up_at", " "),
        ] {
            let mut fields = lead();
            fields.insert(field.into(), json!(value));
            assert_eq!(
                LEAD.check(&fields, now()),
                Err(vec![FieldError::new(field, FieldProblem::Untrimmed)]),
                "{field} = {value:?}"
            );
        }
        let mut no_way_to_reach = lead();
        no_way_to_reach.remove("phone");
        assert_eq!(
            LEAD.check(&no_way_to_reach, now()),
            Err(vec![FieldError::new("phone", FieldProblem::PhoneOrEmail)])
        );
    }

    #[test]
    fn qualifying_a_new_lead_screens_it_and_may_change_its_grade() {
        let changes = run(QUALIFY, json!({"grade": "B"}), &lead()).unwrap();
        assert_eq!(changes["status"], "qualified");
        assert_eq!(changes["grade"], "B");
        assert_eq!(changes["screened_at"], "2026-11-24T08:00:00Z");
        let mut screened = lead();
        screened.extend(changes);
        assert_eq!(LEAD.check(&screened, now()), Ok(()));
        assert_eq!(
            run(QUALIFY, json!({}), &screened),
            Err(Refusal::Rule("lead_already_screened"))
        );
    }

    #[test]
    fn disqualifying_needs_a_reason_and_closes_the_lead() {
        let Err(Refusal::Invalid(problems)) = run(DISQUALIFY, json!({"reason": "  "}), &lead()) else {
            panic!("a blank reason must be refused");
        };
        assert_eq!(problems, [FieldError::new("reason", FieldProblem::Required)]);
        let changes = run(DISQUALIFY, json!({"reason": " 预算不足 "}), &lead()).unwrap();
        assert_eq!(changes["disqualify_reason"], "预算不足");
        let mut dropped = lead();
        dropped.extend(changes);
        assert_eq!(
            run(DISQUALIFY, json!({"reason": "再次"}), &dropped),
            Err(Refusal::Rule("lead_already_closed"))
        );
        assert_eq!(
            run("convert_to_gold", json!({}), &lead()),
            Err(Refusal::Rule("unknown_command"))
        );
    }

    #[test]
    fn a_lead_entered_before_national_day_is_due_on_the_make_up_saturday() {
        // Entered Wednesday 2026-09-30 at 17:00 in Shanghai. 1-7 October are
        // the holiday; Thursday 8, Friday 9 and the make-up Saturday 10 are
        // the three working days: due at the end of Saturday.
        let tz = chrono_tz::Asia::Shanghai;
        let entered: DateTime<Utc> = "2026-09-30T09:00:00Z".parse().unwrap();
        let due = screening_due(entered, tz, &Calendar::china());
        assert_eq!(due, "2026-10-10T16:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let just_before = due - chrono::Duration::seconds(1);
        let cal = Calendar::china();
        assert!(!screening_overdue(
            LeadStatus::New,
            entered,
            just_before,
            tz,
            &cal
        ));
        assert!(screening_overdue(LeadStatus::New, entered, due, tz, &cal));
        assert!(!screening_overdue(LeadStatus::Qualified, entered, due, tz, &cal));
    }
}
