//! 公海, the public pool (seed 001 客户管理; DOMAIN.md "Customers"): a
//! recognised customer nobody follows up for a class's number of days
//! returns to its team's pool, its owner warned three days before; the
//! team's reps see the pool without contact phones and claim from it, up
//! to a daily quota, and whoever it left may not reclaim it for a while.
//!
//! Who reads and claims a pooled customer is the access policy's
//! (`policy::pool_owner`, `policy::can_claim`); the rules here are pure and
//! run on the device for an immediate answer and on the server, whose
//! answer stands: the day's count comes from the server's audit trail.
//! The numbers (days per class, warning, quota, cooldown) are the
//! company's settings (`crate::settings`).

use super::status_of;
use crate::settings::ProcessSettings;
use crate::stored::{instant_value, stored_instant};
use crate::sync::entity::Singles;
use crate::sync::entity::{
    entered_at, Clock, ClockCall, CommandCall, Decided, DueCall, Raised, Recipient, Refusal,
};
use crate::sync::Fields;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Workflow fields of the pool, set only by commands, clocks and touches.
/// When the customer was last followed up (a visit, a claim, recognition).
pub const FOLLOWED_UP: &str = "last_followed_at";
/// When it entered the pool; absent while someone owns it.
pub const POOLED_AT: &str = "pooled_at";
/// Why: `no_follow_up` (its clock ran out) or `released` (its owner gave it up).
pub const POOL_REASON: &str = "pool_reason";
/// The owner it left, who may not claim it back during the cooldown.
pub const POOLED_FROM: &str = "pooled_from";

pub const CLAIM: &str = "claim";
pub const RELEASE: &str = "release";

/// The pool's clocks: the warning, then the return.
pub const WARNING_CLOCK: &str = "pool_warning";
pub const RETURN_CLOCK: &str = "pool_return";

/// Whether the customer lies in the pool, as its fields say.
pub fn is_pooled(fields: &Fields) -> bool {
    fields.get(POOLED_AT).is_some_and(|v| !v.is_null())
}

/// The pool's clocks of a recognised customer someone owns: the return
/// `return_after(class)` after its last follow-up, the warning
/// `warn_days` before that. Calendar days: the rule counts days without
/// contact, not working days.
pub fn pool_clocks(call: &ClockCall) -> Vec<Clock> {
    let settings = ProcessSettings::of(call.singles);
    let Some(due_at) = return_due(call.record, entered_at(call.id), &settings) else {
        return Vec::new();
    };
    vec![
        Clock {
            kind: WARNING_CLOCK,
            due_at: due_at - Duration::days(settings.pool_warn_days),
        },
        Clock {
            kind: RETURN_CLOCK,
            due_at,
        },
    ]
}

/// When a recognised customer someone owns returns to the pool: its
/// class's days after its last follow-up (`entered`, when it has none
/// stored: recognised before follow-ups were kept).
fn return_due(
    fields: &Fields,
    entered: Option<DateTime<Utc>>,
    settings: &ProcessSettings,
) -> Option<DateTime<Utc>> {
    if status_of(fields) != "approved" || is_pooled(fields) {
        return None;
    }
    let followed = stored_instant(fields, FOLLOWED_UP).or(entered)?;
    let class = fields.get("class").and_then(Value::as_str);
    Some(followed + settings.pool_return_after(class))
}

/// The return as the customer's page shows it, counting down: the same
/// rule the server's clock runs.
pub fn pool_deadline(fields: &Fields, _tz: chrono_tz::Tz, singles: &Singles) -> Vec<crate::screen::Deadline> {
    return_due(fields, None, &ProcessSettings::of(singles))
        .map(|due_at| crate::screen::Deadline {
            kind: RETURN_CLOCK,
            due_at,
            met_at: None,
        })
        .into_iter()
        .collect()
}

/// The warning tells the owner; the return moves the customer to the pool
/// (the engine gives it to the team's pool) and tells the owner it left.
pub fn raise_pool_clock(call: &DueCall) -> Raised {
    if call.kind != RETURN_CLOCK {
        return Raised {
            changes: Fields::new(),
            notify: vec![Recipient::Owner],
            to_pool: false,
            secret: None,
        };
    }
    Raised {
        changes: pooled(call.due_at, "no_follow_up", call.owner),
        notify: vec![Recipient::Owner],
        to_pool: true,
        secret: None,
    }
}

fn pooled(at: DateTime<Utc>, reason: &str, from: uuid::Uuid) -> Fields {
    [
        (POOLED_AT, instant_value(at)),
        (POOL_REASON, Value::String(reason.to_owned())),
        (POOLED_FROM, Value::String(from.to_string())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `release` (its owner gives a recognised customer back to the pool) and
/// `claim` (a rep of the team takes a pooled customer: not one they gave
/// up within the cooldown, not beyond the day's quota).
pub fn decide_pool(call: &CommandCall) -> Result<Decided, Refusal> {
    let fields = call.record;
    match call.name {
        RELEASE => {
            if status_of(fields) != "approved" {
                return Err(Refusal::Rule("pool_not_recognised"));
            }
            if is_pooled(fields) || crate::policy::in_pool(call.ownership) {
                return Err(Refusal::Rule("pool_not_owner"));
            }
            if call.actor.id != call.ownership.owner_id {
                return Err(Refusal::Rule("pool_not_owner"));
            }
            let team = call
                .ownership
                .owner_team_id
                .ok_or(Refusal::Rule("pool_no_team"))?;
            Ok(Decided {
                changes: pooled(call.now, "released", call.actor.id),
                owner: Some(crate::policy::pool_owner(team)),
                ..Decided::default()
            })
        }
        CLAIM => {
            if !is_pooled(fields) || !crate::policy::in_pool(call.ownership) {
                return Err(Refusal::Rule("pool_not_in_pool"));
            }
            let settings = ProcessSettings::of(&call.context.singles);
            if cooling_down(fields, call.actor.id, call.now, settings.pool_cooldown_days) {
                return Err(Refusal::Rule("pool_cooldown"));
            }
            if call.context.given_today(super::CUSTOMER.name, CLAIM) >= settings.pool_daily_quota {
                return Err(Refusal::Rule("pool_quota_reached"));
            }
            let mut changes: Fields = [POOLED_AT, POOL_REASON, POOLED_FROM]
                .into_iter()
                .map(|k| (k.to_owned(), Value::Null))
                .collect();
            // Claiming is the first follow-up: the clock starts from now.
            changes.insert(FOLLOWED_UP.into(), instant_value(call.now));
            Ok(Decided {
                changes,
                owner: Some(call.actor.id),
                ..Decided::default()
            })
        }
        _ => Err(Refusal::Rule("unknown_command")),
    }
}

/// Whether `actor` is the owner the customer left, within the cooldown.
fn cooling_down(fields: &Fields, actor: uuid::Uuid, now: DateTime<Utc>, cooldown_days: i64) -> bool {
    let from = fields.get(POOLED_FROM).and_then(Value::as_str);
    let since = stored_instant(fields, POOLED_AT);
    match (from, since) {
        (Some(from), Some(since)) => from == actor.to_string() && now < since + Duration::days(cooldown_days),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{pool_owner, Ownership};
    use crate::roles::{CurrentUser, Role};
    use crate::sync::entity::Context;
    use serde_json::json;
    use uuid::Uuid;

    const TEAM: Uuid = Uuid::from_u128(0xA);

    fn rep(id: u128) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(id),
            username: format!("u{id}"),
            display_name: format!("用户{id}"),
            role: Role::Rep,
            team_id: Some(TEAM),
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn customer(class: &str, followed: &str) -> Fields {
        json!({
            "company": "苏州恒达精密机械有限公司",
            "payment_method": "transfer",
            "credit_rating": "credit_good",
            "status": "approved",
            "class": class,
            "last_followed_at": followed,
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn run(
        name: &str,
        actor: &CurrentUser,
        record: &Fields,
        owner: Uuid,
        now: &str,
        context: &Context,
    ) -> Result<Decided, Refusal> {
        decide_pool(&CommandCall {
            name,
            args: &Fields::new(),
            record,
            ownership: Ownership {
                owner_id: owner,
                owner_team_id: Some(TEAM),
            },
            actor,
            now: at(now),
            context,
        })
    }

    #[test]
    fn the_return_comes_a_class_s_days_after_the_last_follow_up_and_the_warning_three_before() {
        let clocks = |class: &str| {
            pool_clocks(&ClockCall {
                id: Uuid::nil(),
                record: &customer(class, "2026-10-01T02:00:00Z"),
                tz: chrono_tz::Asia::Shanghai,
                singles: &Default::default(),
            })
        };
        let class_c = clocks("class_c");
        assert_eq!(class_c[0].kind, WARNING_CLOCK);
        assert_eq!(class_c[0].due_at, at("2026-10-28T02:00:00Z"));
        assert_eq!(class_c[1].kind, RETURN_CLOCK);
        assert_eq!(class_c[1].due_at, at("2026-10-31T02:00:00Z"));
        assert_eq!(clocks("class_a")[1].due_at, at("2026-12-30T02:00:00Z"));
        // The company's settings move both: class C returns after 10 days,
        // its owner warned 2 before.
        let mut singles = Singles::default();
        singles.0.insert(
            crate::settings::SETTINGS.name,
            serde_json::from_value(json!({"pool_days_class_c": "10", "pool_warn_days": "2"})).unwrap(),
        );
        let set = pool_clocks(&ClockCall {
            id: Uuid::nil(),
            record: &customer("class_c", "2026-10-01T02:00:00Z"),
            tz: chrono_tz::Asia::Shanghai,
            singles: &singles,
        });
        assert_eq!(
            (set[0].due_at, set[1].due_at),
            (at("2026-10-09T02:00:00Z"), at("2026-10-11T02:00:00Z"))
        );
        // An application, or a customer already in the pool, has none.
        let mut draft = customer("class_c", "2026-10-01T02:00:00Z");
        draft.insert("status".into(), json!("pending"));
        assert!(pool_clocks(&ClockCall {
            id: Uuid::nil(),
            record: &draft,
            tz: chrono_tz::Asia::Shanghai,
            singles: &Default::default(),
        })
        .is_empty());
        let mut pooled = customer("class_c", "2026-10-01T02:00:00Z");
        pooled.extend(
            raise_pool_clock(&DueCall {
                kind: RETURN_CLOCK,
                id: Uuid::nil(),
                record: &pooled.clone(),
                owner: Uuid::from_u128(1),
                due_at: at("2026-10-31T02:00:00Z"),
                now: at("2026-10-31T02:00:00Z"),
            })
            .changes,
        );
        assert!(is_pooled(&pooled));
        assert!(pool_clocks(&ClockCall {
            id: Uuid::nil(),
            record: &pooled,
            tz: chrono_tz::Asia::Shanghai,
            singles: &Default::default(),
        })
        .is_empty());
    }

    #[test]
    fn the_warning_only_tells_the_return_moves_to_the_pool() {
        let record = customer("class_c", "2026-10-01T02:00:00Z");
        let call = |kind| DueCall {
            kind,
            id: Uuid::nil(),
            record: &record,
            owner: Uuid::from_u128(1),
            due_at: at("2026-10-31T02:00:00Z"),
            now: at("2026-10-31T02:00:00Z"),
        };
        let warned = raise_pool_clock(&call(WARNING_CLOCK));
        assert!(!warned.to_pool && warned.changes.is_empty());
        assert_eq!(warned.notify, [Recipient::Owner]);
        let returned = raise_pool_clock(&call(RETURN_CLOCK));
        assert!(returned.to_pool);
        assert_eq!(returned.changes[POOL_REASON], "no_follow_up");
        assert_eq!(returned.changes[POOLED_FROM], Uuid::from_u128(1).to_string());
        let mut stored = record.clone();
        stored.extend(returned.changes);
        assert_eq!(super::super::CUSTOMER.check(&stored, Utc::now()), Ok(()));
    }

    #[test]
    fn a_claim_takes_a_pooled_customer_up_to_the_quota_exactly() {
        let pool = pool_owner(TEAM);
        let mut record = customer("class_c", "2026-10-01T02:00:00Z");
        record.extend(pooled(
            at("2026-10-31T02:00:00Z"),
            "no_follow_up",
            Uuid::from_u128(9),
        ));
        let mut context = Context::default();
        let now = "2026-11-02T03:00:00Z";
        context.today.insert(
            ("customer", CLAIM),
            ProcessSettings::default().pool_daily_quota - 1,
        );
        let claimed = run(CLAIM, &rep(1), &record, pool, now, &context).unwrap();
        assert_eq!(claimed.owner, Some(Uuid::from_u128(1)));
        assert_eq!(claimed.changes[POOLED_AT], Value::Null);
        assert_eq!(claimed.changes[FOLLOWED_UP], "2026-11-02T03:00:00Z");
        // The quota's last claim was that one: the next is refused.
        context
            .today
            .insert(("customer", CLAIM), ProcessSettings::default().pool_daily_quota);
        assert_eq!(
            run(CLAIM, &rep(1), &record, pool, now, &context).map(|d| d.owner),
            Err(Refusal::Rule("pool_quota_reached"))
        );
        // Claimed, it is no longer in the pool.
        let mut taken = record.clone();
        taken.extend(claimed.changes);
        assert_eq!(
            run(
                CLAIM,
                &rep(2),
                &taken,
                Uuid::from_u128(1),
                now,
                &Context::default()
            )
            .map(|d| d.owner),
            Err(Refusal::Rule("pool_not_in_pool"))
        );
    }

    #[test]
    fn the_owner_it_left_waits_out_the_cooldown_to_the_second() {
        let pool = pool_owner(TEAM);
        let mut record = customer("class_c", "2026-10-01T02:00:00Z");
        record.extend(pooled(
            at("2026-10-31T02:00:00Z"),
            "no_follow_up",
            Uuid::from_u128(1),
        ));
        let none = Context::default();
        assert_eq!(
            run(CLAIM, &rep(1), &record, pool, "2026-11-30T01:59:59Z", &none).map(|d| d.owner),
            Err(Refusal::Rule("pool_cooldown"))
        );
        assert_eq!(
            run(CLAIM, &rep(1), &record, pool, "2026-11-30T02:00:00Z", &none).map(|d| d.owner),
            Ok(Some(Uuid::from_u128(1)))
        );
        // Anyone else claims it at once.
        assert!(run(CLAIM, &rep(2), &record, pool, "2026-10-31T02:00:01Z", &none).is_ok());
    }

    #[test]
    fn only_the_owner_releases_a_recognised_customer_to_the_pool() {
        let record = customer("class_b", "2026-10-01T02:00:00Z");
        let owner = Uuid::from_u128(1);
        let released = run(
            RELEASE,
            &rep(1),
            &record,
            owner,
            "2026-11-02T03:00:00Z",
            &Context::default(),
        )
        .unwrap();
        assert_eq!(released.owner, Some(pool_owner(TEAM)));
        assert_eq!(released.changes[POOL_REASON], "released");
        assert_eq!(
            run(
                RELEASE,
                &rep(2),
                &record,
                owner,
                "2026-11-02T03:00:00Z",
                &Context::default()
            )
            .map(|d| d.owner),
            Err(Refusal::Rule("pool_not_owner"))
        );
        let mut application = record.clone();
        application.insert("status".into(), json!("pending"));
        assert_eq!(
            run(
                RELEASE,
                &rep(1),
                &application,
                owner,
                "2026-11-02T03:00:00Z",
                &Context::default()
            )
            .map(|d| d.owner),
            Err(Refusal::Rule("pool_not_recognised"))
        );
    }
}
