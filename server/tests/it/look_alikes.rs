//! Look-alike customers through real HTTP, on SQLite and PostgreSQL: two
//! reps enter one company on two phones offline, both are kept; the team's
//! supervisor merges them, and everything that named the duplicate (a
//! visit, a ticket, a follow-up, a lead) follows the one kept, in the same
//! transaction, with the projections; a visit still naming the duplicate,
//! pushed later from a phone that was offline, is pointed at it too. Who
//! may merge, and telling a pair apart.

use crate::common;

use common::{held, pull_all, push_ok as push, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

fn customer(record_id: Uuid, fields: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": "customer", "record_id": record_id,
        "base_version": 0, "op": "upsert", "fields": fields,
    })
}

fn create(entity: &str, record_id: Uuid, fields: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": entity, "record_id": record_id,
        "base_version": 0, "op": "upsert", "fields": fields,
    })
}

fn visit(record_id: Uuid, customer: Uuid) -> Value {
    create(
        "visit",
        record_id,
        json!({"customer_name": "苏州恒达", "customer_id": customer,
               "visited_at": "2026-12-02T02:30:00Z", "purpose": "回访"}),
    )
}

/// The customer each projection row of the naming entities holds, by id.
async fn projected_customer(app: &TestApp, table: &str, id: Uuid) -> Option<String> {
    let (customer,): (Option<String>,) =
        sqlx::query_as(&format!("SELECT customer_id FROM {table} WHERE id = $1"))
            .bind(id.to_string())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    customer
}

on_both_databases!(
    a_supervisor_merges_two_customers_entered_offline_and_what_named_the_duplicate_follows,
    |app: TestApp| async move {
        let (rep1, rep2, sup_a, sup_b, agent) = (
            app.signed_in("rep1").await,
            app.signed_in("rep2").await,
            app.signed_in("sup_a").await,
            app.signed_in("sup_b").await,
            app.signed_in("agent").await,
        );
        let (kept, duplicate) = (Uuid::now_v7(), Uuid::now_v7());
        // Two phones, one company, written two ways: both are kept.
        let first = push(
            &rep1,
            vec![customer(
                kept,
                json!({"company": "苏州恒达精密机械有限公司", "phone": "13812345678",
                       "payment_method": "transfer", "credit_rating": "credit_good",
                       "contact_name": "陈志强"}),
            )],
        )
        .await;
        let second = push(
            &rep2,
            vec![customer(
                duplicate,
                json!({"company": "苏州恒达精密机械", "phone": "13812345678",
                       "payment_method": "transfer", "credit_rating": "credit_good",
                       "address": "苏州工业园区星湖街 88 号",
                       "contacts": [{"name": "李娜", "title": "采购经理", "phone": "13912345678", "primary": "yes"}]}),
            )],
        )
        .await;
        assert_eq!(
            (first[0]["status"].clone(), second[0]["status"].clone()),
            (json!("applied"), json!("applied"))
        );
        // What names the duplicate: rep2's visit and converted lead, the
        // service desk's ticket and follow-up.
        let (visit_id, lead, ticket, follow_up) =
            (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        push(&rep2, vec![visit(visit_id, duplicate)]).await;
        push(&rep2, vec![create("lead", lead, common::stored_lead("苏州恒达"))]).await;
        let converted = push(
            &rep2,
            vec![common::command(
                "lead",
                lead,
                "convert",
                json!({"customer_id": duplicate}),
            )],
        )
        .await;
        assert_eq!(converted[0]["status"], "applied", "{converted:?}");
        push(
            &agent,
            vec![
                create(
                    "ticket",
                    ticket,
                    json!({"customer_name": "苏州恒达", "customer_id": duplicate, "channel": "hotline",
                           "ticket_type": "repair", "description": "主轴异响", "opened_at": "2026-12-01T01:00:00Z"}),
                ),
                create(
                    "follow_up",
                    follow_up,
                    json!({"customer_name": "苏州恒达", "customer_id": duplicate, "ticket_id": ticket,
                           "followed_at": "2026-12-02T01:00:00Z", "follow_method": "phone", "follow_result": "满意"}),
                ),
            ],
        )
        .await;
        let merge =
            |on: Uuid, absorb: Uuid| common::command("customer", on, "merge", json!({"absorb": absorb}));
        // A rep does not merge, not even two of their own customers; a
        // duplicate they may not see is as if it did not exist; another
        // team's supervisor sees neither.
        let own_other = Uuid::now_v7();
        push(
            &rep1,
            vec![customer(
                own_other,
                json!({"company": "苏州恒达", "payment_method": "cash", "credit_rating": "credit_fair"}),
            )],
        )
        .await;
        let by_rep = push(&rep1, vec![merge(kept, own_other)]).await;
        assert_eq!(
            by_rep[0]["reason"],
            json!({"error": "refused", "code": "merge_not_supervisor"})
        );
        let unseen = push(&rep1, vec![merge(kept, duplicate)]).await;
        assert_eq!(unseen[0]["reason"]["fields"][0]["problem"], "unknown_reference");
        let by_other_team = push(&sup_b, vec![merge(kept, duplicate)]).await;
        assert_eq!(by_other_team[0]["reason"], json!({"error": "not_found"}));
        // Nothing absorbs itself.
        let itself = push(&sup_a, vec![merge(kept, kept)]).await;
        assert_eq!(itself[0]["reason"], json!({"error": "not_found"}));
        let merged = push(&sup_a, vec![merge(kept, duplicate)]).await;
        assert_eq!(merged[0]["status"], "applied", "{merged:?}");

        // The one kept has what the duplicate knew.
        let survivor = held(&sup_a, "customer", kept).await;
        assert_eq!(survivor["fields"]["address"], "苏州工业园区星湖街 88 号");
        let names: Vec<&str> = survivor["fields"]["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["李娜"]);
        assert_eq!(survivor["fields"]["company"], "苏州恒达精密机械有限公司");
        // The duplicate is gone from every device, marked where it went.
        let gone = pull_all(&rep2)
            .await
            .into_iter()
            .rfind(|c| c["id"] == duplicate.to_string())
            .unwrap();
        assert_eq!(gone["kind"], "deleted", "{gone}");
        let (deleted, data): (i64, String) =
            sqlx::query_as("SELECT deleted, data FROM records WHERE id = $1")
                .bind(duplicate.to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(
            serde_json::from_str::<Value>(&data).unwrap()["merged_into"],
            kept.to_string()
        );
        // Everything that named it names the one kept, record and row alike.
        for (entity, table, id, client) in [
            ("visit", "visit_rows", visit_id, &rep2),
            ("lead", "lead_rows", lead, &rep2),
            ("ticket", "ticket_rows", ticket, &agent),
            ("follow_up", "follow_up_rows", follow_up, &agent),
        ] {
            assert_eq!(
                held(client, entity, id).await["fields"]["customer_id"],
                kept.to_string(),
                "{entity}"
            );
            assert_eq!(
                projected_customer(&app, table, id).await,
                Some(kept.to_string()),
                "{table}"
            );
        }
        let (audited,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('merge', 'merged', 'merge_moved')",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, 6);

        // A visit rep2 saved offline before the merge, pushed after it,
        // follows the one kept too (though rep2 does not own it).
        let late = Uuid::now_v7();
        let pushed = push(&rep2, vec![visit(late, duplicate)]).await;
        assert_eq!(pushed[0]["status"], "applied", "{pushed:?}");
        assert_eq!(
            held(&rep2, "visit", late).await["fields"]["customer_id"],
            kept.to_string()
        );
        // A merge of what is already merged finds nothing to absorb.
        let again = push(&sup_a, vec![merge(kept, duplicate)]).await;
        assert_eq!(again[0]["reason"], json!({"error": "not_found"}));

        // A rebuild of the projections gives the rows the writes gave.
        let rows = |table: &'static str| {
            let pool = app.db.pool.clone();
            async move {
                let found: Vec<(String, Option<String>, i64)> = sqlx::query_as(&format!(
                    "SELECT id, customer_id, deleted FROM {table} ORDER BY id"
                ))
                .fetch_all(&pool)
                .await
                .unwrap();
                found
            }
        };
        let mut written = Vec::new();
        for table in ["visit_rows", "lead_rows", "ticket_rows", "follow_up_rows"] {
            written.push(rows(table).await);
        }
        app::sync::store::rebuild_projections(&app.db, app::aggregates::ENTITIES)
            .await
            .unwrap();
        for (n, table) in ["visit_rows", "lead_rows", "ticket_rows", "follow_up_rows"]
            .into_iter()
            .enumerate()
        {
            assert_eq!(rows(table).await, written[n], "{table}");
        }
    }
);

on_both_databases!(
    a_pair_told_apart_stays_apart_and_only_a_supervisor_tells_it,
    |app: TestApp| async move {
        let (rep1, sup_a) = (app.signed_in("rep1").await, app.signed_in("sup_a").await);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        push(
            &rep1,
            vec![
                customer(
                    a,
                    json!({"company": "恒达", "phone": "02162345678",
                                   "payment_method": "cash", "credit_rating": "credit_fair"}),
                ),
                customer(
                    b,
                    json!({"company": "恒达", "phone": "02162345678",
                                   "payment_method": "cash", "credit_rating": "credit_fair"}),
                ),
            ],
        )
        .await;
        let apart =
            |on: Uuid, other: Uuid| common::command("customer", on, "keep_apart", json!({"other": other}));
        let by_rep = push(&rep1, vec![apart(a, b)]).await;
        assert_eq!(
            by_rep[0]["reason"],
            json!({"error": "refused", "code": "merge_not_supervisor"})
        );
        let told = push(&sup_a, vec![apart(a, b)]).await;
        assert_eq!(told[0]["status"], "applied", "{told:?}");
        assert_eq!(
            held(&rep1, "customer", a).await["fields"]["kept_apart"],
            json!([b.to_string()])
        );
        // The field is the command's: a patch that sets it is refused.
        let patch = json!({
            "id": Uuid::now_v7(), "entity": "customer", "record_id": b, "base_version": 1,
            "op": "upsert", "fields": {"kept_apart": [a.to_string()]},
        });
        assert_eq!(
            push(&rep1, vec![patch]).await[0]["reason"]["fields"][0]["problem"],
            "set_by_command"
        );
    }
);
