//! New-customer recognition through real HTTP, on SQLite and PostgreSQL:
//! the application's approval chain, refusals (one's own request, another
//! team's supervisor, a patch of the code), and the code the server gives
//! on approval, gapless and never twice, also with two servers at once.

use crate::common;

use common::{held, push_ok as push, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

fn application(record_id: Uuid, company: &str) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": "customer", "record_id": record_id,
        "base_version": 0, "op": "upsert",
        "fields": {
            "company": company, "capital": "5000000.00", "payment_method": "transfer",
            "payment_days": "30", "credit_rating": "credit_good", "phone": "13812345678",
        },
    })
}

/// A contact line with its identity, as the phone's form keeps it.
fn contact(n: u8, name: &str, title: &str, primary: bool) -> Value {
    json!({
        "id": format!("0193a1b2-0000-7000-8000-0000000000{n:02}"),
        "name": name, "title": title, "primary": if primary { "yes" } else { "no" },
    })
}

/// A device's edit of a customer's contacts, made from `base_version`
/// when the contacts were `base` (`None`: a device that does not say).
fn contacts_edit(id: Uuid, base_version: i64, base: Option<Value>, contacts: Value) -> Value {
    let mut edit = json!({
        "id": Uuid::now_v7(), "entity": "customer", "record_id": id,
        "base_version": base_version, "op": "upsert", "fields": {"contacts": contacts},
    });
    if let Some(base) = base {
        edit["base"] = json!({ "contacts": base });
    }
    edit
}

fn contact_names(record: &Value) -> Vec<(String, String)> {
    record["fields"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["title"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

on_both_databases!(
    contacts_added_offline_on_two_devices_both_hold_line_by_line,
    |app: TestApp| async move {
        let phone = app.signed_in("rep1").await;
        let laptop = app.signed_in("rep1").await;
        let id = Uuid::now_v7();
        let mut created = application(id, "苏州恒达精密机械有限公司");
        created["fields"]["contacts"] = json!([contact(1, "王建国", "总经理", true)]);
        push(&phone, vec![created]).await;
        let first = json!([contact(1, "王建国", "总经理", true)]);

        // Both devices add a contact to version 1's list, offline.
        let a = push(
            &phone,
            vec![contacts_edit(
                id,
                1,
                Some(first.clone()),
                json!([
                    contact(1, "王建国", "总经理", true),
                    contact(2, "李娜", "采购经理", false)
                ]),
            )],
        )
        .await;
        let b = push(
            &laptop,
            vec![contacts_edit(
                id,
                1,
                Some(first.clone()),
                json!([
                    contact(1, "王建国", "总经理", true),
                    contact(3, "赵磊", "财务", false)
                ]),
            )],
        )
        .await;
        assert_eq!(
            (a[0]["status"].as_str(), b[0]["status"].as_str()),
            (Some("applied"), Some("applied")),
            "{b:?}"
        );
        let names = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
        };
        assert_eq!(
            contact_names(&held(&phone, "customer", id).await),
            names(&[("王建国", "总经理"), ("李娜", "采购经理"), ("赵磊", "财务")])
        );
        assert_eq!(app.count("sync_conflicts").await, 0);
        // The history says what was stored, not what the device sent.
        let (after,): (String,) =
            sqlx::query_as("SELECT after_json FROM audit_log WHERE record_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(id.to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert!(after.contains("李娜") && after.contains("赵磊"), "{after}");

        // Both change 李娜's title from version 3: the later arrival wins,
        // and what it replaced is a conflict to look at.
        let three = json!([
            contact(1, "王建国", "总经理", true),
            contact(2, "李娜", "采购经理", false),
            contact(3, "赵磊", "财务", false)
        ]);
        let with_title = |title: &str| {
            json!([
                contact(1, "王建国", "总经理", true),
                contact(2, "李娜", title, false),
                contact(3, "赵磊", "财务", false)
            ])
        };
        push(
            &phone,
            vec![contacts_edit(id, 3, Some(three.clone()), with_title("采购总监"))],
        )
        .await;
        let late = push(
            &laptop,
            vec![contacts_edit(id, 3, Some(three.clone()), with_title("副总经理"))],
        )
        .await;
        assert_eq!(late[0]["status"], "conflict", "{late:?}");
        assert_eq!(late[0]["conflicts"][0]["lost"], with_title("采购总监"));
        assert_eq!(late[0]["conflicts"][0]["kept"], with_title("副总经理"));
        assert_eq!(app.count("sync_conflicts").await, 1);

        // A device that does not say what its edit started from: the later
        // arrival wins the whole list, as a conflict.
        let old_device = push(
            &laptop,
            vec![contacts_edit(
                id,
                3,
                None,
                json!([contact(4, "孙强", "经理", true)]),
            )],
        )
        .await;
        assert_eq!(old_device[0]["status"], "conflict", "{old_device:?}");
        assert_eq!(
            contact_names(&held(&phone, "customer", id).await),
            names(&[("孙强", "经理")])
        );

        // A base for a field the mutation does not change is malformed.
        let mut stray = contacts_edit(id, 5, Some(json!([])), json!([contact(4, "孙强", "经理", true)]));
        stray["base"]["phone"] = json!("13812345678");
        let (status, body) = phone
            .call(
                "sync/push",
                json!({"batch": {"client_id": Uuid::new_v4(), "mutations": [stray]}}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
);

fn year_prefix() -> String {
    use chrono::Datelike;
    format!(
        "C{}-",
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .year()
    )
}

on_both_databases!(
    an_application_is_approved_by_the_reps_supervisor_and_gets_the_next_code,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let sup_a = app.signed_in("sup_a").await;
        let sup_b = app.signed_in("sup_b").await;
        let id = Uuid::now_v7();
        push(&rep1, vec![application(id, "苏州恒达精密机械有限公司")]).await;
        // The code is the server's to give: a create or patch that sets it is refused.
        let forged = json!({
            "id": Uuid::now_v7(), "entity": "customer", "record_id": id, "base_version": 1,
            "op": "upsert", "fields": {"code": "C2026-0001"},
        });
        assert_eq!(
            push(&rep1, vec![forged]).await[0]["reason"]["fields"][0]["problem"],
            "set_by_command"
        );
        let submitted = push(&rep1, vec![common::command("customer", id, "submit", json!({}))]).await;
        assert_eq!(submitted[0]["status"], "applied", "{submitted:?}");
        // Nobody approves their own request; another team's supervisor does
        // not see it at all.
        let own = push(&rep1, vec![common::command("customer", id, "approve", json!({}))]).await;
        assert_eq!(
            own[0]["reason"],
            json!({"error": "refused", "code": "approval_own_request"})
        );
        let other = push(
            &sup_b,
            vec![common::command("customer", id, "approve", json!({}))],
        )
        .await;
        assert_eq!(other[0]["reason"], json!({"error": "not_found"}));
        // Rejected with a comment, resubmitted, approved.
        let returned = push(
            &sup_a,
            vec![common::command(
                "customer",
                id,
                "reject",
                json!({"comment": "请补充信用调查"}),
            )],
        )
        .await;
        assert_eq!(returned[0]["status"], "applied");
        let after_return = held(&rep1, "customer", id).await;
        assert_eq!(after_return["fields"]["status"], "rejected");
        assert_eq!(
            after_return["fields"]["approval"]["steps"][0]["comment"],
            "请补充信用调查"
        );
        assert!(after_return["fields"].get("code").is_none());
        push(&rep1, vec![common::command("customer", id, "submit", json!({}))]).await;
        let approved = push(
            &sup_a,
            vec![common::command(
                "customer",
                id,
                "approve",
                json!({"comment": "同意"}),
            )],
        )
        .await;
        assert_eq!(approved[0]["status"], "applied");
        let customer = held(&rep1, "customer", id).await;
        assert_eq!(customer["fields"]["status"], "approved");
        assert_eq!(customer["fields"]["code"], format!("{}0001", year_prefix()));
        assert_eq!(customer["fields"]["approval"]["round"], 2);
        // Every step is in the audit trail, with who gave it.
        let (steps,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE record_id = $1 AND action IN ('submit', 'approve', 'reject')",
        )
        .bind(id.to_string())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(steps, 4);
        // The next approval takes the next number; a refused one takes none.
        let second = Uuid::now_v7();
        push(&rep1, vec![application(second, "宁波远航物流有限公司")]).await;
        push(
            &rep1,
            vec![common::command("customer", second, "submit", json!({}))],
        )
        .await;
        push(
            &rep1,
            vec![common::command("customer", second, "approve", json!({}))],
        )
        .await;
        push(
            &sup_a,
            vec![common::command("customer", second, "approve", json!({}))],
        )
        .await;
        assert_eq!(
            held(&rep1, "customer", second).await["fields"]["code"],
            format!("{}0002", year_prefix())
        );
    }
);

/// 200 applications approved at once, half through each of two servers on
/// one PostgreSQL: 200 distinct codes, 0001 to 0200, no gap.
#[tokio::test]
async fn postgres_two_servers_approving_200_at_once_give_200_gapless_codes() {
    let one = TestApp::spawn(common::Backend::Postgres).await;
    let two = one.second_server().await;
    let rep1 = one.signed_in("rep1").await;
    let ids: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
    let creates: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| application(*id, &format!("客户{n}")))
        .collect();
    push(&rep1, creates).await;
    push(
        &rep1,
        ids.iter()
            .map(|id| common::command("customer", *id, "submit", json!({})))
            .collect(),
    )
    .await;
    let mut approvers = Vec::new();
    for n in 0..10 {
        let server = if n % 2 == 0 { &one } else { &two };
        approvers.push(server.signed_in("sup_a").await);
    }
    let mut tasks = Vec::new();
    for (n, chunk) in ids.chunks(20).enumerate() {
        let client = approvers[n].clone();
        let mutations: Vec<Value> = chunk
            .iter()
            .map(|id| common::command("customer", *id, "approve", json!({})))
            .collect();
        // Each chunk one at a time, so the two servers interleave.
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for mutation in mutations {
                statuses.extend(push(&client, vec![mutation]).await);
            }
            statuses
        }));
    }
    for task in tasks {
        for result in task.await.unwrap() {
            assert_eq!(result["status"], "applied", "{result}");
        }
    }
    let mut codes = BTreeSet::new();
    for chunk in ids.chunks(100) {
        let (status, body) = rep1
            .call("sync/records", json!({"entity": "customer", "ids": chunk}))
            .await;
        assert_eq!(status, StatusCode::OK);
        for record in body.as_array().unwrap() {
            codes.insert(record["fields"]["code"].as_str().unwrap().to_owned());
        }
    }
    let expected: BTreeSet<String> = (1..=200).map(|n| format!("{}{n:04}", year_prefix())).collect();
    assert_eq!(codes, expected);
    common::drop_postgres_database(&one.url).await;
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct ProjectedRow {
    id: String,
    owner_id: String,
    deleted: i64,
    company: Option<String>,
    name_key: Option<String>,
    phone_key: Option<String>,
    credit_code_key: Option<String>,
    code: Option<String>,
    status: String,
    class: Option<String>,
    region: Option<String>,
    key_customer: i64,
    credit_limit_fen: Option<i64>,
}

async fn projected(app: &TestApp) -> Vec<ProjectedRow> {
    sqlx::query_as(
        "SELECT id, owner_id, deleted, company, name_key, phone_key, credit_code_key, code, status, class, \
                region, key_customer, credit_limit_fen FROM customer_rows ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

on_both_databases!(
    the_customer_projection_is_written_with_each_change_and_a_rebuild_gives_the_same_rows,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let sup_a = app.signed_in("sup_a").await;
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut with_limit = application(c, "杭州云栖软件股份有限公司");
        with_limit["fields"]["credit_limit"] = json!("1234567.89");
        with_limit["fields"]["key_customer"] = json!("yes");
        push(
            &rep1,
            vec![application(a, "苏州恒达"), application(b, "宁波远航"), with_limit],
        )
        .await;
        push(&rep1, vec![common::command("customer", a, "submit", json!({}))]).await;
        push(&sup_a, vec![common::command("customer", a, "approve", json!({}))]).await;
        let delete = json!({"id": Uuid::now_v7(), "entity": "customer", "record_id": b, "base_version": 1, "op": "delete"});
        push(&rep1, vec![delete]).await;
        let written = projected(&app).await;
        assert_eq!(written.len(), 3);
        let row = |id: Uuid| written.iter().find(|r| r.id == id.to_string()).unwrap();
        assert_eq!(row(a).code, Some(format!("{}0001", year_prefix())));
        assert_eq!(row(a).status, "approved");
        assert_eq!(row(b).deleted, 1);
        let row_c = row(c);
        assert_eq!(row_c.name_key.as_deref(), Some("杭州云栖软件"));
        assert_eq!(
            (row_c.key_customer, row_c.credit_limit_fen),
            (1, Some(123_456_789))
        );
        assert_eq!(row_c.owner_id, app.users["rep1"].to_string());
        assert!(row_c.class.is_none() && row_c.region.is_none() && row_c.credit_code_key.is_none());
        assert_eq!(row_c.phone_key.as_deref(), Some("13812345678"));
        assert_eq!(row_c.company.as_deref(), Some("杭州云栖软件股份有限公司"));
        let rebuilt = app::sync::store::rebuild_projections(&app.db, app::aggregates::ENTITIES)
            .await
            .unwrap();
        assert_eq!(rebuilt, 3);
        assert_eq!(projected(&app).await, written);
    }
);

/// Every row of the ticket and visit projections, in id order, as text.
async fn ticket_and_visit_rows(app: &TestApp) -> Vec<String> {
    type TicketRow = (
        String,
        String,
        i64,
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<i64>,
        i64,
    );
    let tickets: Vec<TicketRow> = sqlx::query_as(
        "SELECT id, owner_id, deleted, customer_id, status, ticket_type, opened_at, resolved_at, closed_at, \
         technician_name, rating, escalated FROM ticket_rows ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    type VisitRow = (String, String, i64, Option<String>, Option<String>, Option<i64>);
    let visits: Vec<VisitRow> = sqlx::query_as(
        "SELECT id, owner_id, deleted, customer_id, lead_id, visited_at FROM visit_rows ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    tickets
        .iter()
        .map(|row| format!("{row:?}"))
        .chain(visits.iter().map(|row| format!("{row:?}")))
        .collect()
}

on_both_databases!(
    tickets_and_visits_are_projected_with_each_change_and_a_rebuild_gives_the_same_rows,
    |app: TestApp| async move {
        let (rep1, sup_a, agent) = (
            app.signed_in("rep1").await,
            app.signed_in("sup_a").await,
            app.signed_in("agent").await,
        );
        let customer = Uuid::now_v7();
        push(&rep1, vec![application(customer, "苏州恒达")]).await;
        push(
            &rep1,
            vec![common::command("customer", customer, "submit", json!({}))],
        )
        .await;
        push(
            &sup_a,
            vec![common::command("customer", customer, "approve", json!({}))],
        )
        .await;
        let (ticket, visit) = (Uuid::now_v7(), Uuid::now_v7());
        push(
            &agent,
            vec![json!({
                "id": Uuid::now_v7(), "entity": "ticket", "record_id": ticket, "base_version": 0, "op": "upsert",
                "fields": {"customer_name": "苏州恒达", "customer_id": customer, "channel": "hotline",
                           "ticket_type": "repair", "description": "主轴异响", "opened_at": "2026-12-01T01:00:00Z"},
            })],
        )
        .await;
        push(
            &agent,
            vec![common::command("ticket", ticket, "resolve", json!({}))],
        )
        .await;
        push(
            &agent,
            vec![common::command("ticket", ticket, "close", json!({"rating": "4"}))],
        )
        .await;
        push(
            &rep1,
            vec![json!({
                "id": Uuid::now_v7(), "entity": "visit", "record_id": visit, "base_version": 0, "op": "upsert",
                "fields": {"customer_name": "苏州恒达", "customer_id": customer,
                           "visited_at": "2026-12-02T02:30:00Z", "purpose": "回访"},
            })],
        )
        .await;
        let written = ticket_and_visit_rows(&app).await;
        assert_eq!(written.len(), 2, "{written:?}");
        let (status, rating, opened): (String, Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT status, rating, opened_at FROM ticket_rows WHERE id = $1")
                .bind(ticket.to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!((status.as_str(), rating), ("closed", Some(4)));
        let millis = |at: &str| {
            at.parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(opened, Some(millis("2026-12-01T01:00:00Z")));
        let (customer_of_visit, at): (Option<String>, Option<i64>) =
            sqlx::query_as("SELECT customer_id, visited_at FROM visit_rows WHERE id = $1")
                .bind(visit.to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(customer_of_visit, Some(customer.to_string()));
        assert_eq!(at, Some(millis("2026-12-02T02:30:00Z")));
        app::sync::store::rebuild_projections(&app.db, app::aggregates::ENTITIES)
            .await
            .unwrap();
        assert_eq!(ticket_and_visit_rows(&app).await, written);
    }
);

on_both_databases!(
    the_duplicate_check_finds_customers_everywhere_and_shows_others_only_by_name_and_owner,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let rep3 = app.signed_in("rep3").await;
        let mine = Uuid::now_v7();
        push(&rep1, vec![application(mine, "苏州ＡＢＣ精密机械有限公司")]).await;
        let check = |client: &Client, company: &str, phone: &str| {
            let body = json!({"company": company, "phone": phone, "credit_code": ""});
            let client = client.clone();
            async move {
                let (status, body) = client.call("customers/duplicates", body).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body
            }
        };
        // The owner sees their own customer, with its id.
        let own = check(&rep1, "苏州abc精密机械", "").await;
        assert_eq!(own[0]["id"], mine.to_string());
        // Another team's rep typing the same company (half-width, with a
        // suffix) learns that it exists and whose it is, nothing more.
        let other = check(&rep3, "苏州ABC精密机械股份有限公司", "").await;
        assert_eq!(
            other,
            json!([{"company": "苏州ＡＢＣ精密机械有限公司", "owner_name": "rep1", "id": null, "code": null}])
        );
        // By phone, however it is written.
        assert_eq!(
            check(&rep3, "", "+86 138-1234-5678")
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(check(&rep3, "杭州", "").await, json!([]));
        // Those with no business with customers are refused.
        let tech = app.signed_in("tech").await;
        let (status, _) = tech
            .call(
                "customers/duplicates",
                json!({"company": "苏州", "phone": "", "credit_code": ""}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

on_both_databases!(
    a_lead_converts_into_the_application_made_from_it,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let lead = Uuid::now_v7();
        let create = json!({
            "id": Uuid::now_v7(), "entity": "lead", "record_id": lead, "base_version": 0,
            "op": "upsert", "fields": common::stored_lead("苏州恒达"),
        });
        let customer = Uuid::now_v7();
        let mut made = application(customer, "苏州恒达");
        made["fields"]["lead_id"] = json!(lead);
        let convert = json!({
            "id": Uuid::now_v7(), "entity": "lead", "record_id": lead, "base_version": 1,
            "op": "command", "command": "convert", "fields": {"customer_id": customer},
        });
        // Made offline in one go: the lead, the application, the conversion.
        let results = push(&rep1, vec![create, made, convert.clone()]).await;
        let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["applied", "applied", "applied"]);
        let (_, body) = rep1
            .call("sync/records", json!({"entity": "lead", "ids": [lead]}))
            .await;
        assert_eq!(body[0]["fields"]["status"], "converted");
        assert_eq!(body[0]["fields"]["customer_id"], customer.to_string());
        let mut again = convert;
        again["id"] = json!(Uuid::now_v7());
        let refused = push(&rep1, vec![again]).await;
        assert_eq!(refused[0]["reason"]["code"], "lead_already_closed");
    }
);

on_both_databases!(
    a_ticket_links_only_to_a_customer_its_writer_may_see,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let agent = app.signed_in("agent").await;
        let tech = app.signed_in("tech").await;
        let customer = Uuid::now_v7();
        push(&rep1, vec![application(customer, "宁波远航物流有限公司")]).await;
        let ticket = |customer_id: Uuid| {
            json!({
                "id": Uuid::now_v7(), "entity": "ticket", "record_id": Uuid::now_v7(),
                "base_version": 0, "op": "upsert",
                "fields": {
                    "customer_name": "宁波远航物流有限公司", "customer_id": customer_id,
                    "channel": "hotline", "ticket_type": "repair", "description": "叉车液压系统漏油",
                    "opened_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
            })
        };
        // The service desk reads every customer: it links.
        let linked = push(&agent, vec![ticket(customer)]).await;
        assert_eq!(linked[0]["status"], "applied", "{linked:?}");
        // A technician reads no customers, and nobody links to one that
        // does not exist: both answer alike.
        let unseen =
            json!({"error": "invalid", "fields": [{"field": "customer_id", "problem": "unknown_reference"}]});
        assert_eq!(push(&tech, vec![ticket(customer)]).await[0]["reason"], unseen);
        assert_eq!(
            push(&agent, vec![ticket(Uuid::now_v7())]).await[0]["reason"],
            unseen
        );
    }
);

on_both_databases!(
    a_projection_found_empty_beside_records_is_filled_from_them,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let lead = Uuid::now_v7();
        push(
            &rep1,
            vec![
                json!({"id": Uuid::now_v7(), "entity": "lead", "record_id": lead, "base_version": 0,
                        "op": "upsert", "fields": common::stored_lead("苏州恒达")}),
            ],
        )
        .await;
        // As after an upgrade that added the table: the records are there,
        // the rows not.
        sqlx::query("DELETE FROM lead_rows")
            .execute(&app.db.pool)
            .await
            .unwrap();
        let filled = app::sync::store::fill_new_projections(&app.db, app::aggregates::ENTITIES)
            .await
            .unwrap();
        assert_eq!(filled, ["lead_rows"]);
        let (status, grade): (String, Option<String>) =
            sqlx::query_as("SELECT status, grade FROM lead_rows WHERE id = $1")
                .bind(lead.to_string())
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!((status.as_str(), grade.as_deref()), ("new", Some("B")));
        // Filled once: a projection with rows is left alone.
        assert!(
            app::sync::store::fill_new_projections(&app.db, app::aggregates::ENTITIES)
                .await
                .unwrap()
                .is_empty()
        );
    }
);
