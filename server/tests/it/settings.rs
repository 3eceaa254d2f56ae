//! The company's settings (系统设置) through real HTTP, on SQLite and
//! PostgreSQL: one record, kept by the admin alone, pulled by every
//! device; saving it plans the running clocks again by it (a class's pool
//! period, a company day off), and the rules decide by it (the daily
//! quota).

use crate::clocks::open_ticket;
use crate::common;
use crate::pool::recognised;

use app::calendar::Calendar;
use app::calendar::ClockMode;
use app::leads::record::{screening_due, SCREENING};
use app::settings::{ProcessSettings, SETTINGS_ID};
use app::sync::entity::entered_at;
use app::tickets::{due_times, CLOCK_MODE_FIELD, CONTACT_DUE};
use chrono::{DateTime, Duration, Utc};
use common::{command, push_ok as push, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The running clock `kind` of a record, as the server planned it.
async fn clock(app: &TestApp, entity: &str, id: &str, kind: &str) -> DateTime<Utc> {
    let (due,): (i64,) = sqlx::query_as(
        "SELECT due_at FROM clocks WHERE entity = $1 AND record_id = $2 AND kind = $3 AND raised_at IS NULL",
    )
    .bind(entity)
    .bind(id)
    .bind(kind)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    DateTime::from_timestamp_millis(due).unwrap()
}

fn settings(id: Uuid, fields: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": "settings", "record_id": id,
        "base_version": 0, "op": "upsert", "fields": fields,
    })
}

on_both_databases!(
    the_admins_settings_reach_every_device_and_move_the_clocks_and_rules,
    |app: TestApp| async move {
        let (rep1, rep2, sup_a, admin) = (
            app.signed_in("rep1").await,
            app.signed_in("rep2").await,
            app.signed_in("sup_a").await,
            app.signed_in("admin").await,
        );
        let customers = [
            recognised(&rep1, &sup_a, "常州恒立液压有限公司").await,
            recognised(&rep1, &sup_a, "南通中远船务有限公司").await,
        ];
        let lead = common::add_lead(&rep1, "扬州设置测试公司").await;
        let (customer, first) = (customers[0].to_string(), customers[0]);
        let agent = app.signed_in("agent").await;
        let earlier_ticket = open_ticket(&agent, Duration::minutes(1)).await;
        let returns_before = clock(&app, "customer", &customer, "pool_return").await;
        let screening_before = clock(&app, "lead", &lead, SCREENING).await;

        // Only the admin keeps them, and only under their one id.
        let company = json!({"company_name": "华东机电"});
        let refused = push(&rep1, vec![settings(SETTINGS_ID, company.clone())]).await;
        assert_eq!(refused[0]["reason"]["error"], "forbidden", "{refused:?}");
        let refused = push(&admin, vec![settings(Uuid::now_v7(), company.clone())]).await;
        assert_eq!(refused[0]["reason"]["code"], "single_record", "{refused:?}");

        // Class C returns after 10 days instead of 30; one claim a day; the
        // first working day after the lead's entry is a company day off.
        let entered = entered_at(Uuid::parse_str(&lead).unwrap()).unwrap();
        let day_off = Calendar::china().working_days_after(entered.with_timezone(&SHANGHAI).date_naive(), 1);
        let saved = push(
            &admin,
            vec![settings(
                SETTINGS_ID,
                json!({
                    "company_name": "华东机电",
                    "pool_days_class_c": "10",
                    "pool_daily_quota": "1",
                    "ticket_clock_mode": "working_hours",
                    "days_off": [{"date": day_off.to_string(), "day_name": "公司年会"}],
                }),
            )],
        )
        .await;
        assert_eq!(saved[0]["status"], "applied", "{saved:?}");
        assert_eq!(
            clock(&app, "customer", &customer, "pool_return").await,
            returns_before - Duration::days(20)
        );
        let with_day_off = ProcessSettings::from_fields(
            &serde_json::from_value(json!({"days_off": [{"date": day_off.to_string()}]})).unwrap(),
        );
        let screening_after = clock(&app, "lead", &lead, SCREENING).await;
        assert_eq!(
            screening_after,
            screening_due(entered, SHANGHAI, &with_day_off.calendar())
        );
        assert!(
            screening_after > screening_before,
            "a day off moves the screening on"
        );

        // A ticket keeps the clock mode of the day it was opened: the one
        // opened before counts calendar hours, one opened now working
        // hours on the company's calendar (its day off included).
        let earlier = common::held(&agent, "ticket", earlier_ticket).await;
        assert_eq!(earlier["fields"][CLOCK_MODE_FIELD], "calendar_hours");
        let later_ticket = open_ticket(&agent, Duration::minutes(1)).await;
        let later = common::held(&agent, "ticket", later_ticket).await;
        assert_eq!(later["fields"][CLOCK_MODE_FIELD], "working_hours");
        let opened: DateTime<Utc> = later["fields"]["opened_at"].as_str().unwrap().parse().unwrap();
        let with_settings = ProcessSettings::from_fields(
            &serde_json::from_value(json!({"days_off": [{"date": day_off.to_string()}]})).unwrap(),
        );
        let expected = due_times(
            opened,
            ClockMode::WorkingHours,
            SHANGHAI,
            &with_settings.calendar(),
        );
        let stamped: DateTime<Utc> = later["fields"][CONTACT_DUE].as_str().unwrap().parse().unwrap();
        assert_eq!(stamped, expected.contact);
        assert_eq!(
            clock(&app, "ticket", &later_ticket.to_string(), "contact").await,
            expected.contact
        );

        // Every device pulls them, the rep's included.
        for client in [&rep1, &sup_a, &app.signed_in("tech").await] {
            let pulled = common::pull_all(client).await;
            let mine = pulled
                .iter()
                .rfind(|c| c["entity"] == "settings")
                .expect("the settings are pulled");
            assert_eq!(mine["fields"]["pool_daily_quota"], "1");
        }

        // The quota: two released customers, one claim a day.
        let released = push(
            &rep1,
            customers
                .iter()
                .map(|id| command("customer", *id, "release", json!({})))
                .collect(),
        )
        .await;
        assert!(released.iter().all(|r| r["status"] == "applied"), "{released:?}");
        let claims = push(
            &rep2,
            customers
                .iter()
                .map(|id| command("customer", *id, "claim", json!({})))
                .collect(),
        )
        .await;
        assert_eq!(claims[0]["status"], "applied", "{claims:?}");
        assert_eq!(claims[1]["reason"]["code"], "pool_quota_reached", "{claims:?}");
        // Claimed, its return runs the settings' 10 days from the claim.
        let claimed_return = clock(&app, "customer", &first.to_string(), "pool_return").await;
        let from_now = claimed_return - Utc::now();
        assert!(
            from_now > Duration::days(9) && from_now <= Duration::days(10),
            "{from_now}"
        );

        // Neither deleted nor edited by anyone else.
        let delete = json!({
            "id": Uuid::now_v7(), "entity": "settings", "record_id": SETTINGS_ID,
            "base_version": 1, "op": "delete", "fields": {},
        });
        let refused = push(&admin, vec![delete]).await;
        assert_eq!(refused[0]["reason"]["code"], "single_record", "{refused:?}");
        let mut edit = settings(SETTINGS_ID, json!({"pool_daily_quota": "99"}));
        edit["base_version"] = json!(1);
        let refused = push(&sup_a, vec![edit]).await;
        assert_eq!(refused[0]["reason"]["error"], "forbidden", "{refused:?}");
    }
);
