//! The public pool (公海) through real HTTP, on SQLite and PostgreSQL: a
//! customer nobody follows up is warned, then returned to its team's pool
//! once (two servers, a restart); the team's reps read it without its
//! phone, another team's not at all; a claim is decided on the server (two
//! reps at once: one gets it, the other is told who), the owner it left
//! waits out the cooldown, the daily quota holds to the claim, and a visit
//! that names the customer starts its clock again.

use crate::common;

use app::aggregates::ENTITIES;
use app::settings::ProcessSettings;
use app::ssr::Db;
use app::sync::store::raise_due;
use chrono::{Duration, Utc};
use common::{command, held, push_ok as push, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// A recognised customer of `rep` (a rep of team A), approved by `sup_a`.
pub(crate) async fn recognised(rep: &Client, sup_a: &Client, company: &str) -> Uuid {
    let id = Uuid::now_v7();
    let create = json!({
        "id": Uuid::now_v7(), "entity": "customer", "record_id": id,
        "base_version": 0, "op": "upsert",
        "fields": {
            "company": company, "payment_method": "transfer",
            "credit_rating": "credit_good", "phone": "13812345678",
            "class": "class_c",
        },
    });
    let made = push(rep, vec![create, command("customer", id, "submit", json!({}))]).await;
    assert!(made.iter().all(|r| r["status"] == "applied"), "{made:?}");
    let approved = push(sup_a, vec![command("customer", id, "approve", json!({}))]).await;
    assert_eq!(approved[0]["status"], "applied", "{approved:?}");
    id
}

/// The customer as `client`'s full pull leaves it: `None` if it never
/// came or came last as removed.
async fn pulled_customer(client: &Client, id: Uuid) -> Option<Value> {
    common::pull_all(client)
        .await
        .into_iter()
        .rfind(|c| c["entity"] == "customer" && c["id"] == id.to_string())
        .filter(|c| c["kind"] == "upsert")
}

async fn notices(client: &Client) -> Vec<String> {
    common::pull_all(client)
        .await
        .into_iter()
        .filter(|c| c["entity"] == "notification" && c["kind"] == "upsert")
        .map(|c| c["fields"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

on_both_databases!(
    a_customer_nobody_follows_up_returns_to_the_pool_once_and_one_teammate_claims_it,
    |app: TestApp| async move {
        let (rep1, rep2, rep4, rep3) = (
            app.signed_in("rep1").await,
            app.signed_in("rep2").await,
            app.signed_in("rep4").await,
            app.signed_in("rep3").await,
        );
        let sup_a = app.signed_in("sup_a").await;
        let id = recognised(&rep1, &sup_a, "苏州恒达精密机械有限公司").await;
        let second = app.second_server().await;
        // Class C: 30 days without a follow-up. Nothing is due before the
        // warning, three days ahead of the return.
        let days = |n: i64| Utc::now() + Duration::days(n);
        assert_eq!(raise_due(&app.db, ENTITIES, days(26), SHANGHAI).await.unwrap(), 0);
        let (a, b) = tokio::join!(
            raise_due(&app.db, ENTITIES, days(28), SHANGHAI),
            raise_due(&second.db, ENTITIES, days(28), SHANGHAI)
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "the warning, once");
        assert_eq!(notices(&rep1).await, ["pool_warning"]);
        assert!(pulled_customer(&rep2, id).await.is_none(), "not pooled yet");

        // The return, by two servers at once, then after a restart.
        let (a, b) = tokio::join!(
            raise_due(&app.db, ENTITIES, days(31), SHANGHAI),
            raise_due(&second.db, ENTITIES, days(31), SHANGHAI)
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "the return, once");
        let restarted = Db::connect(&app.url).await.unwrap();
        assert_eq!(
            raise_due(&restarted, ENTITIES, days(40), SHANGHAI).await.unwrap(),
            0
        );
        assert_eq!(notices(&rep1).await, ["pool_warning", "pool_return"]);

        // The team's reps read it in the pool, without its phone; the
        // supervisor whole; another team's rep not at all.
        let pooled = pulled_customer(&rep2, id).await.expect("rep2 sees the pool");
        assert_ne!(pooled["owner_id"], app.users["rep1"].to_string());
        assert_eq!(pooled["owner_name"], "公海");
        assert!(pooled["fields"].get("phone").is_none(), "{pooled}");
        assert_eq!(pooled["fields"]["pool_reason"], "no_follow_up");
        assert_eq!(held(&rep2, "customer", id).await["fields"].get("phone"), None);
        // Its history says, in names, that the clock returned it from rep1.
        let (status, history) = rep2
            .call("sync/history", json!({"entity": "customer", "id": id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        assert_eq!(history[0]["action"], "return_to_pool", "{history}");
        assert!(history[0]["actor"].is_null(), "the server's own: {history}");
        assert_eq!(history[0]["after"]["pooled_from"], "rep1", "{history}");
        // Nor does the history tell the phone it was made with.
        assert!(!history.to_string().contains("13812345678"), "{history}");
        let whole = pulled_customer(&sup_a, id).await.unwrap();
        assert_eq!(whole["fields"]["phone"], "13812345678");
        assert!(pulled_customer(&rep3, id).await.is_none());
        assert_eq!(held(&rep3, "customer", id).await["kind"], "removed");
        // The owner it left sees it in the pool too, but may not take it
        // back yet; nobody edits a pooled customer but by claiming it.
        assert!(pulled_customer(&rep1, id).await.is_some());
        let back = push(&rep1, vec![command("customer", id, "claim", json!({}))]).await;
        assert_eq!(
            back[0]["reason"],
            json!({"error": "refused", "code": "pool_cooldown"})
        );
        let edit = json!({
            "id": Uuid::now_v7(), "entity": "customer", "record_id": id,
            "base_version": 1, "op": "upsert", "fields": {"address": "苏州工业园区"},
        });
        assert_eq!(
            push(&rep2, vec![edit]).await[0]["reason"],
            json!({"error": "forbidden"})
        );
        // Another team's rep: as if it did not exist.
        let stranger = push(&rep3, vec![command("customer", id, "claim", json!({}))]).await;
        assert_eq!(stranger[0]["reason"], json!({"error": "not_found"}));

        // Two teammates claim at the same moment: one gets it, the other
        // is told who did. (A second after recognition: the claim's
        // follow-up time, stored to the second, is a new one.)
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (first, other) = tokio::join!(
            push(&rep2, vec![command("customer", id, "claim", json!({}))]),
            push(&rep4, vec![command("customer", id, "claim", json!({}))])
        );
        let (winner, loser, loser_result) = if first[0]["status"] == "applied" {
            ("rep2", &rep4, other)
        } else {
            ("rep4", &rep2, first)
        };
        assert_eq!(
            loser_result[0]["reason"],
            json!({"error": "refused", "code": "pool_claimed", "by": winner}),
            "{loser_result:?}"
        );
        let mine = pulled_customer(&app.signed_in(winner).await, id).await.unwrap();
        assert_eq!(mine["owner_name"], winner);
        assert_eq!(mine["fields"]["phone"], "13812345678");
        assert!(mine["fields"]["pooled_at"].is_null());
        assert!(pulled_customer(loser, id).await.is_none(), "left the pool");
        assert!(pulled_customer(&rep1, id).await.is_none());
        // Claimed, its clocks run again from the claim: the warning and the
        // return come once more, 30 days on.
        assert_eq!(raise_due(&app.db, ENTITIES, days(26), SHANGHAI).await.unwrap(), 0);
        assert_eq!(raise_due(&app.db, ENTITIES, days(31), SHANGHAI).await.unwrap(), 2);
        assert!(pulled_customer(loser, id).await.is_some(), "back in the pool");
    }
);

on_both_databases!(
    the_daily_quota_holds_to_the_claim_and_a_visit_restarts_the_clock,
    |app: TestApp| async move {
        let (rep1, rep2) = (app.signed_in("rep1").await, app.signed_in("rep2").await);
        let sup_a = app.signed_in("sup_a").await;
        let quota = ProcessSettings::default().pool_daily_quota as usize;
        let mut ids = Vec::new();
        for n in 0..=quota {
            ids.push(recognised(&rep1, &sup_a, &format!("无锡客户{n}有限公司")).await);
        }
        // Its owner gives them all back to the pool.
        let released = push(
            &rep1,
            ids.iter()
                .map(|id| command("customer", *id, "release", json!({})))
                .collect(),
        )
        .await;
        assert!(released.iter().all(|r| r["status"] == "applied"), "{released:?}");
        // One batch of quota + 1 claims: the quota's worth are taken, the
        // last is refused; again in a later batch, still refused.
        let claims: Vec<Value> = ids
            .iter()
            .map(|id| command("customer", *id, "claim", json!({})))
            .collect();
        let results = push(&rep2, claims.clone()).await;
        let taken = results.iter().filter(|r| r["status"] == "applied").count();
        assert_eq!(taken, quota, "{results:?}");
        assert_eq!(
            results[quota]["reason"],
            json!({"error": "refused", "code": "pool_quota_reached"})
        );
        let again = push(&rep2, vec![command("customer", ids[quota], "claim", json!({}))]).await;
        assert_eq!(again[0]["reason"]["code"], "pool_quota_reached");
        // A replay of an accepted claim is the same answer, not a new claim.
        let replayed = push(&rep2, vec![claims[0].clone()]).await;
        assert_eq!(replayed[0]["status"], "duplicate", "{replayed:?}");
        assert_eq!(replayed[0]["original"]["status"], "applied", "{replayed:?}");
        // Claimed again by its new owner: it is not in the pool.
        let twice = push(&rep2, vec![command("customer", ids[0], "claim", json!({}))]).await;
        assert_eq!(twice[0]["reason"]["code"], "pool_not_in_pool");

        // rep2 visits a claimed customer: its last follow-up is the visit's
        // moment (stored to the second, so a second later than the claim).
        let claimed_at = held(&rep2, "customer", ids[0]).await["fields"]["last_followed_at"].clone();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let visit = json!({
            "id": Uuid::now_v7(), "entity": "visit", "record_id": Uuid::now_v7(),
            "base_version": 0, "op": "upsert",
            "fields": {
                "customer_name": "无锡客户0有限公司", "customer_id": ids[0],
                "visited_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "purpose": "回访设备使用情况",
            },
        });
        assert_eq!(push(&rep2, vec![visit]).await[0]["status"], "applied");
        let customer = held(&rep2, "customer", ids[0]).await;
        assert!(customer["fields"]["last_followed_at"].is_string(), "{customer}");
        assert_ne!(customer["fields"]["last_followed_at"], claimed_at);
        let history: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE record_id = $1 AND action = 'touch'")
                .bind(ids[0].to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(history.0, 1);
        // A visit to a customer still in the pool is recorded, but marks
        // nothing: a pooled customer is not the visitor's to change.
        let pooled_visit = json!({
            "id": Uuid::now_v7(), "entity": "visit", "record_id": Uuid::now_v7(),
            "base_version": 0, "op": "upsert",
            "fields": {
                "customer_name": "无锡客户", "customer_id": ids[quota],
                "visited_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "purpose": "了解近况",
            },
        });
        assert_eq!(push(&rep2, vec![pooled_visit]).await[0]["status"], "applied");
        let touched: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE record_id = $1 AND action = 'touch'")
                .bind(ids[quota].to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(touched.0, 0);
        // A visit may name only a customer its writer sees.
        let foreign = json!({
            "id": Uuid::now_v7(), "entity": "visit", "record_id": Uuid::now_v7(),
            "base_version": 0, "op": "upsert",
            "fields": {
                "customer_name": "x", "customer_id": ids[1],
                "visited_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "purpose": "p",
            },
        });
        let refused = push(&app.signed_in("rep3").await, vec![foreign]).await;
        assert_eq!(refused[0]["reason"]["fields"][0]["problem"], "unknown_reference");
    }
);

/// When the customer's clock of `kind` is due, and whether it was raised.
async fn clock(db: &Db, id: Uuid, kind: &str) -> Option<(i64, Option<i64>)> {
    sqlx::query_as(
        "SELECT due_at, raised_at FROM clocks WHERE entity = 'customer' AND record_id = $1 AND kind = $2",
    )
    .bind(id.to_string())
    .bind(kind)
    .fetch_optional(&db.pool)
    .await
    .unwrap()
}

on_both_databases!(
    a_customer_under_warranty_is_due_a_follow_up_each_quarter_from_the_last,
    |app: TestApp| async move {
        use app::customers::warranty::{SERVICED_AT, WARRANTY_CLOCK};
        let (rep1, sup_a) = (app.signed_in("rep1").await, app.signed_in("sup_a").await);
        let agent = app.signed_in("agent").await;
        let id = recognised(&rep1, &sup_a, "保修期客户有限公司").await;
        // No warranty, no clock.
        assert_eq!(clock(&app.db, id, WARRANTY_CLOCK).await, None);
        let until = (Utc::now() + Duration::days(400)).date_naive().to_string();
        let set = push(
            &rep1,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "customer", "record_id": id,
                        "base_version": 3, "op": "upsert", "fields": {"warranty_until": until}}),
            ],
        )
        .await;
        assert_eq!(set[0]["status"], "applied", "{set:?}");
        let (_, raised) = clock(&app.db, id, WARRANTY_CLOCK)
            .await
            .expect("the warranty clock runs");
        assert_eq!(raised, None);

        // The service desk follows the customer up: the customer's
        // `serviced_at` is marked (the rep's phone receives it) and the
        // clock runs a quarter from then.
        let followed = push(
            &agent,
            vec![json!({"id": Uuid::now_v7(), "entity": "follow_up", "record_id": Uuid::now_v7(),
                        "base_version": 0, "op": "upsert",
                        "fields": {"customer_id": id, "customer_name": "保修期客户有限公司",
                                   "followed_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                   "follow_method": "phone", "follow_result": "设备运行正常"}})],
        )
        .await;
        assert_eq!(followed[0]["status"], "applied", "{followed:?}");
        let customer = pulled_customer(&rep1, id).await.unwrap();
        let serviced: chrono::DateTime<Utc> =
            customer["fields"][SERVICED_AT].as_str().unwrap().parse().unwrap();
        let (due, raised) = clock(&app.db, id, WARRANTY_CLOCK).await.unwrap();
        assert_eq!(
            due,
            (serviced + Duration::days(ProcessSettings::default().warranty_follow_up_days))
                .timestamp_millis()
        );
        assert!(raised.is_none());
        // Nobody may set it by hand.
        let forged = push(
            &rep1,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "customer", "record_id": id,
                        "base_version": 5, "op": "upsert", "fields": {SERVICED_AT: "2030-01-01T00:00:00Z"}}),
            ],
        )
        .await;
        assert_eq!(
            forged[0]["reason"]["fields"][0]["problem"], "set_by_command",
            "{forged:?}"
        );

        // A minute before it is due nothing rings; after it, the service
        // supervisor is told once, whatever the restarts.
        let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap();
        raise_due(&app.db, ENTITIES, at(due - 60_000), SHANGHAI)
            .await
            .unwrap();
        let supervisor = app.signed_in("service_sup").await;
        assert!(!notices(&supervisor).await.contains(&WARRANTY_CLOCK.to_owned()));
        raise_due(&app.db, ENTITIES, at(due + 60_000), SHANGHAI)
            .await
            .unwrap();
        raise_due(&app.db, ENTITIES, at(due + 120_000), SHANGHAI)
            .await
            .unwrap();
        let told: Vec<String> = notices(&supervisor)
            .await
            .into_iter()
            .filter(|kind| kind == WARRANTY_CLOCK)
            .collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(clock(&app.db, id, WARRANTY_CLOCK).await.unwrap().1.is_some());
    }
);
