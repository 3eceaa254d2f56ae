//! Customers (客户) and their recognition (新客户认定申请, seed 001): a
//! rep converts a lead into an application with the form's company profile,
//! payment terms and credit investigation; it goes through the approval
//! chain (the rep's supervisor); on approval the server gives the customer
//! its code (`C2026-0001`), in order, with no gap and never twice. A
//! recognised customer nobody follows up returns to the public pool
//! (`pool`).

pub mod class;
pub mod look_alike;
pub mod pool;
pub mod warranty;

use crate::approvals::{Approval, ApprovalState, Approver, StepRule, Verdict};
use crate::error::{FieldError, FieldProblem};
use crate::leads::{LONG_TEXT, SHORT_TEXT};
use crate::policy::Kind;
use crate::screen::{field, CommandArgs, Input, Lines, RecordScreen, Source};
use crate::stored::Reader;
use crate::sync::entity::{
    Clocks, CommandCall, Decided, EntitySpec, NumberRequest, Projected, Projection, Reference, Refusal,
};
use crate::sync::Fields;
use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;

pub const CUSTOMER: EntitySpec = EntitySpec {
    name: "customer",
    kind: Kind::Customer,
    fields: &[
        "company",
        "credit_code",
        "legal_rep",
        "founded",
        "shareholders",
        "capital",
        "staff",
        "address",
        "phone",
        "contact_name",
        "contact_title",
        "contacts",
        "annual_sales",
        "annual_profit",
        "sales_trend",
        "main_customers",
        "main_products",
        "payment_method",
        "payment_days",
        "bank",
        "credit_rating",
        "credit_notes",
        "credit_limit",
        "class",
        "key_customer",
        "region",
        "lead_id",
        "status",
        "approval",
        "code",
        pool::FOLLOWED_UP,
        pool::POOLED_AT,
        pool::POOL_REASON,
        pool::POOLED_FROM,
        warranty::WARRANTY_UNTIL,
        warranty::SERVICED_AT,
        look_alike::KEPT_APART,
        look_alike::MERGED_INTO,
    ],
    workflow: &[
        "status",
        "approval",
        "code",
        pool::FOLLOWED_UP,
        pool::POOLED_AT,
        pool::POOL_REASON,
        pool::POOLED_FROM,
        warranty::SERVICED_AT,
        look_alike::KEPT_APART,
        look_alike::MERGED_INTO,
    ],
    commands: &[
        SUBMIT,
        APPROVE,
        REJECT,
        pool::CLAIM,
        pool::RELEASE,
        look_alike::MERGE,
        look_alike::KEEP_APART,
    ],
    title: "company",
    searched: &[
        "company",
        "code",
        "credit_code",
        "phone",
        "contact_name",
        "address",
        "region",
    ],
    check: check_customer,
    decide: decide_customer,
    projection: Some(&CUSTOMER_ROWS),
    clocks: Some(&CUSTOMER_CLOCKS),
    person_args: &[],
    references: &[
        Reference {
            field: "lead_id",
            entity: "lead",
        },
        // The arguments of a merge and of keeping a pair apart.
        Reference {
            field: look_alike::ABSORB,
            entity: "customer",
        },
        Reference {
            field: look_alike::OTHER,
            entity: "customer",
        },
    ],
    locked: customer_locked,
    claim: Some(pool::CLAIM),
    hidden: hidden_from,
    touches: &[],
    single: None,
    stamp: None,
    merged_into: Some(look_alike::MERGED_INTO),
};

/// A rep who reads a customer only through the team's pool sees whom to
/// claim, not how to reach them: no phone, no contacts.
fn hidden_from(
    user: &crate::roles::CurrentUser,
    ownership: crate::policy::Ownership,
) -> &'static [&'static str] {
    if crate::policy::reads_in_pool(user, Kind::Customer, ownership) {
        &["phone", "contacts"]
    } else {
        &[]
    }
}

/// The pool's warning and return (`pool::pool_clocks`), and the warranty's
/// quarterly follow-up (`warranty::warranty_clock`).
pub const CUSTOMER_CLOCKS: Clocks = Clocks {
    running: customer_clocks,
    raise: raise_customer_clock,
};

fn customer_clocks(call: &crate::sync::entity::ClockCall) -> Vec<crate::sync::entity::Clock> {
    let mut clocks = pool::pool_clocks(call);
    clocks.extend(warranty::warranty_clock(
        call.record,
        crate::sync::entity::entered_at(call.id),
        call.tz,
        crate::settings::ProcessSettings::of(call.singles).warranty_follow_up_days,
    ));
    clocks
}

fn raise_customer_clock(call: &crate::sync::entity::DueCall) -> crate::sync::entity::Raised {
    if call.kind == warranty::WARRANTY_CLOCK {
        warranty::raise_warranty_clock(call)
    } else {
        pool::raise_pool_clock(call)
    }
}

/// The customer's page counts down the pool's return and the warranty's
/// next follow-up: the rules the server's clocks come from.
fn customer_deadlines(
    _: uuid::Uuid,
    fields: &Fields,
    tz: chrono_tz::Tz,
    singles: &crate::sync::entity::Singles,
) -> Vec<crate::screen::Deadline> {
    let mut deadlines = pool::pool_deadline(fields, tz, singles);
    let every_days = crate::settings::ProcessSettings::of(singles).warranty_follow_up_days;
    deadlines.extend(
        warranty::warranty_due(fields, None, tz, every_days).map(|due_at| crate::screen::Deadline {
            kind: warranty::WARRANTY_CLOCK,
            due_at,
            met_at: None,
        }),
    );
    deadlines
}

/// An application under review is what the approver is deciding on: it
/// does not change under them. A draft, a rejected application (to be
/// mended and resubmitted) and a recognised customer are edited.
pub fn customer_locked(fields: &Fields) -> Option<&'static str> {
    (status_of(fields) == "pending").then_some("customer_under_review")
}

/// `customer_rows`: what lists, 查重 and (later) credit checks and reports
/// read, typed: match keys, the code, money as integer fen.
pub const CUSTOMER_ROWS: Projection = Projection {
    table: "customer_rows",
    columns: &[
        "company",
        "name_key",
        "phone_key",
        "credit_code_key",
        "code",
        "status",
        "class",
        "region",
        "key_customer",
        "credit_limit_fen",
    ],
    row: customer_row,
};

fn customer_row(fields: &Fields) -> Vec<Projected> {
    let text = |name: &str| crate::stored::stored_text(fields, name);
    let key = |value: String| Projected::Text(Some(value).filter(|k| !k.is_empty()));
    let keys = crate::dedup::Keys::of(fields);
    vec![
        Projected::Text(text("company")),
        key(keys.name),
        key(keys.phone),
        key(keys.credit_code),
        Projected::Text(text("code")),
        Projected::Text(Some(status_of(fields).to_owned())),
        Projected::Text(text("class")),
        Projected::Text(text("region")),
        Projected::Int(Some(i64::from(text("key_customer").as_deref() == Some("yes")))),
        Projected::Int(
            text("credit_limit")
                .and_then(|m| crate::validate::Money::parse(&m).ok())
                .map(crate::validate::Money::fen),
        ),
    ]
}

pub const CUSTOMER_SCREEN: RecordScreen = RecordScreen {
    spec: &CUSTOMER,
    fields: &[
        field("company", Input::Text, true),
        field("credit_code", Input::Text, false),
        field("legal_rep", Input::Text, false),
        field("founded", Input::Date, false),
        field("shareholders", Input::Long, false),
        field("capital", Input::Money, false),
        field("staff", Input::Text, false),
        field("address", Input::Text, false),
        field("phone", Input::Phone, false),
        field("contact_name", Input::Text, false),
        field("contact_title", Input::Text, false),
        field("contacts", Input::Lines(&CONTACTS), false),
        field("annual_sales", Input::Money, false),
        field("annual_profit", Input::Money, false),
        field("sales_trend", Input::Choice(class::SALES_TRENDS), false).unfiltered(),
        field("main_customers", Input::Long, false),
        field("main_products", Input::Long, false),
        field("payment_method", Input::Choice(PAYMENT_METHODS), true),
        field("payment_days", Input::Whole, false),
        field("bank", Input::Text, false),
        field("credit_rating", Input::Choice(CREDIT_RATINGS), true),
        field("credit_notes", Input::Long, false),
        field("credit_limit", Input::Money, false),
        field("class", Input::Choice(CUSTOMER_CLASSES), false),
        field("key_customer", Input::Choice(&["no", "yes"]), false),
        field(warranty::WARRANTY_UNTIL, Input::Date, false),
        field("region", Input::Text, false),
    ],
    when: "",
    path: "/customers",
    from: Some(Source {
        param: "lead",
        spec: &crate::leads::record::LEAD,
        copy: &[
            ("company", "company"),
            ("phone", "phone"),
            ("contact_name", "contact_name"),
            ("contact_title", "contact_title"),
        ],
        link: "lead_id",
        then: (crate::leads::record::CONVERT, "customer_id"),
    }),
    dedup: true,
    facts: &[
        field(pool::FOLLOWED_UP, Input::DateTime, false),
        field(warranty::SERVICED_AT, Input::DateTime, false),
        field(pool::POOLED_AT, Input::DateTime, false),
        field(
            pool::POOL_REASON,
            Input::Choice(&["no_follow_up", "released"]),
            false,
        ),
    ],
    args: &[
        CommandArgs {
            command: APPROVE,
            fields: &[field("comment", Input::Long, false)],
            applies: crate::screen::always,
        },
        CommandArgs {
            command: REJECT,
            fields: &[field("comment", Input::Long, true)],
            applies: crate::screen::always,
        },
    ],
    deadlines: Some(customer_deadlines),
    rates: None,
    board: None,
    share: None,
    photos: false,
    pairs: Some(crate::screen::Pairs {
        path: "/customers/look-alikes",
        commands: &[look_alike::MERGE, look_alike::KEEP_APART],
        works: look_alike::may_merge,
        find: look_alike::pairs_of,
    }),
    proposal: Some(crate::screen::Proposal {
        field: "class",
        rule: class::propose_class,
    }),
    order: None,
    badge: None,
    summary: &[],
    status: Some(status_of),
};

/// A customer's people beyond the form's contact: several, one of them the
/// main one (主要联系人), each with how to reach them.
pub const CONTACTS: Lines = Lines {
    fields: &[
        field("name", Input::Text, true),
        field("title", Input::Text, false),
        field("phone", Input::Phone, false),
        field("primary", Input::Choice(&["no", "yes"]), false),
    ],
    flag: Some("primary"),
    max: 20,
};

/// 现金, 支票, 转账 (seed 001's payment terms).
pub const PAYMENT_METHODS: &[&str] = &["cash", "cheque", "transfer"];
/// The credit investigation's finding (信用调查).
pub const CREDIT_RATINGS: &[&str] = &["credit_good", "credit_fair", "credit_poor"];
/// Class A/B/C/D by nature, size, sales and trend (seed 001).
pub const CUSTOMER_CLASSES: &[&str] = &["class_a", "class_b", "class_c", "class_d"];
/// An application's statuses; a new one is a draft until submitted.
pub const CUSTOMER_STATUSES: &[&str] = &["draft", "pending", "approved", "rejected"];

pub const SUBMIT: &str = "submit";
pub const APPROVE: &str = "approve";
pub const REJECT: &str = "reject";

/// Who recognises a new customer: the requester's supervisor.
pub const RECOGNITION: &[StepRule] = &[StepRule {
    approver: Approver::RequesterSupervisor,
    above_fen: None,
}];

/// A stored customer.
pub fn check_customer(fields: &Fields, _now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("company", SHORT_TEXT);
    if let Some(code) = read.text("credit_code") {
        if !code.is_empty() && !is_credit_code(code) {
            read.check.fail("credit_code", FieldProblem::InvalidChoice);
        }
    }
    read.optional("legal_rep", SHORT_TEXT);
    read.date("founded");
    read.optional("shareholders", LONG_TEXT);
    read.money("capital");
    read.optional("staff", SHORT_TEXT);
    read.optional("address", SHORT_TEXT);
    read.phone("phone");
    read.optional("contact_name", SHORT_TEXT);
    read.optional("contact_title", SHORT_TEXT);
    read.lines("contacts", CONTACTS.max, CONTACTS.flag, |line| {
        line.required("name", SHORT_TEXT);
        line.optional("title", SHORT_TEXT);
        line.phone("phone");
    });
    read.money("annual_sales");
    read.money("annual_profit");
    read.optional_choice("sales_trend", |raw| {
        class::SALES_TRENDS.contains(&raw).then_some(())
    });
    read.optional("main_customers", LONG_TEXT);
    read.optional("main_products", LONG_TEXT);
    read.choice("payment_method", |raw| {
        PAYMENT_METHODS.contains(&raw).then_some(())
    });
    read.whole("payment_days", 0..=365);
    read.optional("bank", SHORT_TEXT);
    read.choice("credit_rating", |raw| CREDIT_RATINGS.contains(&raw).then_some(()));
    read.optional("credit_notes", LONG_TEXT);
    read.money("credit_limit");
    read.date(warranty::WARRANTY_UNTIL);
    read.instant(warranty::SERVICED_AT);
    read.optional_choice("class", |raw| CUSTOMER_CLASSES.contains(&raw).then_some(()));
    read.optional_choice("key_customer", |raw| ["yes", "no"].contains(&raw).then_some(()));
    read.optional("region", SHORT_TEXT);
    read.id("lead_id");
    read.optional_choice("status", |raw| CUSTOMER_STATUSES.contains(&raw).then_some(()));
    if let Some(approval) = fields.get("approval").filter(|v| !v.is_null()) {
        if serde_json::from_value::<Approval>(approval.clone()).is_err() {
            read.check.fail("approval", FieldProblem::WrongType);
        }
    }
    read.optional("code", SHORT_TEXT);
    read.instant(pool::FOLLOWED_UP);
    read.instant(pool::POOLED_AT);
    read.optional_choice(pool::POOL_REASON, |raw| {
        ["no_follow_up", "released"].contains(&raw).then_some(())
    });
    read.id(pool::POOLED_FROM);
    read.id(look_alike::MERGED_INTO);
    if let Some(error) = look_alike::check_kept_apart(fields) {
        read.check.fail(&error.field, error.problem);
    }
    read.finish()
}

/// 统一社会信用代码: 18 characters, digits and capital letters.
fn is_credit_code(code: &str) -> bool {
    code.len() == 18 && code.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// An application's status as stored: absent means a draft.
pub fn status_of(fields: &Fields) -> &str {
    fields.get("status").and_then(Value::as_str).unwrap_or("draft")
}

/// The request as stored, if the application was ever submitted.
pub fn approval_of(fields: &Fields) -> Option<Approval> {
    crate::approvals::stored(fields)
}

/// `submit` (the owner asks for recognition; again after a rejection),
/// `approve` and `reject` (the approver of the current step, with a
/// comment, required to reject). The last approval asks the server for the
/// customer's code, `C{year}-{nnnn}` in the approver's zone's year.
pub fn decide_customer(call: &CommandCall) -> Result<Decided, Refusal> {
    let approval = approval_of(call.record);
    let comment = call
        .args
        .get("comment")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut changes = Fields::new();
    let put = |changes: &mut Fields, approval: &Approval| {
        changes.insert(
            "approval".into(),
            serde_json::to_value(approval).unwrap_or_default(),
        );
    };
    match call.name {
        SUBMIT => {
            if status_of(call.record) == "approved" {
                return Err(Refusal::Rule("customer_already_recognised"));
            }
            if call.actor.id != call.ownership.owner_id {
                return Err(Refusal::Rule("customer_not_owner"));
            }
            let request = Approval::submit(RECOGNITION, None, call.actor, approval.as_ref(), call.now)?;
            put(&mut changes, &request);
            changes.insert("status".into(), "pending".into());
            Ok(Decided::changes(changes))
        }
        APPROVE | REJECT => {
            let approval = approval.ok_or(Refusal::Rule("approval_not_pending"))?;
            let verdict = if call.name == APPROVE {
                Verdict::Approved
            } else {
                Verdict::Rejected
            };
            let next = approval.decide(call.actor, verdict, comment, call.now)?;
            put(&mut changes, &next);
            let mut number = None;
            match next.state {
                ApprovalState::Approved => {
                    changes.insert("status".into(), "approved".into());
                    // Recognition is a follow-up: the pool's clock starts.
                    changes.insert(pool::FOLLOWED_UP.into(), crate::stored::instant_value(call.now));
                    let year = call.now.with_timezone(&call.actor.tz()).year();
                    number = Some(NumberRequest {
                        field: "code",
                        series: format!("C{year}-"),
                        width: 4,
                    });
                }
                ApprovalState::Rejected => {
                    changes.insert("status".into(), "rejected".into());
                }
                ApprovalState::Pending => {}
            }
            Ok(Decided {
                changes,
                number,
                ..Decided::default()
            })
        }
        pool::CLAIM | pool::RELEASE => pool::decide_pool(call),
        look_alike::MERGE | look_alike::KEEP_APART => look_alike::decide_look_alike(call),
        _ => Err(Refusal::Rule("unknown_command")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Ownership;
    use crate::roles::{CurrentUser, Role};
    use serde_json::json;
    use uuid::Uuid;

    const TEAM: Uuid = Uuid::from_u128(0xA);

    fn user(id: u128, role: Role) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(id),
            username: format!("u{id}"),
            display_name: format!("用户{id}"),
            role,
            team_id: Some(TEAM),
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn application() -> Fields {
        json!({
            "company": "苏州恒达精密机械有限公司",
            "credit_code": "91320500MA1XXXXX0X",
            "capital": "5000000.00",
            "payment_method": "transfer",
            "payment_days": "30",
            "credit_rating": "credit_good",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn run(name: &str, actor: &CurrentUser, record: &Fields, args: Value) -> Result<Decided, Refusal> {
        decide_customer(&CommandCall {
            name,
            args: args.as_object().unwrap(),
            record,
            ownership: Ownership {
                owner_id: Uuid::from_u128(1),
                owner_team_id: Some(TEAM),
            },
            actor,
            // 2026-12-31 20:00 UTC is already 2027 in Shanghai.
            now: "2026-12-31T20:00:00Z".parse().unwrap(),
            context: &crate::sync::entity::Context::default(),
        })
    }

    #[test]
    fn an_application_passes_its_check_and_bad_money_or_codes_do_not() {
        assert_eq!(check_customer(&application(), Utc::now()), Ok(()));
        let mut bad = application();
        bad.insert("capital".into(), json!("500万"));
        bad.insert("credit_code".into(), json!("123"));
        bad.insert("payment_days".into(), json!("400"));
        let fields: Vec<String> = check_customer(&bad, Utc::now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["credit_code", "capital", "payment_days"]);
    }

    #[test]
    fn contacts_need_a_name_each_and_exactly_one_main_contact() {
        let with = |contacts: Value| {
            let mut record = application();
            record.insert("contacts".into(), contacts);
            check_customer(&record, Utc::now())
        };
        assert_eq!(
            with(json!([{"name": "陈志强", "phone": "13912345678", "primary": "yes"}, {"name": "李娜"}])),
            Ok(())
        );
        let problems = |contacts| {
            with(contacts)
                .unwrap_err()
                .into_iter()
                .map(|e| e.problem)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            problems(json!([{"name": "陈志强", "primary": "yes"}, {"name": "李娜", "primary": "yes"}])),
            [FieldProblem::OnePrimary]
        );
        assert_eq!(problems(json!([{"name": "陈志强"}])), [FieldProblem::OnePrimary]);
        assert_eq!(
            problems(json!([{"title": "经理", "phone": "139", "primary": "yes"}])),
            [FieldProblem::Required, FieldProblem::InvalidPhone]
        );
        assert_eq!(problems(json!("陈志强")), [FieldProblem::WrongType]);
        assert_eq!(problems(json!([["陈志强"]])), [FieldProblem::WrongType]);
        let many: Vec<Value> = (0..=CONTACTS.max)
            .map(|n| json!({"name": format!("联系人{n}"), "primary": if n == 0 { "yes" } else { "no" }}))
            .collect();
        assert_eq!(
            problems(Value::Array(many)),
            [FieldProblem::TooLong { max: CONTACTS.max }]
        );
    }

    #[test]
    fn submitted_approved_by_the_supervisor_it_asks_for_a_code_of_the_year() {
        let (rep, sup) = (user(1, Role::Rep), user(2, Role::Supervisor));
        let mut record = application();
        let submitted = run(SUBMIT, &rep, &record, json!({})).unwrap();
        assert_eq!(customer_locked(&record), None);
        record.extend(submitted.changes);
        assert_eq!(status_of(&record), "pending");
        assert_eq!(customer_locked(&record), Some("customer_under_review"));
        assert_eq!(check_customer(&record, Utc::now()), Ok(()));
        assert_eq!(
            run(APPROVE, &rep, &record, json!({})).map(|d| d.changes),
            Err(Refusal::Rule("approval_own_request"))
        );
        let approved = run(APPROVE, &sup, &record, json!({"comment": "同意"})).unwrap();
        assert_eq!(approved.changes["status"], "approved");
        let number = approved.number.unwrap();
        assert_eq!(number.format(1), "C2027-0001");
        record.extend(approved.changes);
        assert_eq!(
            run(SUBMIT, &rep, &record, json!({})).map(|d| d.changes),
            Err(Refusal::Rule("customer_already_recognised"))
        );
    }

    #[test]
    fn a_rejection_returns_with_its_comment_and_may_be_resubmitted() {
        let (rep, sup) = (user(1, Role::Rep), user(2, Role::Supervisor));
        let mut record = application();
        record.extend(run(SUBMIT, &rep, &record, json!({})).unwrap().changes);
        let rejected = run(REJECT, &sup, &record, json!({"comment": "请补充信用调查"})).unwrap();
        assert!(rejected.number.is_none());
        record.extend(rejected.changes);
        assert_eq!(status_of(&record), "rejected");
        // Rejected, it is mended before it is resubmitted.
        assert_eq!(customer_locked(&record), None);
        let request = approval_of(&record).unwrap();
        assert_eq!(
            request.rejection().and_then(|s| s.comment.as_deref()),
            Some("请补充信用调查")
        );
        // Only the owner resubmits.
        assert_eq!(
            run(SUBMIT, &sup, &record, json!({})).map(|d| d.changes),
            Err(Refusal::Rule("customer_not_owner"))
        );
        record.extend(run(SUBMIT, &rep, &record, json!({})).unwrap().changes);
        assert_eq!(approval_of(&record).unwrap().round, 2);
    }
}

/// A customer that may be the one being typed (查重). One the user may not
/// see comes with only its name and its owner's name.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DuplicateCandidate {
    pub company: String,
    pub owner_name: String,
    /// Set only for a customer in the user's scope.
    pub id: Option<uuid::Uuid>,
    pub code: Option<String>,
}

/// The most candidates one check answers.
pub const MAX_CANDIDATES: usize = 10;

/// `POST /api/customers/duplicates`: customers anywhere in the company with
/// the same name (however written), phone or credit code, read from the
/// `customer_rows` projection by its match-key indexes.
#[leptos::server(endpoint = "customers/duplicates", input = leptos::server_fn::codec::Json)]
pub async fn duplicates(
    company: String,
    phone: String,
    credit_code: String,
) -> Result<Vec<DuplicateCandidate>, crate::error::AppError> {
    use crate::error::AppError;
    use crate::{policy, ssr};
    let user = ssr::require_user().await?;
    if !policy::can_create(&user, Kind::Customer) {
        return Err(AppError::Forbidden);
    }
    if [&company, &phone, &credit_code]
        .iter()
        .any(|v| v.chars().count() > SHORT_TEXT)
    {
        return Err(AppError::BadRequest {
            detail: "a key longer than a field".into(),
        });
    }
    let keys = crate::dedup::Keys::new(&company, &phone, &credit_code);
    Ok(store::duplicates(&ssr::state()?.db, &user, &keys).await?)
}

#[cfg(feature = "ssr")]
pub mod store {
    //! Customer queries (server only), on the `customer_rows` projection.

    use super::DuplicateCandidate;
    use crate::dedup::Keys;
    use crate::policy::{self, Kind, Ownership};
    use crate::roles::CurrentUser;
    use crate::ssr::session::parse_uuid;
    use crate::ssr::{Db, DbError};

    pub async fn duplicates(
        db: &Db,
        user: &CurrentUser,
        keys: &Keys,
    ) -> Result<Vec<DuplicateCandidate>, DbError> {
        // A key too short to count matches nothing (`Keys::shared`'s rule).
        let key = |value: &str, min: usize| (value.chars().count() >= min).then(|| value.to_owned());
        let (name, phone, code) = (
            key(&keys.name, 2),
            key(&keys.phone, 7),
            key(&keys.credit_code, 18),
        );
        if name.is_none() && phone.is_none() && code.is_none() {
            return Ok(Vec::new());
        }
        type Row = (
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.id, c.company, c.code, c.owner_id, u.display_name, u.team_id \
             FROM customer_rows c JOIN users u ON u.id = c.owner_id \
             WHERE c.deleted = 0 AND (c.name_key = $1 OR c.phone_key = $2 OR c.credit_code_key = $3) \
             ORDER BY c.company LIMIT $4",
        )
        .bind(name)
        .bind(phone)
        .bind(code)
        .bind(super::MAX_CANDIDATES as i64)
        .fetch_all(&db.pool)
        .await?;
        let mut found = Vec::new();
        for (id, company, code, owner, owner_name, team) in rows {
            let ownership = Ownership {
                owner_id: parse_uuid(&owner)?,
                owner_team_id: team.as_deref().map(parse_uuid).transpose()?,
            };
            let visible = policy::can_read(user, Kind::Customer, ownership);
            found.push(DuplicateCandidate {
                company: company.unwrap_or_default(),
                owner_name,
                id: visible.then(|| parse_uuid(&id)).transpose()?,
                code: code.filter(|_| visible),
            });
        }
        Ok(found)
    }
}
