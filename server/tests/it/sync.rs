//! The sync protocol through real HTTP, on SQLite and PostgreSQL.

use crate::common;

use common::{stored_lead, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

fn create(record_id: Uuid, company: &str) -> Value {
    json!({
        "id": Uuid::new_v4(),
        "entity": "lead",
        "record_id": record_id,
        "base_version": 0,
        "op": "upsert",
        "fields": stored_lead(company),
    })
}

fn edit(record_id: Uuid, base_version: i64, fields: Value) -> Value {
    json!({
        "id": Uuid::new_v4(),
        "entity": "lead",
        "record_id": record_id,
        "base_version": base_version,
        "op": "upsert",
        "fields": fields,
    })
}

async fn push(client: &Client, mutations: Vec<Value>) -> (StatusCode, Value) {
    client
        .call(
            "sync/push",
            json!({"batch": {"client_id": Uuid::new_v4(), "mutations": mutations}}),
        )
        .await
}

async fn push_ok(client: &Client, mutations: Vec<Value>) -> Vec<Value> {
    let (status, body) = push(client, mutations).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

/// Pulls every page from `cursor`; returns the changes and the final cursor.
async fn pull_all(client: &Client, mut cursor: i64, limit: usize) -> (Vec<Value>, i64) {
    let mut changes = Vec::new();
    for _ in 0..10_000 {
        let (status, page) = client
            .call(
                "sync/pull",
                json!({"request": {"cursor": cursor, "limit": limit}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        changes.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_i64().unwrap();
        if !page["has_more"].as_bool().unwrap() {
            return (changes, cursor);
        }
    }
    panic!("the pull never ended: {} changes in 10,000 pages", changes.len());
}

fn statuses(results: &[Value]) -> Vec<&str> {
    results.iter().map(|r| r["status"].as_str().unwrap()).collect()
}

on_both_databases!(
    pushed_records_are_pulled_once_and_a_retry_changes_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let batch: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| create(*id, &format!("客户{i}")))
            .collect();
        let results = push_ok(&rep1, batch.clone()).await;
        assert_eq!(statuses(&results), ["applied", "applied", "applied"]);

        // The same batch again (a retry after a lost answer), and reordered.
        let mut reordered = batch.clone();
        reordered.reverse();
        let again = push_ok(&rep1, reordered).await;
        assert_eq!(statuses(&again), ["duplicate", "duplicate", "duplicate"]);
        assert_eq!(again[0]["original"]["status"], "applied");
        assert_eq!(app.count("records").await, 3);
        assert_eq!(app.count("changes").await, 3);

        let (changes, cursor) = pull_all(&rep1, 0, 1000).await;
        let pulled: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
        let expected: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        assert_eq!(pulled, expected);
        assert_eq!(changes[0]["kind"], "upsert");
        assert_eq!(changes[0]["fields"]["company"], "客户0");
        assert_eq!(changes[0]["version"], 1);
        let (nothing, same) = pull_all(&rep1, cursor, 1000).await;
        assert!(nothing.is_empty());
        assert_eq!(same, cursor);
    }
);

on_both_databases!(
    concurrent_edits_merge_and_same_field_edits_keep_a_conflict,
    |app: TestApp| async move {
        let phone = app.signed_in("rep1").await;
        let laptop = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        push_ok(&phone, vec![create(id, "合并公司")]).await;
        // Both devices edit from version 1: different fields, then the same field.
        let a = push_ok(
            &phone,
            vec![edit(id, 1, json!({"grade": "A", "notes": "手机上写的"}))],
        )
        .await;
        let b = push_ok(
            &laptop,
            vec![edit(id, 1, json!({"industry": "半导体", "notes": "电脑上写的"}))],
        )
        .await;
        assert_eq!(statuses(&a), ["applied"]);
        assert_eq!(b[0]["status"], "conflict");
        assert_eq!(
            b[0]["conflicts"],
            json!([{"field": "notes", "kept": "电脑上写的", "lost": "手机上写的"}])
        );
        assert_eq!(b[0]["version"], 3);

        let (changes, _) = pull_all(&phone, 0, 1000).await;
        let fields = &changes[0]["fields"];
        assert_eq!(
            (fields["grade"].as_str(), fields["industry"].as_str()),
            (Some("A"), Some("半导体"))
        );
        assert_eq!(fields["notes"], "电脑上写的");
        assert_eq!(app.count("sync_conflicts").await, 1);
    }
);

on_both_databases!(
    text_is_stored_and_pulled_as_written_whatever_it_holds,
    |app: TestApp| async move {
        // Every value must come back byte for byte, however a database
        // has to escape it: in the records, the conflicts and the
        // projections.
        let awkward = [
            "他说\"好\"，路径 C:\\temp\\新建",
            "第一行\n第二行\r\n\t缩进",
            "{\"company\": \"不是字段\"} [1, 2] null",
            "表情😀 全角ＡＢＣ１２３ \u{2028}\u{7f}\u{1b}",
            "null",
            "NULL",
            "{a,b}, {\"c\\\"}\\",
        ];
        let phone = app.signed_in("rep1").await;
        let laptop = app.signed_in("rep1").await;
        let ids: Vec<Uuid> = awkward.iter().map(|_| Uuid::now_v7()).collect();
        let creates = ids
            .iter()
            .zip(awkward)
            .map(|(id, text)| {
                let mut mutation = create(*id, text);
                mutation["fields"]["notes"] = json!(text);
                mutation
            })
            .collect();
        let results = push_ok(&phone, creates).await;
        assert_eq!(statuses(&results), ["applied"; 7]);
        // A same-field edit keeps the replaced value as a conflict.
        push_ok(&phone, vec![edit(ids[0], 1, json!({"notes": awkward[1]}))]).await;
        let clash = push_ok(&laptop, vec![edit(ids[0], 1, json!({"notes": awkward[2]}))]).await;
        assert_eq!(
            clash[0]["conflicts"],
            json!([{"field": "notes", "kept": awkward[2], "lost": awkward[1]}])
        );

        let (changes, _) = pull_all(&laptop, 0, 1000).await;
        let stored: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| {
                (
                    c["fields"]["company"].as_str().unwrap(),
                    c["fields"]["notes"].as_str().unwrap(),
                )
            })
            .collect();
        let mut expected: Vec<(&str, &str)> = awkward.iter().map(|text| (*text, *text)).collect();
        let first = expected.remove(0);
        expected.push((first.0, awkward[2]));
        assert_eq!(stored, expected);
        let (status, listed) = phone.call("sync/conflicts", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(
            (&listed[0]["current"], &listed[0]["overwritten"]),
            (&json!(awkward[2]), &json!(awkward[1]))
        );

        // A projection's text columns hold the text itself.
        let customers: Vec<Value> = awkward
            .iter()
            .map(|company| {
                common::create(
                    "customer",
                    json!({"company": company, "phone": "13812345678",
                           "payment_method": "transfer", "credit_rating": "credit_good"}),
                )
            })
            .collect();
        let results = push_ok(&phone, customers.clone()).await;
        assert_eq!(statuses(&results), ["applied"; 7], "{results:?}");
        for (customer, company) in customers.iter().zip(awkward) {
            let (projected,): (Option<String>,) =
                sqlx::query_as("SELECT company FROM customer_rows WHERE id = $1")
                    .bind(customer["record_id"].as_str().unwrap())
                    .fetch_one(&app.db.pool)
                    .await
                    .unwrap();
            assert_eq!(projected.as_deref(), Some(company));
        }
    }
);

on_both_databases!(
    a_conflict_is_shown_to_whoever_may_change_the_record_and_settled_once,
    |app: TestApp| async move {
        let phone = app.signed_in("rep1").await;
        let laptop = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        push_ok(&phone, vec![create(id, "冲突公司")]).await;
        push_ok(&phone, vec![edit(id, 1, json!({"notes": "手机上写的"}))]).await;
        push_ok(&laptop, vec![edit(id, 1, json!({"notes": "电脑上写的"}))]).await;

        let open = |client: Client| async move {
            let (status, body) = client.call("sync/conflicts", json!({})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array().unwrap().clone()
        };
        let listed = open(phone.clone()).await;
        assert_eq!(listed.len(), 1);
        let conflict = &listed[0];
        assert_eq!(
            (
                &conflict["title"],
                &conflict["field"],
                &conflict["current"],
                &conflict["overwritten"],
                &conflict["changed_by"]
            ),
            (
                &json!("冲突公司"),
                &json!("notes"),
                &json!("电脑上写的"),
                &json!("手机上写的"),
                &json!("rep1")
            )
        );
        // rep1's supervisor may settle it too; another rep, or the
        // supervisor of another team, never sees it.
        assert_eq!(open(app.signed_in("sup_a").await).await.len(), 1);
        assert!(open(app.signed_in("sup_b").await).await.is_empty());
        let rep2 = app.signed_in("rep2").await;
        assert!(open(rep2.clone()).await.is_empty());
        let settle = json!({"conflict": conflict["id"], "keep": "overwritten"});
        // Out of rep2's scope: answered like a conflict that does not exist.
        let (status, _) = rep2.call("sync/resolve", settle.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = phone
            .call(
                "sync/resolve",
                json!({"conflict": conflict["id"], "keep": "theirs"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(open(phone.clone()).await.len(), 1, "refusals change nothing");

        // Restoring the overwritten value is a new change every device pulls.
        let (status, body) = phone.call("sync/resolve", settle.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (changes, _) = pull_all(&laptop, 0, 1000).await;
        assert_eq!(changes[0]["fields"]["notes"], "手机上写的");
        assert_eq!(changes[0]["version"], 4);
        assert!(open(phone.clone()).await.is_empty());
        // Settling it again (a retried request) changes nothing.
        let (status, _) = phone.call("sync/resolve", settle).await;
        assert_eq!(status, StatusCode::OK);
        let (changes, _) = pull_all(&laptop, 0, 1000).await;
        assert_eq!(changes[0]["version"], 4);
        assert_eq!(app.count("changes").await, 4);
    }
);

on_both_databases!(
    deletes_are_tombstones_and_later_edits_are_rejected,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        push_ok(&rep1, vec![create(id, "删除公司")]).await;
        let delete = json!({"id": Uuid::new_v4(), "entity": "lead", "record_id": id, "base_version": 1, "op": "delete"});
        let results = push_ok(&rep1, vec![delete, edit(id, 1, json!({"grade": "A"}))]).await;
        assert_eq!(statuses(&results), ["applied", "rejected"]);
        assert_eq!(results[1]["reason"]["error"], "not_found");
        let (changes, _) = pull_all(&rep1, 0, 1000).await;
        assert_eq!(
            changes,
            vec![json!({"kind": "deleted", "entity": "lead", "id": id, "version": 2})]
        );
        assert_eq!(common::lead_companies(&rep1).await, Vec::<String>::new());
    }
);

on_both_databases!(
    rule_violations_are_rejected_one_by_one_with_reasons,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let good = Uuid::now_v7();
        let mut bad = create(Uuid::now_v7(), "坏数据");
        bad["fields"]["phone"] = json!("12345");
        bad["fields"]["grade"] = json!("Z");
        let results = push_ok(
            &rep1,
            vec![
                create(good, "好数据"),
                bad,
                edit(Uuid::now_v7(), 3, json!({"grade": "A"})),
            ],
        )
        .await;
        assert_eq!(statuses(&results), ["applied", "rejected", "rejected"]);
        assert_eq!(results[1]["reason"]["error"], "invalid");
        assert_eq!(
            results[1]["reason"]["fields"][0],
            json!({"field": "phone", "problem": "invalid_phone"})
        );
        assert_eq!(results[2]["reason"]["error"], "not_found");
        assert_eq!(app.count("records").await, 1);
        // An edit that would break a rule leaves the record as it was.
        let broken = push_ok(&rep1, vec![edit(good, 1, json!({"company": ""}))]).await;
        assert_eq!(broken[0]["status"], "rejected");
        let lead = common::held(&rep1, "lead", good).await;
        assert_eq!(
            (lead["fields"]["company"].as_str(), lead["version"].as_i64()),
            (Some("好数据"), Some(1))
        );
    }
);

on_both_databases!(
    records_outside_the_users_scope_cannot_be_touched,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        push_ok(&rep1, vec![create(id, "甲的客户")]).await;
        // (user, may read it): the general manager reads everything but edits nothing.
        for (user, reads) in [
            ("rep2", false),
            ("rep3", false),
            ("sup_b", false),
            ("tech", false),
            ("gm", true),
        ] {
            let other = app.signed_in(user).await;
            // Each user's own mutation: an id another user already sent is
            // refused as such, before the record is looked at.
            let delete = json!({"id": Uuid::new_v4(), "entity": "lead", "record_id": id, "base_version": 1, "op": "delete"});
            let results = push_ok(&other, vec![edit(id, 1, json!({"grade": "C"})), delete]).await;
            assert_eq!(statuses(&results), ["rejected", "rejected"], "{user}");
            // Out of scope answers like missing; in scope but read-only says so.
            let answer = if reads { "forbidden" } else { "not_found" };
            assert_eq!(results[0]["reason"]["error"], answer, "{user}");
            assert_eq!(results[1]["reason"]["error"], answer, "{user}");
            let (changes, _) = pull_all(&other, 0, 1000).await;
            assert_eq!(changes.len(), usize::from(reads), "{user} pulled {changes:?}");
        }
        // The supervisor of rep1's team may edit it.
        let sup = app.signed_in("sup_a").await;
        assert_eq!(
            statuses(&push_ok(&sup, vec![edit(id, 1, json!({"grade": "A"}))]).await),
            ["applied"]
        );
        let lead = common::held(&rep1, "lead", id).await;
        assert_eq!(lead["fields"]["grade"], "A");
    }
);

on_both_databases!(malformed_batches_are_refused_whole, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let good = create(Uuid::now_v7(), "不该写入");
    let mut unknown_field = create(Uuid::now_v7(), "x");
    unknown_field["fields"]["salary"] = json!("1");
    let mut unknown_entity = create(Uuid::now_v7(), "x");
    unknown_entity["entity"] = json!("spaceship");
    let mut wrong_type = create(Uuid::now_v7(), "x");
    wrong_type["base_version"] = json!("one");
    let mut extra_key = create(Uuid::now_v7(), "x");
    extra_key["priority"] = json!(1);
    for (what, bad, expected) in [
        ("unknown field", unknown_field, 400),
        ("unknown entity", unknown_entity, 400),
        ("wrong type", wrong_type, 400),
        ("unknown key", extra_key, 400),
    ] {
        let (status, body) = push(&rep1, vec![good.clone(), bad]).await;
        assert_eq!(status.as_u16(), expected, "{what}: {body}");
    }
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"id": Uuid::new_v4(), "entity": "lead", "record_id": Uuid::now_v7(), "base_version": 1, "op": "delete"}))
        .collect();
    let (status, body) = push(&rep1, too_many).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body, json!({"error": "too_large", "limit": 1000}));
    let (status, _) = rep1.raw("sync/push", "application/json", "{\"batch\": [").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge =
        json!({"batch": {"client_id": Uuid::new_v4(), "mutations": [], "pad": "x".repeat(400 * 1024)}});
    let (status, _) = rep1.raw("sync/push", "application/json", huge.to_string()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = app
        .anonymous()
        .call(
            "sync/push",
            json!({"batch": {"client_id": Uuid::new_v4(), "mutations": [good]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = rep1.call("sync/pull", json!({"request": {"cursor": -1}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("records").await, 0);
    assert_eq!(app.count("applied_mutations").await, 0);
});

on_both_databases!(
    a_reassigned_record_arrives_as_a_removal_for_its_old_owner,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let sup_a = app.signed_in("sup_a").await;
        let rep3 = app.signed_in("rep3").await;
        let id = Uuid::now_v7();
        push_ok(&rep1, vec![create(id, "转移公司")]).await;
        let (_, rep1_cursor) = pull_all(&rep1, 0, 1000).await;
        let (_, sup_cursor) = pull_all(&sup_a, 0, 1000).await;
        let manager = app::roles::CurrentUser {
            id: app.users["manager"],
            username: "manager".into(),
            display_name: "manager".into(),
            role: app::roles::Role::SalesManager,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        };
        assert!(app::sync::store::reassign(
            &app.db,
            app::aggregates::ENTITIES,
            "lead",
            id,
            app.users["rep3"],
            &manager
        )
        .await
        .unwrap());
        let removal = vec![json!({"kind": "removed", "entity": "lead", "id": id})];
        assert_eq!(pull_all(&rep1, rep1_cursor, 1000).await.0, removal);
        assert_eq!(pull_all(&sup_a, sup_cursor, 1000).await.0, removal);
        let (for_rep3, _) = pull_all(&rep3, 0, 1000).await;
        assert_eq!(
            (for_rep3.len(), for_rep3[0]["kind"].as_str()),
            (1, Some("upsert"))
        );
        assert_eq!(for_rep3[0]["owner_id"], json!(app.users["rep3"]));
        // A fresh pull, page by page or at once, tells the old owner the
        // same: the record left, the next one of theirs is there.
        let later = Uuid::now_v7();
        push_ok(&rep1, vec![create(later, "留下公司")]).await;
        for limit in [1, 2, 1000] {
            let (changes, _) = pull_all(&rep1, 0, limit).await;
            let seen: Vec<(&str, &str)> = changes
                .iter()
                .map(|c| (c["kind"].as_str().unwrap(), c["id"].as_str().unwrap()))
                .collect();
            let (id, later) = (id.to_string(), later.to_string());
            assert_eq!(
                seen,
                [("removed", id.as_str()), ("upsert", later.as_str())],
                "limit {limit}"
            );
        }
    }
);

on_both_databases!(
    pulls_page_through_everything_in_order,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let batch: Vec<Value> = (0..25)
            .map(|i| create(Uuid::now_v7(), &format!("分页{i}")))
            .collect();
        push_ok(&rep1, batch).await;
        let mut cursor = 0;
        let mut pages = Vec::new();
        loop {
            let (_, page) = rep1
                .call("sync/pull", json!({"request": {"cursor": cursor, "limit": 10}}))
                .await;
            pages.push(page["changes"].as_array().unwrap().len());
            cursor = page["cursor"].as_i64().unwrap();
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!(pages, [10, 10, 5]);
        // Leads added through the form are the same records.
        common::add_lead(&rep1, "表单公司").await;
        let (changes, _) = pull_all(&rep1, cursor, 10).await;
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["fields"]["company"], "表单公司");
    }
);

on_both_databases!(
    pages_move_on_when_one_record_fills_the_window,
    |app: TestApp| async move {
        // Record `a` changed three times, then `b` made, then `a` again: a
        // page of one record must still move on, and every record arrive
        // in its latest state.
        let rep1 = app.signed_in("rep1").await;
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        push_ok(&rep1, vec![create(a, "窗口甲")]).await;
        push_ok(&rep1, vec![edit(a, 1, json!({"notes": "一"}))]).await;
        push_ok(&rep1, vec![edit(a, 2, json!({"notes": "二"}))]).await;
        push_ok(&rep1, vec![create(b, "窗口乙")]).await;
        push_ok(&rep1, vec![edit(a, 3, json!({"notes": "三"}))]).await;
        for limit in [1, 2, 3] {
            let (changes, _) = pull_all(&rep1, 0, limit).await;
            let latest: std::collections::HashMap<&str, (i64, &str)> = changes
                .iter()
                .map(|c| {
                    let notes = c["fields"]["notes"].as_str().unwrap_or_default();
                    (c["id"].as_str().unwrap(), (c["version"].as_i64().unwrap(), notes))
                })
                .collect();
            assert_eq!(latest.len(), 2, "limit {limit}: {changes:?}");
            assert_eq!(latest[a.to_string().as_str()], (4, "三"), "limit {limit}");
            assert_eq!(latest[b.to_string().as_str()].0, 1, "limit {limit}");
            assert!(changes.len() <= 4, "limit {limit}: {} changes", changes.len());
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_share_sync_state() {
    let first = TestApp::spawn(common::Backend::Postgres).await;
    let second = first.second_server().await;
    let on_first = first.signed_in("rep1").await;
    let on_second = second.signed_in("rep1").await;
    let id = Uuid::now_v7();
    let batch = vec![create(id, "双机公司")];
    push_ok(&on_first, batch.clone()).await;
    // A retry that lands on the other server is still a duplicate.
    assert_eq!(statuses(&push_ok(&on_second, batch).await), ["duplicate"]);
    let (changes, _) = pull_all(&on_second, 0, 1000).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["fields"]["company"], "双机公司");
    // A session made on one server works on the other.
    let made = push_ok(&on_second, vec![create(Uuid::now_v7(), "另一台")]).await;
    assert_eq!(statuses(&made), ["applied"]);
    assert_eq!(pull_all(&on_first, 0, 1000).await.0.len(), 2);
    common::drop_postgres_database(&first.url).await;
}

/// PostgreSQL plans a push's lookups by statistics that autovacuum gathers
/// a minute apart at best; a table that doubled in a burst is analysed by
/// the server right after the push (`ssr::db::refresh_statistics`). Counted
/// by PostgreSQL: `analyze_count` grows by an `ANALYZE` statement only, not
/// by autovacuum's own (`autoanalyze_count`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_statistics_follow_a_burst_of_pushed_records() {
    let app = TestApp::spawn(common::Backend::Postgres).await;
    let rep = app.signed_in("rep1").await;
    let analysed = || async {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'records' \
             AND schemaname = current_schema()",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        count
    };
    assert_eq!(analysed().await, 0, "a new database has no statistics of its own");
    // 2,000 records in batches the test server's body limit lets through.
    for round in 0..8 {
        let batch = (0..250)
            .map(|n| create(Uuid::now_v7(), &format!("公司 {round}-{n}")))
            .collect();
        assert!(statuses(&push_ok(&rep, batch).await)
            .iter()
            .all(|s| *s == "applied"));
    }
    // The table's counters reach PostgreSQL's statistics within a second
    // of the commit; the server looks after each push.
    let mut waited = 0;
    while analysed().await == 0 {
        assert!(waited < 100, "records were not analysed after 2,000 pushed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if waited % 10 == 9 {
            // One more push wakes the server's look again.
            push_ok(&rep, vec![create(Uuid::now_v7(), "又一家")]).await;
        }
        waited += 1;
    }
    common::drop_postgres_database(&app.url).await;
}

on_both_databases!(
    visits_and_tickets_sync_by_the_same_engine,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let visit = Uuid::now_v7();
        let results = push_ok(
        &rep1,
        vec![json!({
            "id": Uuid::new_v4(), "entity": "visit", "record_id": visit, "base_version": 0, "op": "upsert",
            "fields": {"customer_name": "苏州恒达", "visited_at": "2026-11-20T02:00:00Z",
                       "met_name": "王建国", "met_title": "采购经理", "purpose": "需求调研"}
        })],
    )
    .await;
        assert_eq!(statuses(&results), ["applied"]);

        let tech = app.signed_in("tech").await;
        let ticket = Uuid::now_v7();
        let ticket_fields = json!({"customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
                               "description": "叉车液压系统漏油", "opened_at": "2026-11-24T01:00:00Z"});
        let create_ticket = json!({"id": Uuid::new_v4(), "entity": "ticket", "record_id": ticket, "base_version": 0,
                               "op": "upsert", "fields": ticket_fields});
        assert_eq!(
            statuses(&push_ok(&tech, vec![create_ticket.clone()]).await),
            ["applied"]
        );
        // Finance may not open tickets; a bad ticket is rejected with its fields.
        let finance = app.signed_in("finance").await;
        let mut by_finance = create_ticket.clone();
        by_finance["id"] = json!(Uuid::new_v4());
        by_finance["record_id"] = json!(Uuid::now_v7());
        assert_eq!(
            push_ok(&finance, vec![by_finance]).await[0]["reason"]["error"],
            "forbidden"
        );
        let mut bad = create_ticket.clone();
        bad["id"] = json!(Uuid::new_v4());
        bad["record_id"] = json!(Uuid::now_v7());
        bad["fields"]["ticket_type"] = json!("magic");
        let rejected = push_ok(&tech, vec![bad]).await;
        assert_eq!(
            rejected[0]["reason"]["fields"][0],
            json!({"field": "ticket_type", "problem": "invalid_choice"})
        );

        let kinds = |changes: Vec<Value>| -> Vec<String> {
            let mut kinds: Vec<String> = changes
                .iter()
                .map(|c| c["entity"].as_str().unwrap().to_owned())
                .collect();
            kinds.sort();
            kinds
        };
        assert_eq!(kinds(pull_all(&rep1, 0, 1000).await.0), ["visit"]);
        assert_eq!(kinds(pull_all(&tech, 0, 1000).await.0), ["ticket"]);
        assert_eq!(
            kinds(pull_all(&app.signed_in("agent").await, 0, 1000).await.0),
            ["ticket"]
        );
        assert_eq!(
            kinds(pull_all(&app.signed_in("sup_a").await, 0, 1000).await.0),
            ["visit"]
        );
        assert_eq!(
            kinds(pull_all(&app.signed_in("manager").await, 0, 1000).await.0),
            ["ticket", "visit"]
        );
        assert!(pull_all(&finance, 0, 1000).await.0.is_empty());
    }
);

/// SQLite: a large push is copied from the write-ahead log into the database
/// file soon after it commits, by the server's checkpoint task, rather than
/// inside a later push (SQLite's own mark, 4,000 log pages, is far off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_the_log_beside_the_requests() {
    let app = TestApp::spawn(common::Backend::Sqlite).await;
    let rep = app.signed_in("rep1").await;
    let file = app.url.strip_prefix("sqlite://").expect("a SQLite URL");
    let size = || std::fs::metadata(file).expect("the database file").len();
    let before = size();
    for batch in 0..2 {
        let mutations = (0..500)
            .map(|n| create(Uuid::now_v7(), &format!("检查点测试{batch}-{n}")))
            .collect();
        let results = push_ok(&rep, mutations).await;
        assert!(statuses(&results).iter().all(|s| *s == "applied"));
    }
    let mut waited = std::time::Duration::ZERO;
    while size() < before + 1024 * 1024 && waited < std::time::Duration::from_secs(3) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += std::time::Duration::from_millis(50);
    }
    assert!(
        size() >= before + 1024 * 1024,
        "1,000 leads reached the database file: {before} → {} bytes",
        size()
    );
}
