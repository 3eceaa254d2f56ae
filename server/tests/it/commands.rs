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

fn patch(entity: &str, record_id: Uuid, base_version: i64, fields: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "entity": entity, "record_id": record_id,
        "base_version": base_version, "op": "upsert", "fields": fields,
    })
}

on_both_databases!(
    an_application_under_review_and_a_closed_ticket_refuse_edits_until_their_state_allows,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let sup_a = app.signed_in("sup_a").await;
        // A draft application is edited; once submitted it is not, nor
        // deleted, until the approver has decided.
        let id = Uuid::now_v7();
        push(
            &rep1,
            vec![json!({
                "id": Uuid::now_v7(), "entity": "customer", "record_id": id,
                "base_version": 0, "op": "upsert",
                "fields": {
                    "company": "苏州恒达精密机械有限公司", "payment_method": "transfer",
                    "credit_rating": "credit_good",
                },
            })],
        )
        .await;
        let draft_edit = push(&rep1, vec![patch("customer", id, 1, json!({"region": "华东"}))]).await;
        assert_eq!(draft_edit[0]["status"], "applied", "{draft_edit:?}");
        push(&rep1, vec![common::command("customer", id, "submit", json!({}))]).await;
        let version = held(&rep1, "customer", id).await["version"].as_i64().unwrap();
        let under_review = json!({"error": "refused", "code": "customer_under_review"});
        let edit = push(
            &rep1,
            vec![patch("customer", id, version, json!({"capital": "1.00"}))],
        )
        .await;
        assert_eq!(edit[0]["reason"], under_review);
        let delete = json!({
            "id": Uuid::now_v7(), "entity": "customer", "record_id": id,
            "base_version": version, "op": "delete",
        });
        assert_eq!(push(&rep1, vec![delete]).await[0]["reason"], under_review);
        let stored = held(&rep1, "customer", id).await;
        assert_eq!(stored["version"], version);
        assert!(stored["fields"].get("capital").is_none(), "{stored}");
        // Rejected, it is mended.
        push(
            &sup_a,
            vec![common::command(
                "customer",
                id,
                "reject",
                json!({"comment": "注册资本未填"}),
            )],
        )
        .await;
        let version = held(&rep1, "customer", id).await["version"].as_i64().unwrap();
        let mended = push(
            &rep1,
            vec![patch("customer", id, version, json!({"capital": "5000000.00"}))],
        )
        .await;
        assert_eq!(mended[0]["status"], "applied", "{mended:?}");

        // A closed ticket is reopened before it changes.
        let agent1 = app.signed_in("agent").await;
        let ticket = Uuid::now_v7();
        push(
            &agent1,
            vec![json!({
                "id": Uuid::now_v7(), "entity": "ticket", "record_id": ticket,
                "base_version": 0, "op": "upsert",
                "fields": {
                    "customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
                    "description": "叉车液压系统漏油",
                    "opened_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
            })],
        )
        .await;
        push(
            &agent1,
            vec![common::command("ticket", ticket, "resolve", json!({}))],
        )
        .await;
        push(
            &agent1,
            vec![common::command("ticket", ticket, "close", json!({"rating": "5"}))],
        )
        .await;
        let version = held(&agent1, "ticket", ticket).await["version"].as_i64().unwrap();
        let late = push(
            &agent1,
            vec![patch("ticket", ticket, version, json!({"description": "改写"}))],
        )
        .await;
        assert_eq!(
            late[0]["reason"],
            json!({"error": "refused", "code": "ticket_closed"})
        );
        push(
            &agent1,
            vec![common::command("ticket", ticket, "reopen", json!({}))],
        )
        .await;
        let version = held(&agent1, "ticket", ticket).await["version"].as_i64().unwrap();
        let reopened = push(
            &agent1,
            vec![patch(
                "ticket",
                ticket,
                version,
                json!({"description": "液压泵更换"}),
            )],
        )
        .await;
        assert_eq!(reopened[0]["status"], "applied", "{reopened:?}");
        assert_eq!(
            held(&agent1, "ticket", ticket).await["fields"]["description"],
            "液压泵更换"
        );
    }
);

/// A service ticket the desk (`agent`) has opened for 宁波远航物流.
async fn open_ticket(agent: &common::Client) -> Uuid {
    let ticket = Uuid::now_v7();
    let opened = json!({
        "id": Uuid::now_v7(), "entity": "ticket", "record_id": ticket, "base_version": 0, "op": "upsert",
        "fields": {"customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "consultation",
                   "description": "设备保养周期咨询", "opened_at": "2026-12-01T01:00:00Z"},
    });
    common::push_ok(agent, vec![opened]).await;
    ticket
}

/// Dispatches and resolves `ticket`, sends its survey, and returns the
/// link's token.
async fn resolve_and_send_survey(app: &TestApp, agent: &common::Client, ticket: Uuid) -> String {
    let dispatched = common::push_ok(agent, vec![common::dispatch(ticket, app.users["tech"])]).await;
    assert_eq!(dispatched[0]["status"], "applied", "{dispatched:?}");
    common::push_ok(
        agent,
        vec![common::command("ticket", ticket, "resolve", json!({}))],
    )
    .await;
    let sent = common::push_ok(
        agent,
        vec![common::command("ticket", ticket, "send_survey", json!({}))],
    )
    .await;
    assert_eq!(sent[0]["status"], "applied", "{sent:?}");
    let held = common::held(agent, "ticket", ticket).await;
    let token = held["fields"]["survey_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32, "the server made it: {held}");
    token
}

on_both_databases!(
    a_survey_link_needs_no_account_and_works_once,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent).await;
        // Not before it is resolved.
        let early = common::push_ok(
            &agent,
            vec![common::command("ticket", ticket, "send_survey", json!({}))],
        )
        .await;
        assert_eq!(early[0]["reason"]["code"], "survey_not_served");
        let token = resolve_and_send_survey(&app, &agent, ticket).await;
        // The secret is the desk's: the technician who did the work reads
        // the ticket without it, in a pull, a fetch and the history alike.
        let tech = app.signed_in("tech").await;
        let pulled = common::pull_all(&tech).await;
        let theirs = pulled
            .iter()
            .find(|c| c["id"] == json!(ticket))
            .expect("the technician's ticket");
        assert_eq!(theirs["fields"]["status"], "resolved", "{theirs}");
        assert!(theirs["fields"].get("survey_token").is_none(), "{theirs}");
        assert!(common::held(&tech, "ticket", ticket).await["fields"]
            .get("survey_token")
            .is_none());
        let (status, history) = tech
            .call("sync/history", json!({"entity": "ticket", "id": ticket}))
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        assert!(!history.to_string().contains(&token), "{history}");
        let supervisor = app.signed_in("service_sup").await;
        assert_eq!(
            common::held(&supervisor, "ticket", ticket).await["fields"]["survey_token"],
            json!(token)
        );

        // Whoever holds the link, without an account.
        let customer = app.anonymous();
        let (status, invite) = customer.call("survey/show", json!({"token": token})).await;
        assert_eq!(status, StatusCode::OK, "{invite}");
        assert_eq!(invite["customer_name"], "宁波远航物流");
        let answers = json!({"survey_speed": "5", "survey_attitude": "5", "survey_result": "4", "survey_comment": "很及时"});
        let (status, body) = customer
            .call(
                "survey/answer",
                json!({"token": token, "answers": {"survey_speed": "9"}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a score of 9: {body}");
        let (status, body) = customer
            .call("survey/answer", json!({"token": token, "answers": answers}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Once: the link is spent.
        let (status, _) = customer
            .call("survey/answer", json!({"token": token, "answers": answers}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = customer.call("survey/show", json!({"token": token})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = customer
            .call(
                "survey/show",
                json!({"token": "0123456789abcdef0123456789abcdef"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let held = common::held(&agent, "ticket", ticket).await;
        assert_eq!(held["fields"]["survey_speed"], "5");
        assert_eq!(held["fields"]["survey_comment"], "很及时");
        assert_eq!(held["fields"]["survey_answered_by"], "customer");
        assert!(held["fields"]["survey_token"].is_null());
        // The desk cannot send it again, nor record another answer.
        let again = common::push_ok(
            &agent,
            vec![common::command("ticket", ticket, "send_survey", json!({}))],
        )
        .await;
        assert_eq!(again[0]["reason"]["code"], "survey_used");
        // A signed-in user pushing a token is no link.
        let forged = common::push_ok(
            &agent,
            vec![common::command(
                "ticket",
                ticket,
                "answer_survey",
                json!({"survey_token": token}),
            )],
        )
        .await;
        assert_eq!(forged[0]["reason"]["code"], "survey_used");
    }
);

on_both_databases!(
    the_survey_page_works_without_script_and_its_form_posts_the_answer,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ticket = open_ticket(&agent).await;
        let token = resolve_and_send_survey(&app, &agent, ticket).await;
        let page_path = format!("/survey/{token}");

        // The server renders the whole page, the invite and the form,
        // without the app's script: a customer's one visit on a weak signal.
        let customer = app.anonymous();
        let page = customer.page(&page_path).await;
        assert!(!page.contains("type=\"module\""), "no app script: {page}");
        assert!(
            !page.contains("rel=\"prefetch\""),
            "nothing follows a survey: {page}"
        );
        assert!(page.contains("<script src=\"/plain-page.js\" defer>"), "{page}");
        // In the document itself, not streamed after it for a script to
        // move into place: it works with no script at all.
        let (document, _) = page.split_once("</html>").expect("a whole document");
        assert!(!page.contains("<template"), "{page}");
        assert!(document.contains("宁波远航物流 · 设备保养周期咨询"), "{page}");
        assert!(
            document.contains(&format!("method=\"post\" action=\"{page_path}\"")),
            "{page}"
        );
        // Every score must be chosen before the browser sends the form.
        let selects: Vec<&str> = document
            .split("<select")
            .skip(1)
            .map(|rest| rest.split_once('>').unwrap().0)
            .collect();
        assert_eq!(selects.len(), 3, "{page}");
        assert!(selects.iter().all(|tag| tag.contains("required")), "{selects:?}");

        // The form's post: answered with a redirect back to the page.
        let browser = common::http()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let post = |form: &'static str| {
            browser
                .post(format!("{}{page_path}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
        };
        let location = |answer: &reqwest::Response| answer.headers()["location"].to_str().unwrap().to_owned();
        // A score out of range is refused, in the page's words, and
        // changes nothing.
        let refused = post("survey_speed=9&survey_attitude=5&survey_result=4")
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::SEE_OTHER);
        let back = location(&refused);
        assert!(back.starts_with(&format!("{page_path}?error=")), "{back}");
        let shown = customer.page(&back).await;
        let alert = shown
            .split_once("data-testid=\"survey-refused\"")
            .and_then(|(_, rest)| rest.split_once('>'))
            .and_then(|(_, rest)| rest.split_once("</p>"))
            .map(|(alert, _)| alert)
            .unwrap_or_else(|| panic!("the refusal is shown: {shown}"));
        assert!(alert.contains("响应速度"), "the field in words: {alert}");
        assert!(common::held(&agent, "ticket", ticket).await["fields"]
            .get("survey_speed")
            .is_none());

        let answered = post(
            "survey_speed=5&survey_attitude=4&survey_result=5&survey_comment=%E5%BE%88%E5%8F%8A%E6%97%B6&survey_token=forged&status=closed",
        )
        .await
        .unwrap();
        assert_eq!(answered.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&answered), format!("{page_path}?answered"));
        let thanks = customer.page(&location(&answered)).await;
        assert!(thanks.contains("data-testid=\"survey-thanks\""), "{thanks}");
        let held = common::held(&agent, "ticket", ticket).await;
        assert_eq!(
            (
                &held["fields"]["survey_speed"],
                &held["fields"]["survey_comment"],
                &held["fields"]["survey_answered_by"],
                &held["fields"]["status"],
            ),
            (
                &json!("5"),
                &json!("很及时"),
                &json!("customer"),
                &json!("resolved")
            ),
            "only the form's answers, from the link's holder: {held}"
        );

        // Nothing but a token's shape goes back into an address: a forged
        // one is not found, and redirected nowhere.
        for forged in [
            "abc%0D%0ALocation:%20https://evil.example",
            "%2F%2Fevil.example",
            "0123",
        ] {
            let answer = browser
                .post(format!("{}/survey/{forged}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("survey_speed=5")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{forged}");
            assert!(answer.headers().get("location").is_none(), "{forged}");
        }

        // Once: the spent link says so.
        let again = post("survey_speed=1&survey_attitude=1&survey_result=1")
            .await
            .unwrap();
        let back = location(&again);
        assert!(back.starts_with(&format!("{page_path}?error=")), "{back}");
        assert!(customer
            .page(&page_path)
            .await
            .contains("data-testid=\"survey-gone\""));
        assert_eq!(
            common::held(&agent, "ticket", ticket).await["fields"]["survey_speed"],
            "5"
        );
    }
);
