//! Warranty care (seed 001, 第九章; 模板七 售后跟进记录表): a customer whose
//! products are under warranty is followed up by the service desk at least
//! once a quarter. Each after-sales follow-up that names the customer marks
//! its `serviced_at` (the engine's touch, in the follow-up's transaction);
//! the clock runs the company's interval (`settings`: 90 days by default)
//! from the last one (or from when the
//! customer was entered) and, while that day is still within the warranty,
//! reminds the customer's owner and the service supervisors once when it
//! runs out. A new follow-up moves the clock on.

use super::status_of;
use crate::stored::stored_instant;
use crate::sync::entity::{Clock, DueCall, Raised, Recipient};
use crate::sync::Fields;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

/// The last day of the customer's warranty (`YYYY-MM-DD`).
pub const WARRANTY_UNTIL: &str = "warranty_until";
/// The last after-sales follow-up of the customer (set by the engine).
pub const SERVICED_AT: &str = "serviced_at";
pub const WARRANTY_CLOCK: &str = "warranty_follow_up";
/// When the next warranty follow-up is due: `every_days` after the last
/// one (`entered`, when there is none), if that day, in `tz`, is not past
/// the warranty; only for a recognised customer.
pub fn warranty_due(
    fields: &Fields,
    entered: Option<DateTime<Utc>>,
    tz: chrono_tz::Tz,
    every_days: i64,
) -> Option<DateTime<Utc>> {
    if status_of(fields) != "approved" {
        return None;
    }
    let until = fields
        .get(WARRANTY_UNTIL)
        .and_then(Value::as_str)
        .and_then(|raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())?;
    let since = stored_instant(fields, SERVICED_AT).or(entered)?;
    let due = since + Duration::days(every_days);
    (due.with_timezone(&tz).date_naive() <= until).then_some(due)
}

/// The clock of `warranty_due`, if it runs.
pub fn warranty_clock(
    fields: &Fields,
    entered: Option<DateTime<Utc>>,
    tz: chrono_tz::Tz,
    every_days: i64,
) -> Option<Clock> {
    warranty_due(fields, entered, tz, every_days).map(|due_at| Clock {
        kind: WARRANTY_CLOCK,
        due_at,
    })
}

/// A follow-up that ran out tells the owner and the service supervisors.
pub fn raise_warranty_clock(_: &DueCall) -> Raised {
    Raised {
        changes: Fields::new(),
        notify: vec![
            Recipient::Owner,
            Recipient::Role(crate::roles::Role::ServiceSupervisor),
        ],
        to_pool: false,
        secret: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The seeds' interval.
    const QUARTER: i64 = 90;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn customer(extra: Value) -> Fields {
        let mut fields = json!({"company": "宁波远航物流", "status": "approved"})
            .as_object()
            .unwrap()
            .clone();
        fields.extend(extra.as_object().unwrap().clone());
        fields
    }

    #[test]
    fn a_customer_in_warranty_is_due_a_follow_up_a_quarter_after_the_last() {
        let served = customer(json!({"warranty_until": "2027-12-31", "serviced_at": "2026-12-06T02:00:00Z"}));
        assert_eq!(
            warranty_due(&served, None, SHANGHAI, QUARTER),
            Some(at("2027-03-06T02:00:00Z"))
        );
        // Never followed up: a quarter after it was entered.
        let never = customer(json!({"warranty_until": "2027-12-31"}));
        assert_eq!(
            warranty_due(&never, Some(at("2026-11-01T00:00:00Z")), SHANGHAI, QUARTER),
            Some(at("2027-01-30T00:00:00Z"))
        );
    }

    #[test]
    fn the_follow_up_is_due_only_within_the_warranty_counted_in_the_zone() {
        // Due 2027-03-06 10:00 in Shanghai: the warranty's last day is enough.
        let last_day =
            customer(json!({"warranty_until": "2027-03-06", "serviced_at": "2026-12-06T02:00:00Z"}));
        assert!(warranty_due(&last_day, None, SHANGHAI, QUARTER).is_some());
        let ended = customer(json!({"warranty_until": "2027-03-05", "serviced_at": "2026-12-06T02:00:00Z"}));
        assert_eq!(warranty_due(&ended, None, SHANGHAI, QUARTER), None);
        // 2026-12-06 17:00 UTC is already the 7th in Shanghai, the due day
        // 2027-03-07: a warranty ending on the 6th does not reach it.
        let late = customer(json!({"warranty_until": "2027-03-06", "serviced_at": "2026-12-06T17:00:00Z"}));
        assert_eq!(warranty_due(&late, None, SHANGHAI, QUARTER), None);
        assert!(warranty_due(&late, None, chrono_tz::UTC, QUARTER).is_some());
    }

    #[test]
    fn no_warranty_or_no_recognition_no_clock() {
        let none = customer(json!({"serviced_at": "2026-12-06T02:00:00Z"}));
        assert_eq!(warranty_due(&none, None, SHANGHAI, QUARTER), None);
        let mut draft = customer(json!({"warranty_until": "2027-12-31"}));
        draft.insert("status".into(), json!("draft"));
        assert_eq!(
            warranty_due(&draft, Some(at("2026-11-01T00:00:00Z")), SHANGHAI, QUARTER),
            None
        );
        let raised = raise_warranty_clock(&DueCall {
            kind: WARRANTY_CLOCK,
            id: uuid::Uuid::nil(),
            record: &none,
            owner: uuid::Uuid::nil(),
            due_at: at("2027-03-06T02:00:00Z"),
            now: at("2027-03-06T02:00:00Z"),
        });
        assert!(raised.changes.is_empty() && !raised.to_pool);
        assert!(raised.notify.contains(&Recipient::Owner));
    }
}
