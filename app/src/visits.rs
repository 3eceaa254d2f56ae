//! Visits (拜访记录): when, whom, why, with what result. Entered on the
//! phone with the generic record form (`records`).

use crate::i18n::Words;
use crate::policy::Kind;
use crate::schema::{field, Input, Link};
use crate::screen::RecordScreen;
use crate::sync::entity::{no_commands, no_more_rules, EntitySpec, Projected, Projection, Touch};
#[cfg(test)]
use crate::sync::Fields;

pub const VISIT: EntitySpec = EntitySpec {
    name: "visit",
    kind: Kind::Visit,
    plural: Words {
        zh: "拜访记录",
        en: "Visits",
    },
    fields: &[
        field(
            "customer_id",
            Input::Reference(&VISIT_CUSTOMER),
            "客户档案",
            "Customer record",
        ),
        field("customer_name", Input::Text, "客户名称", "Customer")
            .required()
            .searched(),
        field("lead_id", Input::RecordOf("lead"), "来源线索", "From lead").kept(),
        field("visited_at", Input::DateTime, "拜访时间", "Visited at")
            .required()
            .past(),
        field("met_name", Input::Text, "会见人", "Met").searched(),
        field("met_title", Input::Text, "职务", "Title"),
        field("met_department", Input::Text, "部门", "Department").searched(),
        field("purpose", Input::Long, "拜访目的", "Purpose")
            .required()
            .searched(),
        field("result", Input::Long, "拜访结果", "Result").searched(),
        field("next_step", Input::Long, "下一步计划", "Next step").searched(),
        field("next_step_date", Input::Date, "下一步日期", "Next step date"),
        field(
            "urgent",
            Input::Choice(&["no", "yes"]),
            "紧急报告",
            "Urgent report",
        ),
    ],
    commands: &[],
    title: "customer_name",
    rules: no_more_rules,
    decide: no_commands,
    projection: Some(&VISIT_ROWS),
    clocks: None,
    person_args: &[],
    arg_references: &[],
    locked: crate::sync::entity::never_locked,
    claim: None,
    hidden: crate::sync::entity::nothing_hidden,
    // A visit to a customer is its follow-up: the pool's clock starts again.
    touches: &[Touch {
        field: "customer_id",
        entity: "customer",
        mark: crate::customers::pool::FOLLOWED_UP,
        by: crate::policy::can_write,
    }],
    single: None,
    stamp: None,
    merged_into: None,
};

/// `visit_rows`: a customer's or a lead's visits, in time, without
/// parsing JSON (the visit's moment in milliseconds).
pub const VISIT_ROWS: Projection = Projection {
    table: "visit_rows",
    columns: &["customer_id", "lead_id", "visited_at"],
    row: |fields| {
        vec![
            Projected::Text(crate::stored::stored_text(fields, "customer_id")),
            Projected::Text(crate::stored::stored_text(fields, "lead_id")),
            Projected::Int(
                crate::stored::stored_instant(fields, "visited_at").map(|at| at.timestamp_millis()),
            ),
        ]
    },
};

/// A visit names the customer visited, found on the device; its name is
/// copied, and a visit to someone not yet a customer is named only.
pub const VISIT_CUSTOMER: Link = Link {
    entity: crate::customers::CUSTOMER.name,
    copy: &[("company", "customer_name")],
};

pub const VISIT_SCREEN: RecordScreen = RecordScreen {
    spec: &VISIT,
    new: Words {
        zh: "新增拜访",
        en: "New visit",
    },
    when: "visited_at",
    path: "/visits",
    from: None,
    dedup: false,
    offered: &[],
    args: &[],
    deadlines: None,
    rates: None,
    board: None,
    share: None,
    photos: false,
    pairs: None,
    proposal: None,
    order: None,
    badge: None,
    // Why and with what result, not the urgent flag's yes or no.
    summary: &["purpose", "result"],
    status: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_needs_whom_when_and_why() {
        let now = "2026-11-24T08:00:00Z".parse().unwrap();
        let names: Vec<String> = VISIT
            .check(&Fields::new(), now)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(names, ["customer_name", "visited_at", "purpose"]);
    }
}
