//! Visits (拜访记录): when, whom, why, with what result. Entered on the
//! phone with the generic record form (`records`).

use crate::error::FieldError;
use crate::leads::{LONG_TEXT, SHORT_TEXT};
use crate::policy::Kind;
use crate::screen::{field, Input, Link, RecordScreen};
use crate::stored::Reader;
use crate::sync::entity::{no_commands, EntitySpec, Projected, Projection, Reference, Touch};
use crate::sync::Fields;
use chrono::{DateTime, Utc};

pub const VISIT: EntitySpec = EntitySpec {
    name: "visit",
    kind: Kind::Visit,
    fields: &[
        "customer_name",
        "customer_id",
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
    workflow: &[],
    commands: &[],
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
    decide: no_commands,
    projection: Some(&VISIT_ROWS),
    clocks: None,
    person_args: &[],
    references: &[
        Reference {
            field: "lead_id",
            entity: "lead",
        },
        Reference {
            field: "customer_id",
            entity: "customer",
        },
    ],
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
    spec: &crate::customers::CUSTOMER,
    copy: &[("company", "customer_name")],
};

pub const VISIT_SCREEN: RecordScreen = RecordScreen {
    spec: &VISIT,
    fields: &[
        field("customer_id", Input::Reference(&VISIT_CUSTOMER), false),
        field("customer_name", Input::Text, true),
        field("visited_at", Input::DateTime, true),
        field("met_name", Input::Text, false),
        field("met_title", Input::Text, false),
        field("met_department", Input::Text, false),
        field("purpose", Input::Long, true),
        field("result", Input::Long, false),
        field("next_step", Input::Long, false),
        field("next_step_date", Input::Date, false),
        field("urgent", Input::Choice(&["no", "yes"]), false),
    ],
    when: "visited_at",
    path: "/visits",
    from: None,
    dedup: false,
    facts: &[],
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
    summary: &[],
    status: None,
};

/// A stored visit.
pub fn check_visit(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("customer_name", SHORT_TEXT);
    read.id("customer_id");
    read.id("lead_id");
    read.past_instant("visited_at", now);
    read.optional("met_name", SHORT_TEXT);
    read.optional("met_title", SHORT_TEXT);
    read.optional("met_department", SHORT_TEXT);
    read.required("purpose", LONG_TEXT);
    read.optional("result", LONG_TEXT);
    read.optional("next_step", LONG_TEXT);
    read.date("next_step_date");
    if !read.is_empty("urgent") {
        read.choice("urgent", |raw| ["yes", "no"].contains(&raw).then_some(()));
    }
    read.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_needs_whom_when_and_why() {
        let now = "2026-11-24T08:00:00Z".parse().unwrap();
        let names: Vec<String> = check_visit(&Fields::new(), now)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(names, ["customer_name", "visited_at", "purpose"]);
    }
}
