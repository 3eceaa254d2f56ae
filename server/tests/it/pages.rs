//! Server-rendered pages under load: every page finishes its answer.

use crate::common::{self, TestApp};
use reqwest::StatusCode;
use std::time::Duration;

/// Every route of the app, with ids that need not exist (a record's page
/// renders from the device's store, the server's HTML is the same).
fn every_page() -> Vec<String> {
    let id = uuid::Uuid::now_v7();
    let mut pages: Vec<String> = [
        "/",
        "/leads/new",
        "/login",
        "/settings",
        "/visits",
        "/visits/new",
        "/tickets",
        "/tickets/new",
        "/customers",
        "/customers/new",
        "/service-board",
        "/follow-ups",
        "/follow-ups/new",
        "/conflicts",
        "/notifications",
        "/no-such-page",
    ]
    .map(String::from)
    .to_vec();
    for kind in [
        "leads",
        "tickets",
        "visits",
        "customers",
        "follow-ups",
        "company-settings",
    ] {
        pages.push(format!("/{kind}/{id}"));
        pages.push(format!("/{kind}/{id}/edit"));
    }
    pages.push(format!("/survey/{}", "a".repeat(43)));
    pages
}

// A page render holds values that may be dropped only on the thread that
// made them, and Leptos's suspense bookkeeping has had races across
// threads that left an answer unended; one page of a signed-in rep never
// ended in CI. Many renders at once, for every role's pages, must each end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_finishes_its_answer_under_load() {
    let app = TestApp::spawn(common::Backend::Sqlite).await;
    let mut readers = vec![app.anonymous()];
    for user in ["rep1", "sup_a", "agent", "tech", "service_sup", "admin"] {
        readers.push(app.signed_in(user).await);
    }
    let pages = every_page();
    // Two readers' pages at once (some sixty renders): enough to interleave
    // them on every thread, not so many that a loaded machine times out.
    for (round, readers) in readers.chunks(2).cycle().take(6).enumerate() {
        let mut renders = tokio::task::JoinSet::new();
        for reader in readers {
            for page in &pages {
                let (reader, page) = (reader.clone(), page.clone());
                renders.spawn(async move {
                    let answer = tokio::time::timeout(Duration::from_secs(100), async {
                        let response = reader.get(&page).await;
                        let status = response.status();
                        (status, response.text().await)
                    })
                    .await;
                    (page, answer)
                });
            }
        }
        while let Some(done) = renders.join_next().await {
            let (page, answer) = done.unwrap();
            let Ok((status, body)) = answer else {
                panic!("round {round}: {page} did not finish within 100 s");
            };
            let body = body.unwrap_or_else(|e| panic!("round {round}: {page} was cut: {e}"));
            assert!(
                status.is_success() || status.is_redirection() || status == StatusCode::NOT_FOUND,
                "{page}: {status}"
            );
            // Streamed out of order: resolved parts follow the document.
            assert!(
                body.contains("</body></html>"),
                "round {round}: {page} ended early: {body}"
            );
        }
    }
}

// Listing the app's pages holds every resource of the process back while
// it runs (a flag global to the process, in leptos_server), and a render
// whose resource first polled then never ended: a page of one server
// hung while another server of the same process started (the tests
// start many). The pages are listed once per process now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_other_servers_start_in_the_same_process() {
    let app = TestApp::spawn(common::Backend::Sqlite).await;
    let rep = app.signed_in("rep1").await;
    for round in 0..15 {
        let mut renders = tokio::task::JoinSet::new();
        for page in [
            "/",
            "/customers",
            "/tickets",
            "/visits",
            "/follow-ups",
            "/notifications",
        ] {
            let reader = rep.clone();
            renders.spawn(async move {
                let answer = tokio::time::timeout(Duration::from_secs(20), async {
                    reader.get(page).await.text().await
                })
                .await;
                (page, answer)
            });
        }
        let started = tokio::join!(app.second_server(), app.second_server());
        while let Some(done) = renders.join_next().await {
            let (page, answer) = done.unwrap();
            let body = answer
                .unwrap_or_else(|_| panic!("round {round}: {page} did not finish within 20 s"))
                .unwrap_or_else(|e| panic!("round {round}: {page} was cut: {e}"));
            assert!(
                body.contains("</body></html>"),
                "round {round}: {page} ended early"
            );
        }
        drop(started);
    }
}

/// The `href` of every `<link rel="{rel}">` of a page, in order.
fn links(page: &str, rel: &str) -> Vec<String> {
    page.split("<link ")
        .skip(1)
        .filter_map(|tag| tag.split('>').next())
        .filter(|tag| tag.contains(&format!("rel=\"{rel}\"")))
        .filter_map(|tag| Some(tag.split("href=\"").nth(1)?.split('"').next()?.to_owned()))
        .collect()
}

// A first visit on a weak signal opens the sign-in page: it must be usable
// from its HTML (the form posts without script) and not wait for the app's
// wasm, which it fetches for the next page instead: exactly the files the
// app's pages load, so the next page finds them cached.
#[tokio::test]
async fn the_sign_in_page_goes_without_the_app_and_prefetches_its_files() {
    let app = TestApp::spawn(common::Backend::Sqlite).await;
    let visitor = app.anonymous();
    let sign_in = visitor.page("/login").await;
    assert!(!sign_in.contains("type=\"module\""), "no app script: {sign_in}");
    assert!(links(&sign_in, "modulepreload").is_empty(), "{sign_in}");
    assert!(
        sign_in.contains("<script src=\"/plain-page.js\" defer>"),
        "{sign_in}"
    );
    // Each prefetched file marks its arrival for the script, which holds a
    // sign-in until then.
    assert_eq!(
        sign_in.matches("onload=\"this.dataset.arrived = 1\"").count(),
        2,
        "{sign_in}"
    );
    assert!(
        sign_in.contains("method=\"post\""),
        "the form posts without script"
    );
    // The language switch carries the cookie the plain page's script sets.
    assert!(
        sign_in.contains("data-locale-cookie=\"fb_lang=en; path=/;"),
        "{sign_in}"
    );

    let rep = app.signed_in("rep1").await;
    for path in ["/", "/customers", "/settings"] {
        let page = rep.page(path).await;
        assert!(page.contains("type=\"module\""), "{path} runs the app");
        let mut loaded = links(&page, "modulepreload");
        loaded.extend(
            links(&page, "preload")
                .into_iter()
                .filter(|href| href.ends_with(".wasm")),
        );
        assert_eq!(loaded.len(), 2, "{path}: {page}");
        assert_eq!(links(&sign_in, "prefetch"), loaded, "{path}");
    }
    // Signed in, the page has the app's header (sign-out, the sync bar),
    // which needs the app.
    assert!(rep.page("/login").await.contains("type=\"module\""));
    // The same path with a query is still the sign-in page (a plain post's
    // error comes back as `/login?error=…`).
    let refused = visitor.page("/login?error=bad_credentials").await;
    assert!(!refused.contains("type=\"module\""));
    assert!(
        refused.contains("role=\"alert\""),
        "the error is shown: {refused}"
    );
}
