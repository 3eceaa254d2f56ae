//! After-sales follow-ups (售后跟进记录, 模板七 of seed 004): when, who
//! (the one who records it), how, what the customer said, the result, and
//! when to follow up next. Linked to the customer and, where it follows a
//! service ticket, to the ticket; both pages list their follow-ups. The
//! next follow-up date is a clock: on the morning of that day its owner is
//! reminded, once.

use crate::i18n::Words;
use crate::policy::Kind;
use crate::schema::{field, Input, Link};
use crate::screen::RecordScreen;
use crate::sync::entity::{Clock, ClockCall, Clocks, DueCall, EntitySpec, Raised, Recipient, Touch};
use crate::sync::Fields;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

pub const FOLLOW_UP: EntitySpec = EntitySpec {
    name: "follow_up",
    kind: Kind::FollowUp,
    plural: Words {
        zh: "售后跟进",
        en: "Follow-ups",
    },
    fields: &[
        field(
            "customer_id",
            Input::Reference(&FOLLOW_UP_CUSTOMER),
            "客户档案",
            "Customer record",
        ),
        field(
            "ticket_id",
            Input::Reference(&FOLLOW_UP_TICKET),
            "关联工单",
            "Ticket",
        ),
        field("customer_name", Input::Text, "客户名称", "Customer")
            .required()
            .searched(),
        field("followed_at", Input::DateTime, "跟进时间", "Followed up at")
            .required()
            .past(),
        field("follow_method", Input::Choice(FOLLOW_METHODS), "跟进方式", "How").required(),
        field("customer_feedback", Input::Long, "客户反馈", "Customer feedback").searched(),
        field("follow_result", Input::Long, "跟进结果", "Result")
            .required()
            .searched(),
        field(
            "next_follow_up_date",
            Input::Date,
            "下次跟进日期",
            "Next follow-up",
        ),
    ],
    commands: &[],
    title: "customer_name",
    rules: crate::sync::entity::no_more_rules,
    decide: crate::sync::entity::no_commands,
    projection: Some(&FOLLOW_UP_ROWS),
    clocks: Some(&FOLLOW_UP_CLOCKS),
    person_args: &[],
    arg_references: &[],
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
    entity: crate::customers::CUSTOMER.name,
    copy: &[("company", "customer_name")],
};

/// The ticket a follow-up comes after, if any.
pub const FOLLOW_UP_TICKET: Link = Link {
    entity: crate::tickets::TICKET.name,
    copy: &[("customer_name", "customer_name"), ("customer_id", "customer_id")],
};

/// 电话, 上门, 短信/微信 (模板七's 跟进方式).
pub const FOLLOW_METHODS: &[&str] = &["phone", "visit", "message"];

pub const FOLLOW_UP_SCREEN: RecordScreen = RecordScreen {
    spec: &FOLLOW_UP,
    new: Words {
        zh: "新增售后跟进",
        en: "New follow-up",
    },
    when: "followed_at",
    path: "/follow-ups",
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
    summary: &[],
    status: None,
};

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
        let names: Vec<String> = FOLLOW_UP
            .check(&Fields::new(), now())
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
        assert_eq!(FOLLOW_UP.check(done.as_object().unwrap(), now()), Ok(()));
        let mut later = done.as_object().unwrap().clone();
        later.insert("followed_at".into(), json!("2026-12-04T07:00:00Z"));
        later.insert("ticket_id".into(), json!("not-an-id"));
        let fields: Vec<String> = FOLLOW_UP
            .check(&later, now())
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
