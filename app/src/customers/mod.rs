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
use crate::error::FieldProblem;
use crate::i18n::Words;
use crate::policy::Kind;
use crate::schema::{field, Field, Input, Lines};
use crate::screen::{CommandArgs, RecordScreen, Source};
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
    plural: Words {
        zh: "客户",
        en: "Customers",
    },
    fields: &[
        field("company", Input::Text, "公司名称", "Company")
            .required()
            .searched(),
        field(
            "credit_code",
            Input::Text,
            "统一社会信用代码",
            "Unified social credit code",
        )
        .searched(),
        field("legal_rep", Input::Text, "法定代表人", "Legal representative"),
        field("founded", Input::Date, "成立日期", "Founded"),
        field("shareholders", Input::Long, "主要股东", "Main shareholders"),
        field(
            "capital",
            Input::Money,
            "注册资本（元）",
            "Registered capital (yuan)",
        ),
        field("staff", Input::Text, "员工人数", "Staff"),
        field("address", Input::Text, "地址", "Address").searched(),
        field("phone", Input::Phone, "电话", "Phone").searched(),
        field("contact_name", Input::Text, "联系人", "Contact").searched(),
        field("contact_title", Input::Text, "职务", "Title"),
        field("contacts", Input::Lines(&CONTACTS), "联系人名单", "Contacts"),
        field(
            "annual_sales",
            Input::Money,
            "年销售额（元）",
            "Annual sales (yuan)",
        ),
        field(
            "annual_profit",
            Input::Money,
            "年利润（元）",
            "Annual profit (yuan)",
        ),
        field(
            "sales_trend",
            Input::Choice(class::SALES_TRENDS),
            "销售趋势",
            "Sales trend",
        )
        .unfiltered(),
        field("main_customers", Input::Long, "主要客户", "Main customers"),
        field("main_products", Input::Long, "主要产品", "Main products"),
        field(
            "payment_method",
            Input::Choice(PAYMENT_METHODS),
            "付款方式",
            "Payment method",
        )
        .required(),
        field(
            "payment_days",
            Input::Whole { min: 0, max: 365 },
            "付款期限（天）",
            "Payment terms (days)",
        ),
        field("bank", Input::Text, "开户银行", "Bank"),
        field(
            "credit_rating",
            Input::Choice(CREDIT_RATINGS),
            "信用调查结论",
            "Credit investigation",
        )
        .required(),
        field("credit_notes", Input::Long, "信用调查说明", "Credit notes"),
        field(
            "credit_limit",
            Input::Money,
            "信用额度（元）",
            "Credit limit (yuan)",
        ),
        field("class", Input::Choice(CUSTOMER_CLASSES), "客户分类", "Class"),
        field(
            "key_customer",
            Input::Choice(&["no", "yes"]),
            "重点客户",
            "Key customer",
        ),
        field(
            warranty::WARRANTY_UNTIL,
            Input::Date,
            "保修截止日期",
            "Warranty until",
        ),
        field("region", Input::Text, "片区", "Region").searched(),
        field(pool::FOLLOWED_UP, Input::DateTime, "最近跟进", "Last follow-up").fact(),
        field(
            warranty::SERVICED_AT,
            Input::DateTime,
            "最近售后跟进",
            "Last after-sales follow-up",
        )
        .fact(),
        field(
            pool::POOLED_AT,
            Input::DateTime,
            "进入公海时间",
            "In the pool since",
        )
        .fact(),
        field(
            pool::POOL_REASON,
            Input::Choice(&["no_follow_up", "released"]),
            "进入公海原因",
            "Why in the pool",
        )
        .fact(),
        // The lead it was made from: listed on the page as a related record.
        field("lead_id", Input::RecordOf("lead"), "来源线索", "From lead").kept(),
        field("status", Input::Choice(CUSTOMER_STATUSES), "状态", "Status")
            .kept()
            .workflow(),
        field("approval", Input::Approval, "审批", "Approval")
            .kept()
            .workflow(),
        field("code", Input::Text, "客户编号", "Customer code")
            .kept()
            .workflow()
            .searched(),
        field(pool::POOLED_FROM, Input::Id, "原负责人", "Previous owner")
            .kept()
            .workflow(),
        field(
            look_alike::KEPT_APART,
            Input::Ids {
                max: look_alike::MAX_KEPT_APART,
            },
            "已确认不重复的客户",
            "Told apart from",
        )
        .kept()
        .workflow(),
        field(look_alike::MERGED_INTO, Input::Id, "合并到", "Merged into")
            .kept()
            .workflow(),
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
    rules: customer_rules,
    decide: decide_customer,
    projection: Some(&CUSTOMER_ROWS),
    clocks: Some(&CUSTOMER_CLOCKS),
    person_args: &[],
    // The arguments of a merge and of keeping a pair apart.
    arg_references: &[
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
    new: Words {
        zh: "新客户认定申请",
        en: "New customer application",
    },
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
    offered: &[],
    args: &[
        CommandArgs {
            command: APPROVE,
            fields: &[COMMENT],
            applies: crate::screen::always,
        },
        CommandArgs {
            command: REJECT,
            fields: &[COMMENT.required()],
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
        field("name", Input::Text, "姓名", "Name").required(),
        field("title", Input::Text, "职务", "Title"),
        field("phone", Input::Phone, "电话", "Phone"),
        field(
            "primary",
            Input::Choice(&["no", "yes"]),
            "主要联系人",
            "Main contact",
        ),
    ],
    flag: Some("primary"),
    max: 20,
    text_before: false,
};

/// An approver's comment (审批意见): a reason is owed for a rejection.
const COMMENT: Field = field("comment", Input::Long, "审批意见", "Comment");

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

/// A customer's rules beyond its fields: the credit code's form.
fn customer_rules(fields: &Fields, read: &mut Reader, _: DateTime<Utc>) {
    if let Some(code) = fields.get("credit_code").and_then(Value::as_str) {
        if !code.is_empty() && !is_credit_code(code) && !read.has_problem("credit_code") {
            read.check.fail("credit_code", FieldProblem::InvalidChoice);
        }
    }
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
        assert_eq!(CUSTOMER.check(&application(), Utc::now()), Ok(()));
        let mut bad = application();
        bad.insert("capital".into(), json!("500万"));
        bad.insert("credit_code".into(), json!("123"));
        bad.insert("payment_days".into(), json!("400"));
        let fields: Vec<String> = CUSTOMER
            .check(&bad, Utc::now())
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
            CUSTOMER.check(&record, Utc::now())
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
        assert_eq!(CUSTOMER.check(&record, Utc::now()), Ok(()));
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
        .any(|v| v.chars().count() > crate::schema::SHORT_TEXT)
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
