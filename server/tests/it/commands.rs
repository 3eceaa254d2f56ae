//! Commands beside field edits, through real HTTP on SQLite and PostgreSQL:
//! workflow fields change only by command, the server decides every command
//! again and its answer stands, a replay is the first answer, and a refused
//! command's device can fetch the record back as the server holds it.

use crate::common;

use common::{held, push_ok as push, stored_lead, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

fn create(record_id: Uuid, company: &str) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": "lead", "record_id": record_id,
        "base_version": 0, "op": "upsert", "fields": stored_lead(company),
    })
}

on_both_databases!(
    a_patch_or_a_create_that_sets_a_workflow_field_is_refused_and_changes_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        let mut sneaky = create(id, "越权公司");
        sneaky["fields"]["status"] = json!("qualified");
        let refused = push(&rep1, vec![sneaky]).await;
        assert_eq!(refused[0]["status"], "rejected");
        assert_eq!(
            refused[0]["reason"],
            json!({"error": "invalid", "fields": [{"field": "status", "problem": "set_by_command"}]})
        );
        assert_eq!(app.count("records").await, 0);

        push(&rep1, vec![create(id, "守规矩公司")]).await;
        let patch = json!({
            "id": Uuid::now_v7(), "entity": "lead", "record_id": id, "base_version": 1,
            "op": "upsert", "fields": {"status": "converted", "notes": "顺手改状态"},
        });
        let refused = push(&rep1, vec![patch]).await;
        assert_eq!(refused[0]["status"], "rejected");
        let stored = held(&rep1, "lead", id).await;
        assert_eq!(stored["version"], 1);
        assert!(stored["fields"].get("status").is_none(), "{stored}");
        assert!(stored["fields"].get("notes").is_none(), "{stored}");
        assert_eq!(app.count("changes").await, 1);
    }
);

on_both_databases!(
    a_command_is_decided_by_the_server_once_and_a_replay_gets_the_first_answer,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        push(&rep1, vec![create(id, "筛选公司")]).await;
        let qualify = common::command("lead", id, "qualify", json!({"grade": "A"}));
        let first = push(&rep1, vec![qualify.clone()]).await;
        assert_eq!(
            first[0],
            json!({"id": qualify["id"], "status": "applied", "version": 2})
        );
        let again = push(&rep1, vec![qualify.clone()]).await;
        assert_eq!(again[0]["status"], "duplicate");
        assert_eq!(again[0]["original"]["status"], "applied");
        let stored = held(&rep1, "lead", id).await;
        assert_eq!(stored["fields"]["status"], "qualified");
        assert_eq!(stored["fields"]["grade"], "A");
        assert_eq!(stored["version"], 2);
        // The audit trail names the command, with the fields before and after.
        let (action, before, after): (String, String, String) = sqlx::query_as(
            "SELECT action, before_json, after_json FROM audit_log WHERE record_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(id.to_string())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(action, "qualify");
        assert_eq!(
            serde_json::from_str::<Value>(&before).unwrap(),
            json!({"grade": "B"})
        );
        assert_eq!(
            serde_json::from_str::<Value>(&after).unwrap()["status"],
            "qualified"
        );

        // A second device, still seeing the lead as new, qualifies it offline:
        // the server decides against the lead as it stands, and refuses.
        let late = common::command("lead", id, "qualify", json!({}));
        let refused = push(&rep1, vec![late]).await;
        assert_eq!(
            refused[0]["reason"],
            json!({"error": "refused", "code": "lead_already_screened"})
        );
        assert_eq!(held(&rep1, "lead", id).await["version"], 2);
    }
);

on_both_databases!(
    a_command_checks_its_arguments_and_its_access,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let rep2 = app.signed_in("rep2").await;
        let id = Uuid::now_v7();
        push(&rep1, vec![create(id, "作废公司")]).await;
        let blank = push(
            &rep1,
            vec![common::command("lead", id, "disqualify", json!({"reason": " "}))],
        )
        .await;
        assert_eq!(
            blank[0]["reason"],
            json!({"error": "invalid", "fields": [{"field": "reason", "problem": "required"}]})
        );
        // Another rep's command on it answers as if it did not exist, and
        // fetching it says removed: nothing about it leaks.
        let theirs = push(
            &rep2,
            vec![common::command(
                "lead",
                id,
                "disqualify",
                json!({"reason": "抢单"}),
            )],
        )
        .await;
        assert_eq!(theirs[0]["reason"], json!({"error": "not_found"}));
        assert_eq!(
            held(&rep2, "lead", id).await,
            json!({"kind": "removed", "entity": "lead", "id": id})
        );
        // A command nobody declared is a malformed batch.
        let (status, _) = rep1
            .call(
                "sync/push",
                json!({"batch": {"client_id": Uuid::new_v4(), "mutations": [common::command("lead", id, "approve_self", json!({}))]}}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let done = push(
            &rep1,
            vec![common::command(
                "lead",
                id,
                "disqualify",
                json!({"reason": "预算取消"}),
            )],
        )
        .await;
        assert_eq!(done[0]["status"], "applied");
        let stored = held(&rep1, "lead", id).await;
        assert_eq!(stored["fields"]["status"], "disqualified");
        assert_eq!(stored["fields"]["disqualify_reason"], "预算取消");
    }
);
