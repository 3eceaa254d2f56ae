//! Holes found by probing the running server as an insider would: replays
//! that returned another user's record, references to records one may not
//! see, stored values that broke every reader, lengths checked on one text
//! and another stored, and pull pages that did not do what docs/sync.md
//! says. Real HTTP, on SQLite and PostgreSQL.

use crate::common;

use common::{push_ok, stored_lead, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

fn upsert(entity: &str, record_id: Uuid, base_version: i64, fields: Value) -> Value {
    json!({
        "id": Uuid::new_v4(), "entity": entity, "record_id": record_id,
        "base_version": base_version, "op": "upsert", "fields": fields,
    })
}

fn visit(lead_id: Option<Uuid>) -> Value {
    let mut fields = json!({
        "customer_name": "苏州恒达精密机械有限公司",
        "visited_at": "2026-11-20T02:00:00Z",
        "purpose": "了解产线改造需求",
    });
    if let Some(lead) = lead_id {
        fields["lead_id"] = json!(lead);
    }
    fields
}

async fn pull(client: &Client, cursor: i64, limit: usize) -> (StatusCode, Value) {
    client
        .call(
            "sync/pull",
            json!({"request": {"cursor": cursor, "limit": limit}}),
        )
        .await
}

// A mutation id is only ever a duplicate of the same user's own mutation,
// and every answer that carries a record asks the policy: replaying an id
// never hands over another user's lead.
on_both_databases!(
    a_replayed_id_never_returns_a_record_out_of_scope,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let victim = Uuid::now_v7();
        // rep1's device made the lead with a mutation id unlike its record id.
        push_ok(&rep1, vec![upsert("lead", victim, 0, stored_lead("机密客户"))]).await;
        for attacker in ["rep3", "tech", "rep2"] {
            let client = app.signed_in(attacker).await;
            // The attacker's own mutation, whose id is the victim's record id
            // (a visit or a lead of their own, whatever they may make)...
            let own = if attacker == "tech" {
                json!({"id": victim, "entity": "ticket", "record_id": Uuid::now_v7(), "base_version": 0,
                   "op": "upsert", "fields": {"customer_name": "宁波远航", "channel": "hotline",
                   "ticket_type": "repair", "description": "漏油", "opened_at": "2026-11-24T01:00:00Z"}})
            } else {
                json!({"id": victim, "entity": "lead", "record_id": Uuid::now_v7(), "base_version": 0,
                   "op": "upsert", "fields": stored_lead(&format!("{attacker} 的线索"))})
            };
            let (status, _) = client
                .call(
                    "sync/push",
                    json!({"batch": {"client_id": Uuid::new_v4(), "mutations": [own]}}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            // ...then a "retry" that makes the victim's id a lead of theirs,
            // and a read of it: both answer as if it did not exist.
            let retry = json!({"id": victim, "entity": "lead", "record_id": victim, "base_version": 0,
                "op": "upsert", "fields": stored_lead("随便")});
            // (The id is the attacker's own earlier mutation's: a duplicate
            // of that, which carries no record, or refused as missing.)
            let results = push_ok(&client, vec![retry]).await;
            assert!(
                ["duplicate", "rejected"].contains(&results[0]["status"].as_str().unwrap()),
                "{attacker}: {results:?}"
            );
            let body = json!([results, common::held(&client, "lead", victim).await]);
            assert_eq!(body[1]["kind"], "removed", "{attacker}: {body}");
            assert!(!body.to_string().contains("机密客户"), "{attacker} read {body}");
        }
        // Someone else's mutation, replayed whole (its id and its record's),
        // is no duplicate of it: it answers like a missing record, revealing
        // nothing.
        let rep2 = app.signed_in("rep2").await;
        let mine = upsert("lead", Uuid::now_v7(), 0, stored_lead("乙"));
        push_ok(&rep1, vec![mine.clone()]).await;
        let results = push_ok(&rep2, vec![mine]).await;
        assert_eq!(
            (&results[0]["status"], &results[0]["reason"]["error"]),
            (&json!("rejected"), &json!("not_found")),
            "{results:?}"
        );
        assert!(!json!(results).to_string().contains("乙"));
    }
);

// A reference must name a record the writer may see; one out of scope is
// refused exactly like one that does not exist.
on_both_databases!(
    a_reference_must_name_a_record_the_writer_may_see,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let rep3 = app.signed_in("rep3").await;
        let theirs = Uuid::now_v7();
        push_ok(&rep1, vec![upsert("lead", theirs, 0, stored_lead("甲的线索"))]).await;
        let mine = Uuid::now_v7();
        let missing = Uuid::now_v7();
        let visits: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let results = push_ok(
            &rep3,
            vec![
                upsert("visit", visits[0], 0, visit(Some(theirs))),
                upsert("visit", visits[1], 0, visit(Some(missing))),
                // A lead made earlier in the same batch is seen.
                upsert("lead", mine, 0, stored_lead("丙的线索")),
                upsert("visit", visits[2], 0, visit(Some(mine))),
                upsert("visit", visits[3], 0, visit(None)),
            ],
        )
        .await;
        let answers: Vec<Value> = results
            .iter()
            .map(|r| json!([r["status"], r["reason"]["fields"]]))
            .collect();
        let unknown = json!([{"field": "lead_id", "problem": "unknown_reference"}]);
        assert_eq!(
            answers,
            [
                json!(["rejected", unknown]),
                json!(["rejected", unknown]),
                json!(["applied", null]),
                json!(["applied", null]),
                json!(["applied", null]),
            ]
        );
        // Pointing an existing visit at someone else's lead is refused alike.
        let results = push_ok(
            &rep3,
            vec![upsert("visit", visits[3], 1, json!({"lead_id": theirs}))],
        )
        .await;
        assert_eq!(results[0]["reason"]["fields"], unknown);
        // rep1's supervisor may see the lead: a visit of hers may name it.
        let sup = app.signed_in("sup_a").await;
        let results = push_ok(
            &sup,
            vec![upsert("visit", Uuid::now_v7(), 0, visit(Some(theirs)))],
        )
        .await;
        assert_eq!(results[0]["status"], "applied", "{results:?}");
    }
);

// What the check lets in, every reader reads; and one unreadable record
// never takes a whole list down.
on_both_databases!(
    stored_values_that_readers_cannot_read_are_refused,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        for (field, value) in [
            ("status", json!("")),
            ("next_step_date", json!("")),
            ("last_follow_up_at", json!(" ")),
            ("notes", json!("")),
        ] {
            let mut fields = stored_lead("坏数据公司");
            fields[field] = value.clone();
            let results = push_ok(&rep1, vec![upsert("lead", Uuid::now_v7(), 0, fields)]).await;
            assert_eq!(results[0]["status"], "rejected", "{field} = {value}");
            assert_eq!(results[0]["reason"]["fields"][0]["field"], field);
        }
        // Nothing of them was stored; the good lead lists for every reader.
        let good = Uuid::now_v7();
        push_ok(&rep1, vec![upsert("lead", good, 0, stored_lead("好数据公司"))]).await;
        // A record the check would refuse, written before the check was
        // tightened (here: by hand), is left out of lists, not fatal to them.
        let bad = Uuid::now_v7();
        push_ok(&rep1, vec![upsert("lead", bad, 0, stored_lead("旧数据公司"))]).await;
        let mut broken = stored_lead("旧数据公司");
        broken["next_step_date"] = json!("");
        sqlx::query("UPDATE records SET data = $1 WHERE id = $2")
            .bind(broken.to_string())
            .bind(bad.to_string())
            .execute(&app.db.pool)
            .await
            .unwrap();
        // Every reader still pulls the whole list (the phone's list shows
        // what it can of the old record, which no longer stops the rest).
        for user in ["rep1", "sup_a", "manager", "gm"] {
            let companies = common::lead_companies(&app.signed_in(user).await).await;
            assert_eq!(companies, ["好数据公司", "旧数据公司"], "{user}");
        }
    }
);

// A length is checked on what is stored: spaces around a text are no way
// past it, and what is stored is exactly what was checked.
on_both_databases!(
    lengths_cannot_be_bypassed_with_spaces,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let padded = format!("{}苏州{}", " ".repeat(100_000), " ".repeat(100_000));
        let mut fields = stored_lead("x");
        fields["company"] = json!(padded);
        let results = push_ok(&rep1, vec![upsert("lead", Uuid::now_v7(), 0, fields)]).await;
        assert_eq!(results[0]["status"], "rejected");
        assert_eq!(results[0]["reason"]["fields"][0]["problem"], "untrimmed");
        assert_eq!(app.count("records").await, 0);
        // What passed the check is stored exactly (a form trims what was
        // typed before it is checked: `leads::tests`).
        let mut fields = stored_lead("苏州恒达");
        fields["notes"] = json!("下周回访");
        let results = push_ok(&rep1, vec![upsert("lead", Uuid::now_v7(), 0, fields)]).await;
        assert_eq!(results[0]["status"], "applied");
        let (data,): (String,) = sqlx::query_as("SELECT data FROM records")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        let stored: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(
            (&stored["company"], &stored["notes"]),
            (&json!("苏州恒达"), &json!("下周回访"))
        );
    }
);

// A pull page holds at most `limit` records of all entities together, a
// cursor the server never gave is refused, and a conflict shows the
// record's value now.
on_both_databases!(
    pull_pages_and_conflicts_do_what_the_docs_say,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let mut mutations = Vec::new();
        for n in 0..5 {
            mutations.push(upsert(
                "lead",
                Uuid::now_v7(),
                0,
                stored_lead(&format!("线索{n}")),
            ));
            mutations.push(upsert("visit", Uuid::now_v7(), 0, visit(None)));
        }
        push_ok(&rep1, mutations).await;
        let mut cursor = 0;
        let mut seen = Vec::new();
        loop {
            let (status, page) = pull(&rep1, cursor, 3).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let changes = page["changes"].as_array().unwrap();
            assert!(changes.len() <= 3, "a page of {} with limit 3", changes.len());
            seen.extend(changes.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
            cursor = page["cursor"].as_i64().unwrap();
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 10);
        let (status, body) = pull(&rep1, cursor + 1000, 100).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(
            (&body["error"], &body["head"]),
            (&json!("cursor_ahead"), &json!(cursor))
        );

        // A conflict's `current` is what the record holds now.
        let id = Uuid::now_v7();
        push_ok(&rep1, vec![upsert("lead", id, 0, stored_lead("冲突公司"))]).await;
        push_ok(&rep1, vec![upsert("lead", id, 1, json!({"notes": "电脑上写的"}))]).await;
        push_ok(&rep1, vec![upsert("lead", id, 1, json!({"notes": "手机上写的"}))]).await;
        push_ok(&rep1, vec![upsert("lead", id, 3, json!({"notes": "后来又改了"}))]).await;
        let (_, open) = rep1.call("sync/conflicts", json!({})).await;
        assert_eq!(
            (&open[0]["current"], &open[0]["overwritten"]),
            (&json!("后来又改了"), &json!("电脑上写的"))
        );
    }
);

async fn sign_in(client: &Client, username: &str, password: &str) -> (StatusCode, Value) {
    client
        .call("auth/login", json!({"username": username, "password": password}))
        .await
}

// Wrong passwords slow down whoever sends them: a stranger's failures never
// keep the account's owner out, while one address guessing across many
// accounts is slowed and then stopped.
on_both_databases!(
    wrong_passwords_slow_their_sender_not_the_owner,
    |app: TestApp| async move {
        let stranger = app.anonymous_from("127.0.0.2");
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(sign_in(&stranger, "rep1", "guess").await.0.as_u16());
        }
        assert_eq!(answers, [401, 401, 401, 401, 401, 429, 429, 429]);
        // The stranger waits, correct password or not.
        let (status, body) = sign_in(&stranger, "rep1", common::PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(body["retry_after_secs"].as_u64().unwrap() >= 1);
        // rep1, from elsewhere, signs in with the right password at once.
        let owner = app.anonymous_from("127.0.0.1");
        let (status, body) = sign_in(&owner, "rep1", common::PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // One address trying one password on many accounts: after 20 it waits,
        // and the wait grows.
        let sprayer = app.anonymous_from("127.0.0.3");
        let mut refused_at = None;
        for n in 0..24 {
            let (status, _) = sign_in(&sprayer, &format!("user{n}"), "123456").await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                refused_at = Some(n);
                break;
            }
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(refused_at, Some(20));
        let (status, body) = sign_in(&sprayer, "rep2", common::PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        // Everyone else is untouched.
        let (status, _) = sign_in(&app.anonymous_from("127.0.0.4"), "rep2", common::PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
    }
);

// The sign-in form works before the page's script has run: a plain post,
// answered with a redirect; the password never appears in a URL.
on_both_databases!(the_sign_in_form_posts_without_script, |app: TestApp| async move {
    let browser = app.anonymous_from("127.0.0.5");
    let post = |form: &'static [(&'static str, &'static str)]| {
        browser
            .http
            .post(format!("{}/login", browser.base))
            .header("origin", &browser.base)
            .form(form)
            .send()
    };
    let wrong = post(&[("username", "rep1"), ("password", "nope")]).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    assert_eq!(wrong.headers()["location"], "/login?error=bad_credentials");
    let right = post(&[("username", "rep1"), ("password", common::PASSWORD)])
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.headers()["location"], "/");
    let (status, me) = browser.call("auth/me", json!({})).await;
    assert_eq!((status, &me["username"]), (StatusCode::OK, &json!("rep1")));
});

// Only the public URL is answered; a change must come from its origin, as
// JSON; every answer carries the usual headers; a client's request id is
// echoed only when it is one.
on_both_databases!(
    foreign_hosts_origins_and_bodies_are_refused,
    |app: TestApp| async move {
        let http = common::http().build().unwrap();
        let push = format!("{}/api/sync/push", app.base);
        let body = json!({"batch": {"client_id": Uuid::new_v4(), "mutations": []}}).to_string();
        // DNS rebinding: a forged Host with a matching Origin.
        let rebound = http
            .post(&push)
            .header("host", "evil.example")
            .header("origin", "http://evil.example")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(rebound.status(), StatusCode::BAD_REQUEST);
        // The right host, with another scheme in the Origin.
        let https_origin = app.base.replace("http://", "https://");
        let other_scheme = http
            .post(&push)
            .header("origin", https_origin)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(other_scheme.status(), StatusCode::FORBIDDEN);
        // text/plain needs no preflight: never accepted, Origin or not.
        let plain = http
            .post(format!("{}/api/auth/login", app.base))
            .header("content-type", "text/plain")
            .body(json!({"username": "rep1", "password": common::PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
        let page = http
            .get(format!("{}/login", app.base))
            .header("x-request-id", "forged<script>")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let headers = page.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        let id = headers["x-request-id"].to_str().unwrap();
        assert!(Uuid::parse_str(id).is_ok(), "{id}");
        let mine = Uuid::new_v4().to_string();
        let echoed = http
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", &mine)
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], mine.as_str());
    }
);
