//! Accounts, access and the lead slice through real HTTP, on both
//! databases. A lead is made, read and listed as a phone does: pushed from
//! its outbox, pulled, and read again through `sync/records`.

use crate::common;

use common::{add_lead, create, lead_companies, push_ok, stored_lead, Client, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

/// The status of one pushed mutation, and its refusal's error if any.
async fn push_one(client: &Client, mutation: serde_json::Value) -> (String, Option<String>) {
    let results = push_ok(client, vec![mutation]).await;
    (
        results[0]["status"].as_str().unwrap().to_owned(),
        results[0]["reason"]["error"].as_str().map(str::to_owned),
    )
}

// Every role against the lead: pulling, entering one, and reading rep1's
// by its id. Ownership and team both matter.
on_both_databases!(access_table_by_role_and_function, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let rep1_lead = Uuid::parse_str(&add_lead(&rep1, "苏州恒达精密机械有限公司").await).unwrap();

    // (user, may enter a lead, reads rep1's lead)
    let table: &[(&str, bool, bool)] = &[
        ("rep1", true, true),
        ("rep2", true, false),
        ("rep3", true, false),
        ("sup_a", true, true),
        ("sup_b", true, false),
        ("manager", true, true),
        ("gm", false, true),
        ("agent", false, false),
        ("service_sup", false, false),
        ("tech", false, false),
        ("finance", false, false),
        ("legal", false, false),
        ("admin", false, false),
    ];
    for (user, enters, reads) in table {
        let client = app.signed_in(user).await;
        let (status, refusal) =
            push_one(&client, create("lead", stored_lead(&format!("{user} 的客户")))).await;
        if *enters {
            assert_eq!(status, "applied", "{user} enters a lead");
        } else {
            assert_eq!(
                (status.as_str(), refusal.as_deref()),
                ("rejected", Some("forbidden")),
                "{user} enters a lead"
            );
        }
        // Out of scope answers exactly like missing: removed.
        let held = common::held(&client, "lead", rep1_lead).await;
        assert_eq!(
            held["kind"] == "upsert",
            *reads,
            "{user} reads rep1's lead: {held}"
        );
        let pulled = lead_companies(&client).await;
        assert_eq!(
            pulled.contains(&"苏州恒达精密机械有限公司".to_owned()),
            *reads,
            "{user} pulls it"
        );
    }

    // Without a session every function answers 401 and nothing changes.
    let before = app.count("records").await;
    let anonymous = app.anonymous();
    for (path, body) in [
        ("sync/pull", json!({"request": {"cursor": 0}})),
        (
            "sync/push",
            json!({"batch": {"client_id": Uuid::now_v7(), "mutations": [create("lead", stored_lead("匿名"))]}}),
        ),
        ("sync/records", json!({"entity": "lead", "ids": [rep1_lead]})),
    ] {
        let (status, body) = anonymous.call(path, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"], "unauthenticated");
    }
    assert_eq!(app.count("records").await, before);
});

on_both_databases!(each_role_lists_exactly_its_scope, |app: TestApp| async move {
    for (user, company) in [("rep1", "甲公司"), ("rep2", "乙公司"), ("rep3", "丙公司")] {
        add_lead(&app.signed_in(user).await, company).await;
    }
    let companies = |user: &'static str| {
        let app = &app;
        async move { lead_companies(&app.signed_in(user).await).await }
    };
    assert_eq!(companies("rep1").await, ["甲公司"]);
    assert_eq!(companies("rep3").await, ["丙公司"]);
    assert_eq!(companies("sup_a").await, ["乙公司", "甲公司"]);
    assert_eq!(companies("sup_b").await, ["丙公司"]);
    assert_eq!(companies("manager").await, ["丙公司", "乙公司", "甲公司"]);
    assert_eq!(companies("gm").await, ["丙公司", "乙公司", "甲公司"]);
});

on_both_databases!(
    a_rep_cannot_take_over_another_reps_lead_by_its_id,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let id = add_lead(&rep1, "甲公司").await;
        let rep2 = app.signed_in("rep2").await;
        // rep2's phone "creates" a lead under rep1's lead's id.
        let mut takeover = create("lead", stored_lead("乙改甲"));
        takeover["record_id"] = json!(id);
        let (status, refusal) = push_one(&rep2, takeover).await;
        assert_eq!(status, "rejected");
        // Answered as missing, not forbidden: its existence is not told.
        assert_eq!(refusal.as_deref(), Some("not_found"));
        let held = common::held(&rep1, "lead", Uuid::parse_str(&id).unwrap()).await;
        assert_eq!(held["fields"]["company"], "甲公司");
        assert_eq!(lead_companies(&rep2).await, Vec::<String>::new());
    }
);

on_both_databases!(a_retried_push_stores_the_lead_once, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let mutation = create("lead", stored_lead("重试公司"));
    let first = push_ok(&rep1, vec![mutation.clone()]).await;
    let second = push_ok(&rep1, vec![mutation]).await;
    assert_eq!(first[0]["status"], "applied");
    assert_eq!(second[0]["status"], "duplicate");
    assert_eq!(second[0]["original"], json!({"status": "applied", "version": 1}));
    assert_eq!(app.count("records").await, 1);
    assert_eq!(app.count("audit_log").await, 1);
});

on_both_databases!(a_new_lead_is_owned_and_traced, |app: TestApp| async move {
    let rep1 = app.signed_in("rep1").await;
    let mut fields = stored_lead("时区公司");
    fields["email"] = json!("wang@hengda.cn");
    fields["contacted_at"] = json!("2026-01-05T01:30:00Z");
    let id = Uuid::parse_str(create("lead", fields.clone())["record_id"].as_str().unwrap()).unwrap();
    let mut mutation = create("lead", fields);
    mutation["record_id"] = json!(id);
    assert_eq!(push_one(&rep1, mutation).await.0, "applied");
    let held = common::held(&rep1, "lead", id).await;
    assert_eq!(held["owner_id"], json!(app.users["rep1"]));
    assert_eq!(held["fields"]["contacted_at"], "2026-01-05T01:30:00Z");
    let (actor, action, before, after): (String, String, Option<String>, Option<String>) = sqlx::query_as(
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
});

on_both_databases!(
    invalid_leads_get_field_errors_and_change_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let mut fields = stored_lead("");
        fields["phone"] = json!("12345");
        fields["grade"] = json!("Z");
        fields["budget"] = json!("budget_plenty");
        fields["email"] = json!(" Wang@HengDa.cn ");
        let results = push_ok(&rep1, vec![create("lead", fields)]).await;
        let reason = &results[0]["reason"];
        assert_eq!(reason["error"], "invalid", "{results:?}");
        let problems: Vec<(String, String)> = reason["fields"]
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
                // Stored text is never empty: an empty company is refused
                // as one that was not trimmed to nothing.
                ("company".to_owned(), "untrimmed".to_owned()),
                ("phone".to_owned(), "invalid_phone".to_owned()),
                ("email".to_owned(), "untrimmed".to_owned()),
                // In the form's order: the screening answers, then the
                // grade they propose.
                ("budget".to_owned(), "invalid_choice".to_owned()),
                ("grade".to_owned(), "invalid_choice".to_owned()),
            ]
        );
        assert_eq!(app.count("records").await, 0);
        assert_eq!(app.count("audit_log").await, 0);
        // A lead with its factors answered is stored with them.
        let mut fields = stored_lead("评分测试公司");
        fields["industry_fit"] = json!("fit_high");
        fields["decision_chain"] = json!("chain_partial");
        let mutation = create("lead", fields);
        assert_eq!(push_one(&rep1, mutation.clone()).await.0, "applied");
        let id = Uuid::parse_str(mutation["record_id"].as_str().unwrap()).unwrap();
        let held = common::held(&rep1, "lead", id).await;
        assert_eq!(held["fields"]["industry_fit"], "fit_high");
        assert_eq!(held["fields"]["decision_chain"], "chain_partial");
    }
);

on_both_databases!(
    malformed_requests_are_refused_and_change_nothing,
    |app: TestApp| async move {
        let rep1 = app.signed_in("rep1").await;
        let batch = |mutation: serde_json::Value| {
            json!({"batch": {"client_id": Uuid::now_v7(), "mutations": [mutation]}}).to_string()
        };
        let mut unknown = create("lead", stored_lead("x"));
        unknown["owner_id"] = json!("me");
        let mut wrong_type = create("lead", stored_lead("x"));
        wrong_type["base_version"] = json!("one");
        let mut oversized = create("lead", stored_lead("x"));
        // Just over the test server's 256 KiB limit.
        oversized["fields"]["notes"] = json!("长".repeat(100 * 1024));
        let cases: Vec<(&str, String, u16)> = vec![
            ("not JSON", "{\"batch\": ".to_owned(), 400),
            ("unknown field", batch(unknown), 400),
            ("wrong type", batch(wrong_type), 400),
            ("missing argument", json!({}).to_string(), 400),
            ("oversized", batch(oversized), 413),
        ];
        for (what, body, expected) in cases {
            let (status, answer) = rep1.raw("sync/push", "application/json", body).await;
            assert_eq!(status.as_u16(), expected, "{what}: {answer}");
        }
        let (status, _) = rep1
            .raw(
                "sync/records",
                "application/json",
                json!({"entity": "lead", "ids": ["not-a-uuid"]}).to_string(),
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
            .post(format!("{}/api/sync/push", app.base))
            .header("origin", "http://evil.example")
            .json(&json!({"batch": {"client_id": Uuid::now_v7(), "mutations": [create("lead", stored_lead("跨站公司"))]}}))
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
        let (status, _) = client.call("sync/pull", json!({"request": {"cursor": 0}})).await;
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
