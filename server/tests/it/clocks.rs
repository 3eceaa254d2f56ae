//! Clocks: deadlines stored beside their records and raised once by the
//! clock job, across restarts and with two servers on one database, with
//! the escalated mark on the record and a notification to each recipient.

use crate::common;

use app::aggregates::ENTITIES;
use app::ssr::Db;
use app::sync::store::raise_due;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::{command, held, push_ok, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Opens a hotline repair ticket as `client`, `ago` before now.
pub(crate) async fn open_ticket(client: &Client, ago: Duration) -> Uuid {
    let id = Uuid::now_v7();
    let fields = json!({
        "customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
        "description": "叉车液压系统漏油", "opened_at": rfc3339(Utc::now() - ago),
        "contact_phone": "0574-87654321",
    });
    let results = push_ok(
        client,
        vec![json!({"id": Uuid::now_v7(), "entity": "ticket", "record_id": id,
                    "base_version": 0, "op": "upsert", "fields": fields})],
    )
    .await;
    assert_eq!(results[0]["status"], "applied", "{results:?}");
    id
}

/// The notifications `client` holds after a full pull, as (about_id, kind).
async fn notifications(client: &Client) -> Vec<(String, String, Value)> {
    common::pull_all(client)
        .await
        .into_iter()
        .filter(|change| change["entity"] == "notification" && change["kind"] == "upsert")
        .map(|change| {
            let fields = &change["fields"];
            (
                fields["about_id"].as_str().unwrap().to_owned(),
                fields["kind"].as_str().unwrap().to_owned(),
                change.clone(),
            )
        })
        .collect()
}

on_both_databases!(
    a_ticket_not_contacted_in_two_hours_is_escalated_once_across_two_servers_and_a_restart,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let late = open_ticket(&agent, Duration::minutes(150)).await;
        let in_time = open_ticket(&agent, Duration::minutes(150)).await;
        let fresh = open_ticket(&agent, Duration::minutes(10)).await;
        // The second is contacted late, but before the job runs: a contact
        // stops the clock (the miss stays on record in its times).
        let contacted = push_ok(
            &agent,
            vec![command(
                "ticket",
                in_time,
                "contact",
                json!({"contact_method": "phone"}),
            )],
        )
        .await;
        assert_eq!(contacted[0]["status"], "applied", "{contacted:?}");

        // Two servers run the job at the same moment.
        let second = app.second_server().await;
        let now = Utc::now();
        let (a, b) = tokio::join!(
            raise_due(&app.db, ENTITIES, now, SHANGHAI),
            raise_due(&second.db, ENTITIES, now, SHANGHAI)
        );
        assert_eq!(
            a.unwrap() + b.unwrap(),
            1,
            "one clock ran out: the late ticket's contact"
        );

        // A restart: a new pool finds it raised and raises nothing.
        let restarted = Db::connect(&app.url).await.unwrap();
        assert_eq!(
            raise_due(&restarted, ENTITIES, Utc::now(), SHANGHAI)
                .await
                .unwrap(),
            0
        );

        let ticket = held(&agent, "ticket", late).await;
        assert!(ticket["fields"]["contact_escalated_at"].is_string(), "{ticket}");
        let ticket = held(&agent, "ticket", in_time).await;
        assert!(ticket["fields"].get("contact_escalated_at").is_none(), "{ticket}");
        assert!(ticket["fields"]["contacted_at"].is_string(), "{ticket}");

        let supervisor = app.signed_in("service_sup").await;
        let told = notifications(&supervisor).await;
        let kinds: Vec<(String, String)> = told
            .iter()
            .map(|(id, kind, _)| (id.clone(), kind.clone()))
            .collect();
        assert_eq!(kinds, [(late.to_string(), "contact".to_owned())]);
        assert_eq!(told[0].2["fields"]["title"], "宁波远航物流");
        assert_eq!(told[0].2["fields"]["about"], "ticket");
        // The owner hears of it too; a rep and another agent's technician do not.
        assert_eq!(notifications(&agent).await.len(), 1);
        assert!(notifications(&app.signed_in("rep1").await).await.is_empty());
        assert!(notifications(&app.signed_in("tech").await).await.is_empty());

        // A day later the 24-hour clocks run out: three tickets, each once.
        let tomorrow = Utc::now() + Duration::hours(25);
        let (a, b) = tokio::join!(
            raise_due(&app.db, ENTITIES, tomorrow, SHANGHAI),
            raise_due(&second.db, ENTITIES, tomorrow, SHANGHAI)
        );
        // The fresh ticket's contact clock runs out too by then.
        assert_eq!(a.unwrap() + b.unwrap(), 4);
        assert_eq!(
            raise_due(&restarted, ENTITIES, tomorrow, SHANGHAI).await.unwrap(),
            0
        );
        let ticket = held(&agent, "ticket", fresh).await;
        assert!(ticket["fields"]["contact_escalated_at"].is_string(), "{ticket}");
        assert!(ticket["fields"]["handling_escalated_at"].is_string(), "{ticket}");
        assert_eq!(notifications(&supervisor).await.len(), 5);
    }
);

on_both_databases!(
    a_resolved_ticket_and_a_screened_lead_raise_nothing,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent, Duration::minutes(30)).await;
        let done = push_ok(&agent, vec![command("ticket", ticket, "resolve", json!({}))]).await;
        assert_eq!(done[0]["status"], "applied", "{done:?}");
        let rep1 = app.signed_in("rep1").await;
        let lead = Uuid::parse_str(&common::add_lead(&rep1, "杭州恒信").await).unwrap();
        let qualified = push_ok(&rep1, vec![command("lead", lead, "qualify", json!({}))]).await;
        assert_eq!(qualified[0]["status"], "applied", "{qualified:?}");
        let much_later = Utc::now() + Duration::days(30);
        assert_eq!(
            raise_due(&app.db, ENTITIES, much_later, SHANGHAI).await.unwrap(),
            0
        );
        assert!(notifications(&app.signed_in("service_sup").await)
            .await
            .is_empty());
        assert!(notifications(&app.signed_in("sup_a").await).await.is_empty());
    }
);

on_both_databases!(
    an_unscreened_lead_tells_its_owner_and_their_supervisor_once,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let lead = common::add_lead(&rep1, "苏州精工机械").await;
        // Three working days have not passed: nothing yet.
        assert_eq!(
            raise_due(&app.db, ENTITIES, Utc::now(), SHANGHAI).await.unwrap(),
            0
        );
        let later = Utc::now() + Duration::days(12);
        assert_eq!(raise_due(&app.db, ENTITIES, later, SHANGHAI).await.unwrap(), 1);
        assert_eq!(raise_due(&app.db, ENTITIES, later, SHANGHAI).await.unwrap(), 0);
        for (who, expected) in [
            ("rep1", 1),
            ("sup_a", 1),
            ("sup_b", 0),
            ("rep2", 0),
            ("manager", 0),
        ] {
            let told = notifications(&app.signed_in(who).await).await;
            assert_eq!(told.len(), expected, "{who}");
            if expected == 1 {
                assert_eq!(told[0].0, lead);
                assert_eq!(told[0].1, "screening");
            }
        }
    }
);

on_both_databases!(
    a_notification_is_marked_read_by_its_recipient_alone_and_never_made_by_a_client,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        open_ticket(&agent, Duration::minutes(150)).await;
        raise_due(&app.db, ENTITIES, Utc::now(), SHANGHAI).await.unwrap();
        let supervisor = app.signed_in("service_sup").await;
        let told = notifications(&supervisor).await;
        let id = Uuid::parse_str(told[0].2["id"].as_str().unwrap()).unwrap();

        // Another user cannot mark it: it answers like a missing record.
        let other = push_ok(&agent, vec![command("notification", id, "read", json!({}))]).await;
        assert_eq!(other[0]["status"], "rejected", "{other:?}");
        assert_eq!(other[0]["reason"]["error"], "not_found", "{other:?}");
        let read = push_ok(&supervisor, vec![command("notification", id, "read", json!({}))]).await;
        assert_eq!(read[0]["status"], "applied", "{read:?}");
        let stored = held(&supervisor, "notification", id).await;
        assert!(stored["fields"]["read_at"].is_string(), "{stored}");
        // Nor can its fields be edited, nor one made by a client.
        let edit = push_ok(
            &supervisor,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "notification", "record_id": id,
                        "base_version": 2, "op": "upsert", "fields": {"title": "x"}}),
            ],
        )
        .await;
        assert_eq!(edit[0]["status"], "rejected", "{edit:?}");
        let forged = push_ok(
            &supervisor,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "notification", "record_id": Uuid::now_v7(),
                        "base_version": 0, "op": "upsert", "fields": {"about": "ticket"}}),
            ],
        )
        .await;
        assert_eq!(forged[0]["status"], "rejected", "{forged:?}");
    }
);

on_both_databases!(
    a_records_history_reads_from_the_audit_trail_for_those_who_may_see_it,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent, Duration::minutes(150)).await;
        raise_due(&app.db, ENTITIES, Utc::now(), SHANGHAI).await.unwrap();
        let contacted = push_ok(
            &agent,
            vec![command(
                "ticket",
                ticket,
                "contact",
                json!({"contact_method": "visit", "contact_note": "上门"}),
            )],
        )
        .await;
        assert_eq!(contacted[0]["status"], "applied", "{contacted:?}");

        let (status, history) = agent
            .call("sync/history", json!({"entity": "ticket", "id": ticket}))
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let actions: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["contact", "raise_clock", "create"], "{history}");
        // The command's entry names its actor and what it changed.
        assert!(history[0]["actor"].is_string(), "{history}");
        assert_eq!(history[0]["after"]["contact_method"], "visit");
        assert_eq!(history[0]["after"]["status"], "contacted");
        assert_eq!(history[0]["before"]["status"], Value::Null, "{history}");
        // The clock was raised by the server itself.
        assert_eq!(history[1]["actor"], Value::Null);
        assert!(
            history[1]["after"]["contact_escalated_at"].is_string(),
            "{history}"
        );

        // Out of scope, missing and unknown all answer alike.
        let rep1 = app.signed_in("rep1").await;
        for (who, entity, id) in [
            (&rep1, "ticket", ticket),
            (&agent, "ticket", Uuid::now_v7()),
            (&agent, "nothing", ticket),
        ] {
            let (status, body) = who
                .call("sync/history", json!({"entity": entity, "id": id}))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{entity} {body}");
            assert_eq!(body["error"], "not_found", "{body}");
        }
    }
);

on_both_databases!(
    the_service_desk_dispatches_a_ticket_to_a_technician_decided_against_the_users_as_they_are,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent, Duration::minutes(5)).await;
        let (status, technicians) = agent.call("people", json!({"role": "technician"})).await;
        assert_eq!(status, StatusCode::OK, "{technicians}");
        assert_eq!(technicians.as_array().unwrap().len(), 1, "{technicians}");
        let tech_id = technicians[0]["id"].as_str().unwrap().to_owned();
        let tech = app.signed_in("tech").await;
        assert!(notifications(&tech).await.is_empty());

        // A rep is no technician; nor is an id nobody has.
        let (_, reps) = agent.call("people", json!({"role": "rep"})).await;
        for to in [
            reps[0]["id"].as_str().unwrap().to_owned(),
            Uuid::now_v7().to_string(),
        ] {
            let refused = push_ok(
                &agent,
                vec![command("ticket", ticket, "dispatch", json!({"technician": to}))],
            )
            .await;
            assert_eq!(
                refused[0]["reason"],
                json!({"error": "refused", "code": "dispatch_not_technician"}),
                "{refused:?}"
            );
        }
        // A technician does not dispatch.
        let (_, tickets) = tech
            .call("sync/pull", json!({"request": {"cursor": 0, "limit": 100}}))
            .await;
        assert!(tickets["changes"].as_array().unwrap().is_empty(), "{tickets}");

        let sent = push_ok(
            &agent,
            vec![command(
                "ticket",
                ticket,
                "dispatch",
                json!({"technician": tech_id}),
            )],
        )
        .await;
        assert_eq!(sent[0]["status"], "applied", "{sent:?}");
        // The technician now holds it, the desk still sees it, with whom it went to.
        let theirs = held(&tech, "ticket", ticket).await;
        assert_eq!(theirs["kind"], "upsert", "{theirs}");
        assert_eq!(theirs["owner_id"], tech_id.as_str(), "{theirs}");
        let desk = held(&agent, "ticket", ticket).await;
        assert!(desk["fields"]["technician_name"].is_string(), "{desk}");
        let refused = push_ok(
            &tech,
            vec![command(
                "ticket",
                ticket,
                "dispatch",
                json!({"technician": tech_id}),
            )],
        )
        .await;
        assert_eq!(
            refused[0]["reason"],
            json!({"error": "refused", "code": "dispatch_by_service_desk"}),
            "{refused:?}"
        );

        // A technician who has left is no longer dispatched to.
        let other = open_ticket(&agent, Duration::minutes(5)).await;
        sqlx::query("UPDATE users SET active = 0 WHERE id = $1")
            .bind(&tech_id)
            .execute(&app.db.pool)
            .await
            .unwrap();
        let refused = push_ok(
            &agent,
            vec![command(
                "ticket",
                other,
                "dispatch",
                json!({"technician": tech_id}),
            )],
        )
        .await;
        assert_eq!(
            refused[0]["reason"],
            json!({"error": "refused", "code": "dispatch_not_technician"}),
            "{refused:?}"
        );
    }
);

on_both_databases!(
    a_follow_ups_next_date_reminds_its_owner_once_on_that_morning,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent, Duration::hours(3)).await;
        let id = Uuid::now_v7();
        let followed = push_ok(
            &agent,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "follow_up", "record_id": id,
                "base_version": 0, "op": "upsert", "fields": {
                    "customer_name": "宁波远航物流", "ticket_id": ticket,
                    "followed_at": rfc3339(Utc::now() - Duration::minutes(5)),
                    "follow_method": "phone", "follow_result": "液压系统已修复，运行正常",
                    "next_follow_up_date": "2027-03-03",
                }}),
            ],
        )
        .await;
        assert_eq!(followed[0]["status"], "applied", "{followed:?}");
        // 09:00 in Shanghai on the day is 01:00 UTC: not a second before
        // (by then only the ticket's own 2-hour and 24-hour clocks ran out).
        let morning: DateTime<Utc> = "2027-03-03T01:00:00Z".parse().unwrap();
        assert_eq!(
            raise_due(&app.db, ENTITIES, morning - Duration::seconds(1), SHANGHAI)
                .await
                .unwrap(),
            2
        );
        assert!(notifications(&agent)
            .await
            .iter()
            .all(|(_, kind, _)| kind != "follow_up"));
        assert_eq!(raise_due(&app.db, ENTITIES, morning, SHANGHAI).await.unwrap(), 1);
        assert_eq!(raise_due(&app.db, ENTITIES, morning, SHANGHAI).await.unwrap(), 0);
        let told = notifications(&agent).await;
        let follow_ups: Vec<_> = told.iter().filter(|(_, kind, _)| kind == "follow_up").collect();
        assert_eq!(follow_ups.len(), 1, "{told:?}");
        assert_eq!(follow_ups[0].0, id.to_string());
        assert!(notifications(&app.signed_in("service_sup").await)
            .await
            .iter()
            .all(|(_, kind, _)| kind != "follow_up"));
        // The service supervisor reads it (the desk reads them all); a
        // technician does not.
        let supervisor = held(&app.signed_in("service_sup").await, "follow_up", id).await;
        assert_eq!(supervisor["fields"]["customer_name"], "宁波远航物流");
        assert_eq!(
            held(&app.signed_in("tech").await, "follow_up", id).await["kind"],
            "removed"
        );
    }
);

/// Opens a consultation ticket as `agent` and resolves it.
async fn served_ticket(agent: &Client) -> Uuid {
    let ticket = open_ticket(agent, Duration::minutes(5)).await;
    let done = push_ok(
        agent,
        vec![
            json!({"id": Uuid::now_v7(), "entity": "ticket", "record_id": ticket, "base_version": 1,
                   "op": "upsert", "fields": {"ticket_type": "consultation"}}),
            command("ticket", ticket, "resolve", json!({})),
        ],
    )
    .await;
    assert!(done.iter().all(|r| r["status"] == "applied"), "{done:?}");
    ticket
}

on_both_databases!(
    with_monthly_surveys_each_ticket_served_gets_its_link_once_at_the_months_end,
    |app: TestApp| async move {
        let (admin, agent) = (app.signed_in("admin").await, app.signed_in("agent").await);
        let monthly = json!({
            "id": Uuid::now_v7(), "entity": "settings", "record_id": app::settings::SETTINGS_ID,
            "base_version": 0, "op": "upsert",
            "fields": {"company_name": "华东机电", "survey_period": "monthly"},
        });
        let saved = push_ok(&admin, vec![monthly]).await;
        assert_eq!(saved[0]["status"], "applied", "{saved:?}");
        let by_period = served_ticket(&agent).await;
        // One the desk surveys by hand meanwhile is not surveyed again.
        let by_hand = served_ticket(&agent).await;
        let sent = push_ok(&agent, vec![command("ticket", by_hand, "send_survey", json!({}))]).await;
        assert_eq!(sent[0]["status"], "applied", "{sent:?}");
        let hand_token = held(&agent, "ticket", by_hand).await["fields"]["survey_token"].clone();

        let served_at = held(&agent, "ticket", by_period).await["fields"]["resolved_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap();
        let month_end = app::calendar::Period::Month.end_of(served_at, SHANGHAI).unwrap();
        assert_eq!(
            raise_due(&app.db, ENTITIES, month_end - Duration::seconds(1), SHANGHAI)
                .await
                .unwrap(),
            0
        );
        let second = app.second_server().await;
        let (a, b) = tokio::join!(
            raise_due(&app.db, ENTITIES, month_end, SHANGHAI),
            raise_due(&second.db, ENTITIES, month_end, SHANGHAI)
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "one survey clock, raised once");
        let restarted = Db::connect(&app.url).await.unwrap();
        assert_eq!(
            raise_due(&restarted, ENTITIES, month_end, SHANGHAI)
                .await
                .unwrap(),
            0
        );

        let ticket = held(&agent, "ticket", by_period).await;
        let token = ticket["fields"]["survey_token"].as_str().unwrap_or_default();
        assert_eq!(token.len(), 32, "the server made the link: {ticket}");
        assert_eq!(ticket["fields"]["survey_sent_at"], rfc3339(month_end));
        assert_eq!(
            held(&agent, "ticket", by_hand).await["fields"]["survey_token"],
            hand_token
        );
        // The service desk is told to send it; the link works for the customer.
        let told: Vec<_> = notifications(&agent)
            .await
            .into_iter()
            .filter(|(_, kind, _)| kind == "survey")
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(told, [by_period.to_string()]);
        let customer = app.anonymous();
        let (status, _) = customer.call("survey/show", json!({"token": token})).await;
        assert_eq!(status, StatusCode::OK);
    }
);
