//! After-sales follow-ups (售后跟进记录, 模板七 of seed 004): when, who
//! (the one who records it), how, what the customer said, the result, and
//! when to follow up next. Linked to the customer and, where it follows a
//! service ticket, to the ticket; both pages list their follow-ups. The
//! next follow-up date is a clock: on the morning of that day its owner is
//! reminded, once.

use crate::error::FieldError;
use crate::leads::{LONG_TEXT, SHORT_TEXT};
use crate::policy::Kind;
use crate::screen::{field, Input, Link, RecordScreen};
use crate::stored::Reader;
use crate::sync::entity::{
    Clock, ClockCall, Clocks, DueCall, EntitySpec, Raised, Recipient, Reference, Touch,
};
use crate::sync::Fields;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

pub const FOLLOW_UP: EntitySpec = EntitySpec {
    name: "follow_up",
    kind: Kind::FollowUp,
    fields: &[
        "customer_name",
        "customer_id",
        "ticket_id",
        "followed_at",
        "follow_method",
        "customer_feedback",
        "follow_result",
        "next_follow_up_date",
    ],
    workflow: &[],
    commands: &[],
    title: "customer_name",
    searched: &["customer_name", "customer_feedback", "follow_result"],
    check: check_follow_up,
    decide: crate::sync::entity::no_commands,
    projection: Some(&FOLLOW_UP_ROWS),
    clocks: Some(&FOLLOW_UP_CLOCKS),
    person_args: &[],
    references: &[
        Reference {
            field: "customer_id",
            entity: "customer",
        },
        Reference {
            field: "ticket_id",
            entity: "ticket",
        },
    ],
    locked: crate::sync::entity::never_locked,
    claim: None,
    hidden: crate::sync::entity::nothing_hidden,
    // An after-sales follow-up is the warranty's quarterly care.
    touches: &[Touch {
        field: "customer_id",
        entity: "customer",
        mark: crate::customers::warranty::SERVICED_AT,
        by: reads_whole,
    }],
    single: None,
    stamp: None,
    merged_into: None,
};

/// `follow_up_rows`: a customer's and a ticket's follow-ups in time,
/// without parsing JSON (the moment in milliseconds).
pub const FOLLOW_UP_ROWS: crate::sync::entity::Projection = crate::sync::entity::Projection {
    table: "follow_up_rows",
    columns: &["customer_id", "ticket_id", "followed_at", "next_follow_up_date"],
    row: |fields| {
        use crate::stored::{stored_instant, stored_text};
        use crate::sync::entity::Projected;
        vec![
            Projected::Text(stored_text(fields, "customer_id")),
            Projected::Text(stored_text(fields, "ticket_id")),
            Projected::Int(stored_instant(fields, "followed_at").map(|at| at.timestamp_millis())),
            Projected::Text(stored_text(fields, "next_follow_up_date")),
        ]
    },
};

/// The service desk marks a customer it reads whole (not one a rep reads
/// masked in the pool): a follow-up is its work, not an edit of the
/// customer.
fn reads_whole(user: &crate::roles::CurrentUser, kind: Kind, record: crate::policy::Ownership) -> bool {
    crate::policy::can_read(user, kind, record) && !crate::policy::reads_in_pool(user, kind, record)
}

/// The customer followed up, found on the device; its name is copied so
/// the record reads on a phone that does not hold the customer.
pub const FOLLOW_UP_CUSTOMER: Link = Link {
    spec: &crate::customers::CUSTOMER,
    copy: &[("company", "customer_name")],
};

/// The ticket a follow-up comes after, if any.
pub const FOLLOW_UP_TICKET: Link = Link {
    spec: &crate::tickets::TICKET,
    copy: &[("customer_name", "customer_name"), ("customer_id", "customer_id")],
};

/// 电话, 上门, 短信/微信 (模板七's 跟进方式).
pub const FOLLOW_METHODS: &[&str] = &["phone", "visit", "message"];

pub const FOLLOW_UP_SCREEN: RecordScreen = RecordScreen {
    spec: &FOLLOW_UP,
    fields: &[
        field("customer_id", Input::Reference(&FOLLOW_UP_CUSTOMER), false),
        field("ticket_id", Input::Reference(&FOLLOW_UP_TICKET), false),
        field("customer_name", Input::Text, true),
        field("followed_at", Input::DateTime, true),
        field("follow_method", Input::Choice(FOLLOW_METHODS), true),
        field("customer_feedback", Input::Long, false),
        field("follow_result", Input::Long, true),
        field("next_follow_up_date", Input::Date, false),
    ],
    when: "followed_at",
    path: "/follow-ups",
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

/// A stored follow-up.
pub fn check_follow_up(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("customer_name", SHORT_TEXT);
    for link in ["customer_id", "ticket_id"] {
        read.id(link);
    }
    read.past_instant("followed_at", now);
    read.choice("follow_method", |raw| FOLLOW_METHODS.contains(&raw).then_some(()));
    read.optional("customer_feedback", LONG_TEXT);
    read.required("follow_result", LONG_TEXT);
    read.date("next_follow_up_date");
    read.finish()
}

/// The reminder of the next follow-up.
pub const FOLLOW_UP_CLOCK: &str = "follow_up";

/// The hour of the next follow-up day at which its owner is reminded (the
/// start of a working morning, in the owner's zone).
pub const REMIND_AT_HOUR: u32 = 9;

pub const FOLLOW_UP_CLOCKS: Clocks = Clocks {
    running: follow_up_clocks,
    raise: raise_follow_up,
};

/// When the owner is reminded of a next follow-up on `date`: that day at
/// `REMIND_AT_HOUR` in `tz`.
pub fn reminder_at(date: NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let morning = date.and_time(NaiveTime::from_hms_opt(REMIND_AT_HOUR, 0, 0)?);
    Some(morning.and_local_timezone(tz).earliest()?.with_timezone(&Utc))
}

fn follow_up_clocks(call: &ClockCall) -> Vec<Clock> {
    call.record
        .get("next_follow_up_date")
        .and_then(Value::as_str)
        .and_then(|raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .and_then(|date| reminder_at(date, call.tz))
        .map(|due_at| {
            vec![Clock {
                kind: FOLLOW_UP_CLOCK,
                due_at,
            }]
        })
        .unwrap_or_default()
}

fn raise_follow_up(_: &DueCall) -> Raised {
    Raised {
        changes: Fields::new(),
        notify: vec![Recipient::Owner],
        to_pool: false,
        secret: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-12-03T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_follow_up_needs_whom_when_how_and_the_result() {
        let names: Vec<String> = check_follow_up(&Fields::new(), now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            names,
            ["customer_name", "followed_at", "follow_method", "follow_result"]
        );
        let done = json!({
            "customer_name": "宁波远航物流", "followed_at": "2026-12-03T07:00:00Z",
            "follow_method": "phone", "follow_result": "设备运行正常", "next_follow_up_date": "2027-03-03",
            "customer_id": "0193a1b2-0000-7000-8000-000000000001",
        });
        assert_eq!(check_follow_up(done.as_object().unwrap(), now()), Ok(()));
        let mut later = done.as_object().unwrap().clone();
        later.insert("followed_at".into(), json!("2026-12-04T07:00:00Z"));
        later.insert("ticket_id".into(), json!("not-an-id"));
        let fields: Vec<String> = check_follow_up(&later, now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["ticket_id", "followed_at"]);
    }

    #[test]
    fn the_next_follow_up_is_reminded_at_nine_in_the_owners_zone_and_only_when_set() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let record = json!({ "next_follow_up_date": "2027-03-03" });
        let call = ClockCall {
            id: uuid::Uuid::nil(),
            record: record.as_object().unwrap(),
            tz: shanghai,
            singles: &Default::default(),
        };
        // 09:00 in Shanghai is 01:00 UTC.
        assert_eq!(
            follow_up_clocks(&call),
            [Clock {
                kind: FOLLOW_UP_CLOCK,
                due_at: "2027-03-03T01:00:00Z".parse().unwrap(),
            }]
        );
        let none = Fields::new();
        let call = ClockCall {
            id: uuid::Uuid::nil(),
            record: &none,
            tz: shanghai,
            singles: &Default::default(),
        };
        assert!(follow_up_clocks(&call).is_empty());
    }
}
