//! The pieces every page shares: the user's language, the signed-in
//! user, the time now, a list's search box and owner filter, a saved
//! form's notice.

use crate::client::use_sync_status;
use crate::i18n::{Locale, Texts};
use crate::roles::CurrentUser;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The signed-in user, loaded once per page and shared by every component.
pub type UserResource = Resource<Result<Option<CurrentUser>, crate::error::AppError>>;

/// The time now, for countdowns: moved on every `NOW_EVERY` in the browser.
#[derive(Clone, Copy)]
struct Now(RwSignal<chrono::DateTime<chrono::Utc>>);

#[cfg(feature = "hydrate")]
const NOW_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Provides the time now to every page; countdowns move on while a page
/// stays open.
pub fn provide_now() {
    let now = Now(RwSignal::new(chrono::Utc::now()));
    provide_context(now);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let _ = set_interval_with_handle(move || now.0.set(chrono::Utc::now()), NOW_EVERY);
    });
}

pub fn use_now() -> RwSignal<chrono::DateTime<chrono::Utc>> {
    use_context::<Now>()
        .map(|now| now.0)
        .unwrap_or_else(|| RwSignal::new(chrono::Utc::now()))
}

/// What an empty list says: that records are still arriving while this
/// device has never finished a sync, else `none_yet`.
pub fn empty_list_text(none_yet: &'static str) -> &'static str {
    if use_sync_status().last_sync.get().is_none() {
        use_locale().word("first_sync_filling")
    } else {
        none_yet
    }
}

/// The texts of the user's language.
pub fn texts() -> &'static Texts {
    use_locale().texts()
}

pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// A full page load: after sign-in or sign-out every resource starts afresh.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Renders `render` for a signed-in user; sends anyone else to sign in.
pub fn with_user<F, V>(render: F) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = expect_context::<UserResource>();
    let t = texts();
    let children = std::sync::Arc::new(render);
    view! {
        <Suspense fallback=move || view! { <p class="empty">{t.loading}</p> }>
            {
                let children = children.clone();
                move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        match user.await {
                            Ok(Some(me)) => children(me).into_any(),
                            Ok(None) | Err(crate::error::AppError::Unauthenticated) => {
                                view! { <Redirect path="/login" /> }.into_any()
                            }
                            Err(e) => {
                                view! { <p class="form-error">{use_locale().error(&e)}</p> }.into_any()
                            }
                        }
                    })
                }
            }
        </Suspense>
    }
}

/// `2026-11-24 09:30` in the user's zone.
pub fn local_time(at: chrono::DateTime<chrono::Utc>, user: &CurrentUser) -> String {
    at.with_timezone(&user.tz()).format("%Y-%m-%d %H:%M").to_string()
}

/// "Saved on this device", with a way to start the next record.
#[component]
pub fn SavedOnDevice(saved: RwSignal<bool>, on_add_another: Callback<()>) -> impl IntoView {
    let t = texts();
    let status = use_sync_status();
    // Online, the save is on its way (the page moves on once it has
    // arrived); only offline, or after a failed sync, does it wait here.
    let message = move || {
        if status.online.get() && status.error.get().is_none() {
            t.saved_syncing
        } else {
            t.saved_on_device
        }
    };
    move || {
        saved.get().then(|| {
            view! {
                <p class="form-saved" role="status" data-testid="saved-on-device">
                    {message}
                    " "
                    <button type="button" class="link" on:click=move |_| on_add_another.run(())>
                        {t.add_another}
                    </button>
                </p>
            }
        })
    }
}

/// Once a saved record has reached the server, go to `path` (its list).
/// Offline it stays, saying the record is kept on the device.
pub fn leave_when_synced(saved: RwSignal<bool>, path: &'static str) {
    let status = use_sync_status();
    Effect::new(move |_| {
        if saved.get()
            && status.pending.get() == Some(0)
            && !status.syncing.get()
            && status.error.get().is_none()
        {
            go_to(path);
        }
    });
}

/// The search box above a list; what is typed goes into `query` as it is typed.
#[component]
pub fn SearchBox(query: RwSignal<String>) -> impl IntoView {
    let t = use_locale().texts();
    view! {
        <label class="search-box">
            <span class="visually-hidden">{t.search}</span>
            <input
                type="search"
                data-testid="list-search"
                placeholder=t.search_hint
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
        </label>
    }
}

/// The owner filter of a supervisor's or manager's list: "all owners", then
/// each owner of the records on the device. `owners` is read again when the
/// list is; `chosen` is the filter's owner and `choose` sets it.
#[component]
pub fn OwnerFilter(
    #[prop(into)] owners: Signal<Vec<(uuid::Uuid, String)>>,
    #[prop(into)] chosen: Signal<Option<uuid::Uuid>>,
    #[prop(into)] choose: Callback<Option<uuid::Uuid>>,
) -> impl IntoView {
    let t = use_locale().texts();
    view! {
        <label>
            <span class="visually-hidden">{t.owner}</span>
            <select data-testid="filter-owner" on:change=move |ev| choose.run(event_target_value(&ev).parse().ok())>
                <option value="">{t.all_owners}</option>
                {move || {
                    owners
                        .get()
                        .into_iter()
                        .map(|(id, name)| {
                            // Chosen by the filter: when the list is read again the
                            // owners may change, and with them which option is where.
                            let selected = chosen.get_untracked() == Some(id);
                            view! {
                                <option value=id.to_string() prop:selected=selected>
                                    {name}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
