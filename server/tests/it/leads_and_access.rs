//! Accounts, access and the lead slice through real HTTP, on both databases.

use crate::common;

use common::{add_lead, lead_form, Client, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

// Every role against every lead server function: allowed or refused.
// `get_lead` reads rep1's lead, so ownership and team both matter.
on_both_databases!(access_table_by_role_and_function, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let rep1_lead = add_lead(&rep1, "苏州恒达精密机械有限公司").await;

    // (user, list_leads, add_lead, get_lead of rep1's lead)
    let table: &[(&str, u16, u16, u16)] = &[
        ("rep1", 200, 200, 200),
        ("rep2", 200, 200, 404),
        ("rep3", 200, 200, 404),
        ("sup_a", 200, 200, 200),
        ("sup_b", 200, 200, 404),
        ("manager", 200, 200, 200),
        ("gm", 200, 403, 200),
        ("agent", 403, 403, 404),
        ("service_sup", 403, 403, 404),
        ("tech", 403, 403, 404),
        ("finance", 403, 403, 404),
        ("legal", 403, 403, 404),
        ("admin", 403, 403, 404),
    ];
    for (user, list, add, get) in table {
        let client = app.signed_in(user).await;
        let (status, _) = client.call("leads/list", json!({})).await;
        assert_eq!(status.as_u16(), *list, "{user} list_leads");
        let (status, _) = client
            .call("leads/add", json!({"lead": lead_form(&format!("{user} 的客户"))}))
            .await;
        assert_eq!(status.as_u16(), *add, "{user} add_lead");
        let (status, _) = client.call("leads/get", json!({"id": rep1_lead})).await;
        assert_eq!(status.as_u16(), *get, "{user} get_lead");
    }

    // Without a session every function answers 401 and nothing changes.
    let before = app.count("records").await;
    let anonymous = app.anonymous();
    for (path, body) in [
        ("leads/list", json!({})),
        ("leads/add", json!({"lead": lead_form("匿名")})),
        ("leads/get", json!({"id": rep1_lead})),
    ] {
        let (status, body) = anonymous.call(path, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"], "unauthenticated");
    }
    assert_eq!(app.count("records").await, before);
});

async fn companies(client: &Client) -> Vec<String> {
    let (status, body) = client.call("leads/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut names: Vec<String> = body["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["company"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

on_both_databases!(each_role_lists_exactly_its_scope, |app: TestApp| async move {
    for (user, company) in [("rep1", "甲公司"), ("rep2", "乙公司"), ("rep3", "丙公司")] {
        add_lead(&app.signed_in(user).await, company).await;
    }
    assert_eq!(companies(&app.signed_in("rep1").await).await, ["甲公司"]);
    assert_eq!(companies(&app.signed_in("rep3").await).await, ["丙公司"]);
    assert_eq!(
        companies(&app.signed_in("sup_a").await).await,
        ["乙公司", "甲公司"]
    );
    assert_eq!(companies(&app.signed_in("sup_b").await).await, ["丙公司"]);
    assert_eq!(
        companies(&app.signed_in("manager").await).await,
        ["丙公司", "乙公司", "甲公司"]
    );
    assert_eq!(
        companies(&app.signed_in("gm").await).await,
        ["丙公司", "乙公司", "甲公司"]
    );
});

on_both_databases!(
    a_rep_cannot_take_over_another_reps_lead_by_its_id,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = add_lead(&rep1, "甲公司").await;
        let rep2 = app.signed_in("rep2").await;
        let mut form = lead_form("乙改甲");
        form["id"] = Value::String(id.clone());
        let (status, body) = rep2.call("leads/add", json!({"lead": form})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (_, lead) = rep1.call("leads/get", json!({"id": id})).await;
        assert_eq!(lead["company"], "甲公司");
        assert_eq!(companies(&rep2).await, Vec::<String>::new());
    }
);

on_both_databases!(a_retried_submit_stores_the_lead_once, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let mut form = lead_form("重试公司");
    form["id"] = json!(uuid::Uuid::now_v7());
    let (first, a) = rep1.call("leads/add", json!({"lead": form.clone()})).await;
    let (second, b) = rep1.call("leads/add", json!({"lead": form})).await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert_eq!(a, b);
    assert_eq!(app.count("records").await, 1);
    assert_eq!(app.count("audit_log").await, 1);
});

on_both_databases!(
    a_new_lead_is_stored_in_utc_and_traced,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let mut form = lead_form("时区公司");
        form["contacted_at"] = json!("2026-01-05T09:30");
        form["email"] = json!(" Wang@HengDa.cn ");
        form["phone"] = json!("+86 021-62345678");
        let (status, lead) = rep1.call("leads/add", json!({"lead": form})).await;
        assert_eq!(status, StatusCode::OK, "{lead}");
        // 09:30 in Shanghai is 01:30 UTC.
        assert_eq!(lead["contacted_at"], "2026-01-05T01:30:00Z");
        assert_eq!(lead["email"], "wang@hengda.cn");
        assert_eq!(lead["phone"], "021-62345678");
        assert_eq!(lead["owner_id"], json!(app.users["rep1"]));
        let (actor, action, before, after): (String, String, Option<String>, Option<String>) =
            sqlx::query_as(
                "SELECT actor_id, action, before_json, after_json FROM audit_log WHERE entity = 'lead'",
            )
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(
            (actor, action, before),
            (app.users["rep1"].to_string(), "create".to_owned(), None)
        );
        // The trail holds the whole new record.
        let after: serde_json::Value = serde_json::from_str(&after.unwrap()).unwrap();
        assert_eq!(after["email"], "wang@hengda.cn");
        assert_eq!(after["contacted_at"], "2026-01-05T01:30:00Z");
    }
);

on_both_databases!(
    invalid_leads_get_field_errors_and_change_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let mut form = lead_form("");
        form["phone"] = json!("12345");
        form["grade"] = json!("Z");
        form["budget"] = json!("budget_plenty");
        let (status, body) = rep1.call("leads/add", json!({"lead": form})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"], "invalid");
        let problems: Vec<(String, String)> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["field"].as_str().unwrap().to_owned(),
                    f["problem"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            problems,
            [
                ("company".to_owned(), "required".to_owned()),
                ("phone".to_owned(), "invalid_phone".to_owned()),
                ("grade".to_owned(), "invalid_choice".to_owned()),
                ("budget".to_owned(), "invalid_choice".to_owned()),
            ]
        );
        assert_eq!(app.count("records").await, 0);
        assert_eq!(app.count("audit_log").await, 0);
        // The same answer pushed as a stored lead is refused too; a lead
        // with its factors answered is stored with them.
        let mut stored = common::stored_lead("评分测试公司");
        stored["budget"] = json!("budget_plenty");
        let refused = common::push_ok(
            &rep1,
            vec![
                json!({"id": uuid::Uuid::now_v7(), "entity": "lead", "record_id": uuid::Uuid::now_v7(),
                        "base_version": 0, "op": "upsert", "fields": stored.clone()}),
            ],
        )
        .await;
        assert_eq!(refused[0]["reason"]["error"], "invalid", "{refused:?}");
        let mut form = lead_form("评分测试公司");
        form["industry_fit"] = json!("fit_high");
        form["decision_chain"] = json!("chain_partial");
        let (status, body) = rep1.call("leads/add", json!({"lead": form})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
        let held = common::held(&rep1, "lead", id).await;
        assert_eq!(held["fields"]["industry_fit"], "fit_high");
        assert_eq!(held["fields"]["decision_chain"], "chain_partial");
    }
);

on_both_databases!(
    malformed_requests_are_refused_and_change_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let cases: Vec<(&str, String, u16)> = vec![
            ("not JSON", "{\"lead\": ".to_owned(), 400),
            (
                "unknown field",
                json!({"lead": {"company": "x", "owner_id": "me"}}).to_string(),
                400,
            ),
            ("wrong type", json!({"lead": {"company": 42}}).to_string(), 400),
            ("missing argument", json!({}).to_string(), 400),
            (
                "oversized",
                json!({"lead": {"notes": "长".repeat(100 * 1024)}}).to_string(),
                413,
            ),
        ];
        for (what, body, expected) in cases {
            let (status, answer) = rep1.raw("leads/add", "application/json", body).await;
            assert_eq!(status.as_u16(), expected, "{what}: {answer}");
        }
        let (status, _) = rep1
            .raw(
                "leads/get",
                "application/json",
                json!({"id": "not-a-uuid"}).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = rep1.raw("leads/nope", "application/json", "{}").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.count("records").await, 0);
    }
);

on_both_databases!(
    state_changes_from_another_origin_are_refused,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let response = rep1
            .http
            .post(format!("{}/api/leads/add", app.base))
            .header("origin", "http://evil.example")
            .json(&json!({"lead": lead_form("跨站公司")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.count("records").await, 0);
    }
);

on_both_databases!(
    sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session,
    |app: TestApp| async move {
        let client = app.anonymous();
        let response = client
            .http
            .post(format!("{}/api/auth/login", app.base))
            .header("origin", &app.base)
            .json(&json!({"username": "rep1", "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("fb_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let (_, me) = client.call("auth/me", json!({})).await;
        assert_eq!(me["username"], "rep1");
        assert_eq!(me["role"], "rep");
        let (status, _) = client.call("auth/logout", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.count("sessions").await, 0);
        let (status, _) = client.call("leads/list", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

on_both_databases!(
    repeated_sign_in_failures_are_rate_limited,
    |app: TestApp| async move {
        let client = app.anonymous();
        for _ in 0..5 {
            let (status, body) = client
                .call("auth/login", json!({"username": "rep1", "password": "guess"}))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"], "bad_credentials");
        }
        let (status, body) = client
            .call(
                "auth/login",
                json!({"username": "rep1", "password": common::PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(body["retry_after_secs"].as_u64().unwrap() > 0);
        // Another user is not locked out by rep1's failures.
        app.signed_in("rep2").await;
        // Unknown users fail the same way as wrong passwords.
        let (status, body) = client
            .call("auth/login", json!({"username": "nobody", "password": "x"}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
    }
);

on_both_databases!(
    pages_render_for_the_signed_in_user_only,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        add_lead(&rep1, "页面公司").await;
        add_lead(&app.signed_in("rep2").await, "别人的公司").await;
        let html = rep1.page("/").await;
        // Lists render in the browser from its local store (the same page
        // online and offline): no record is in the server's HTML.
        assert!(
            !html.contains("页面公司") && !html.contains("别人的公司"),
            "records never reach the server-rendered page"
        );
        assert!(html.contains("线索"), "Chinese by default");
        let english = common::http()
            .build()
            .unwrap()
            .get(format!("{}/login", app.base))
            .header("cookie", "fb_lang=en")
            .send()
            .await
            .unwrap();
        let english = english.text().await.unwrap();
        assert!(
            english.contains("Sign in") && !english.contains("登录"),
            "English when chosen"
        );
        let health = app.anonymous().get("/healthz").await;
        assert_eq!(health.status(), StatusCode::OK);
        assert!(health.headers().contains_key("x-request-id"));
    }
);
