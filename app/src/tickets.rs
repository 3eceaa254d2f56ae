//! Service tickets (售后工单): opened from the hotline, a call, an email,
//! the web or a visit, and moved along by commands (contacted, in progress,
//! resolved, closed, reopened); the status is a workflow field no edit sets.

use crate::error::FieldError;
use crate::leads::{LONG_TEXT, SHORT_TEXT};
use crate::policy::Kind;
use crate::screen::{field, Input, RecordScreen};
use crate::stored::Reader;
use crate::sync::entity::{CommandCall, Decided, EntitySpec, Refusal};
use crate::sync::Fields;
use chrono::{DateTime, Utc};
use serde_json::Value;

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
    workflow: &["status"],
    commands: &[CONTACT, START, RESOLVE, CLOSE, REOPEN],
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
    decide: decide_ticket,
    projection: None,
};

pub const TICKET_SCREEN: RecordScreen = RecordScreen {
    spec: &TICKET,
    fields: &[
        field("customer_name", Input::Text, true),
        field("contact_name", Input::Text, false),
        field("contact_phone", Input::Phone, false),
        field("channel", Input::Choice(TICKET_CHANNELS), true),
        field("ticket_type", Input::Choice(TICKET_TYPES), true),
        field("product", Input::Text, false),
        field("order_ref", Input::Text, false),
        field("description", Input::Long, true),
        field("opened_at", Input::DateTime, true),
    ],
    when: "opened_at",
    path: "/tickets",
    from: None,
    dedup: false,
};

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
/// A ticket's statuses, in their order. A new ticket is `open`.
pub const TICKET_STATUSES: &[&str] = &["open", "contacted", "in_progress", "resolved", "closed"];

/// The customer was reached (the first contact).
pub const CONTACT: &str = "contact";
/// Work on it has begun.
pub const START: &str = "start";
pub const RESOLVE: &str = "resolve";
pub const CLOSE: &str = "close";
/// A resolved or closed ticket needs more work.
pub const REOPEN: &str = "reopen";

/// A ticket's status as stored: absent means open.
pub fn status_of(fields: &Fields) -> &str {
    fields.get("status").and_then(Value::as_str).unwrap_or("open")
}

/// The status a command moves a ticket to from `status`, or why not.
pub fn transition(status: &str, command: &str) -> Result<&'static str, Refusal> {
    let allowed: &[&str] = match command {
        CONTACT => &["open"],
        START => &["open", "contacted"],
        RESOLVE => &["open", "contacted", "in_progress"],
        CLOSE => &["resolved"],
        REOPEN => &["resolved", "closed"],
        _ => return Err(Refusal::Rule("unknown_command")),
    };
    if !allowed.contains(&status) {
        return Err(Refusal::Rule(match status {
            "closed" => "ticket_closed",
            _ => "ticket_wrong_status",
        }));
    }
    Ok(match command {
        CONTACT => "contacted",
        START | REOPEN => "in_progress",
        RESOLVE => "resolved",
        _ => "closed",
    })
}

pub fn decide_ticket(call: &CommandCall) -> Result<Decided, Refusal> {
    let next = transition(status_of(call.record), call.name)?;
    Ok(Decided::changes(
        std::iter::once(("status".to_owned(), Value::String(next.to_owned()))).collect(),
    ))
}

/// A stored service ticket.
pub fn check_ticket(fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("customer_name", SHORT_TEXT);
    read.optional("contact_name", SHORT_TEXT);
    read.phone("contact_phone");
    read.optional("product", SHORT_TEXT);
    read.optional("order_ref", SHORT_TEXT);
    read.choice("channel", |raw| TICKET_CHANNELS.contains(&raw).then_some(()));
    read.choice("ticket_type", |raw| TICKET_TYPES.contains(&raw).then_some(()));
    read.required("description", LONG_TEXT);
    read.past_instant("opened_at", now);
    read.optional_choice("status", |raw| TICKET_STATUSES.contains(&raw).then_some(()));
    read.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-24T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_ticket_needs_customer_channel_type_description_and_time() {
        let names: Vec<String> = check_ticket(&Fields::new(), now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            names,
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
    fn a_ticket_moves_only_along_its_lifecycle() {
        assert_eq!(transition("open", CONTACT), Ok("contacted"));
        assert_eq!(transition("contacted", START), Ok("in_progress"));
        assert_eq!(transition("in_progress", RESOLVE), Ok("resolved"));
        assert_eq!(transition("resolved", CLOSE), Ok("closed"));
        assert_eq!(transition("closed", REOPEN), Ok("in_progress"));
        assert_eq!(
            transition("open", CLOSE),
            Err(Refusal::Rule("ticket_wrong_status"))
        );
        assert_eq!(transition("closed", RESOLVE), Err(Refusal::Rule("ticket_closed")));
        assert_eq!(
            transition("contacted", CONTACT),
            Err(Refusal::Rule("ticket_wrong_status"))
        );
    }
}
