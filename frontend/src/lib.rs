//! The browser entry: hydrate the server-rendered page into the live app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests (and curious people) see that the page is live.
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &"__fieldbook_hydrated".into(),
        &wasm_bindgen::JsValue::TRUE,
    );
}
