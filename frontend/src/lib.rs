//! The browser entry. A page the server rendered is hydrated into the live
//! app. The offline shell (`app::offline_shell`, served by the service worker
//! when the network is away) has an empty body: the app renders into it from
//! the local store instead, because there is no server HTML to match.

// The page views are deeply nested types; the release build (LTO) computes
// their layouts past rustc's default query depth of 128.
#![recursion_limit = "256"]

use wasm_bindgen::JsValue;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let body = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body());
    let from_shell = body.is_some_and(|b| b.has_attribute("data-fb-shell"));
    if from_shell {
        leptos::mount::mount_to_body(app::App);
    } else {
        leptos::mount::hydrate_body(app::App);
    }
    register_service_worker();
    // Lets browser tests (and curious people) see that the page is live, and how.
    let global = js_sys::global();
    let _ = js_sys::Reflect::set(&global, &"__fieldbook_hydrated".into(), &JsValue::TRUE);
    let _ = js_sys::Reflect::set(
        &global,
        &"__fieldbook_started_from".into(),
        &JsValue::from_str(if from_shell { "shell" } else { "server" }),
    );
}

/// Installs `/sw.js`, which keeps this build's shell, wasm, JS and CSS for
/// opening the app with no network (see docs/sync.md).
fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    // Only secure origins (https, or localhost) have service workers.
    let supported =
        js_sys::Reflect::get(&navigator, &"serviceWorker".into()).is_ok_and(|value| !value.is_undefined());
    if !supported {
        return;
    }
    let container = navigator.service_worker();
    // A rejected registration (an old browser, a private window) leaves the
    // app working online; say why in the console.
    let promise = container.register("/sw.js");
    let report = wasm_bindgen::closure::Closure::once(|error: JsValue| {
        web_sys::console::warn_2(&"service worker not registered:".into(), &error);
    });
    let _ = promise.catch(&report);
    report.forget();
}
