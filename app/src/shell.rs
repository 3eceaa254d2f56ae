//! The application shell: the HTML around every page, the routes, the
//! header, the navigation (a bottom bar on a phone, a side menu on a desk),
//! the sync bar, the sign-in and settings pages.

use crate::auth::{logout, who_is_signed_in};
use crate::client::{request_sync, use_sync_status, SyncStatus};
use crate::conflicts::ConflictsPage;
use crate::i18n::{Locale, LOCALE_COOKIE};
use crate::notifications::{Bell, NotificationsPage};
use crate::policy::{self, Kind};
use crate::records::{
    CustomerPage, CustomersPage, EditCustomerPage, EditFollowUpPage, EditTicketPage, EditVisitPage,
    FollowUpPage, FollowUpsPage, NewCustomerPage, NewFollowUpPage, NewTicketPage, NewVisitPage, TicketPage,
    TicketsPage, VisitPage, VisitsPage,
};
use crate::roles::CurrentUser;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::ui::{go_to, provide_now, texts, use_locale, with_user, UserResource};
/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <ShellHead options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page the service worker keeps for every route: this build's scripts
/// and style, and an empty body marked `data-fb-shell`. The browser renders
/// into it from its local store instead of hydrating (see
/// `frontend::hydrate`), so it holds no user's data and never goes stale.
pub fn offline_shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <ShellHead options />
                <title>"Fieldbook"</title>
            </head>
            <body data-fb-shell=""></body>
        </html>
    }
}

/// What the head of every page holds, rendered and offline alike.
#[component]
fn ShellHead(options: LeptosOptions) -> impl IntoView {
    view! {
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="theme-color" content="#1f5f8b" />
        <link rel="manifest" href="/manifest.webmanifest" />
        <link rel="icon" href="/icon.svg" type="image/svg+xml" />
        <AutoReload options=options.clone() />
        {match page_script(&options) {
            PageScript::App => view! { <HydrationScripts options=options.clone() /> }.into_any(),
            PageScript::Plain { prefetch } => {
                view! {
                    // Marked when they arrive, which `PLAIN_PAGE_SCRIPT`
                    // may run too late to see.
                    {prefetch
                        .map(|[js, wasm]| {
                            view! {
                                <link rel="prefetch" href=js onload=PREFETCH_ARRIVED onerror=PREFETCH_ARRIVED />
                                <link rel="prefetch" href=wasm onload=PREFETCH_ARRIVED onerror=PREFETCH_ARRIVED />
                            }
                        })}
                    <script src=PLAIN_PAGE_SCRIPT defer></script>
                }
                    .into_any()
            }
        }}
        <HashedStylesheet options id="leptos" />
    }
}

/// Pages the server renders without the app's script, by path (or its
/// start, for one ending in `/`), and whether they fetch the app's files
/// for the page that follows. A first visit on a weak signal opens the sign-in page: its form
/// posts without script, so the page is usable as soon as its HTML and
/// style arrive, instead of after the whole wasm (half a megabyte). The
/// browser fetches the app's files meanwhile at low priority for the page
/// that follows (a sign-in tapped before they have arrived waits for them,
/// so they come once). A customer's survey link is the only page the
/// customer ever opens: nothing follows it. Once the service worker is
/// installed, every open of an app page, the sign-in page included, comes
/// from its cached shell and the app (docs/architecture.md, "The first
/// visit").
#[cfg(feature = "ssr")]
const PAGES_WITHOUT_APP_SCRIPT: [(&str, Prefetch); 2] =
    [("/login", Prefetch::App), ("/survey/", Prefetch::Nothing)];

#[cfg(feature = "ssr")]
#[derive(Clone, Copy, PartialEq)]
enum Prefetch {
    /// The app's JS and wasm, for the app's page that follows.
    App,
    /// Nothing: no page of the app follows.
    Nothing,
}

/// The small script such a page runs instead of the app: the language
/// switch, and a form held until the prefetched files have arrived
/// (`public/plain-page.js`).
const PLAIN_PAGE_SCRIPT: &str = "/plain-page.js";

/// A prefetched file's mark that it has arrived (or failed), read by
/// `PLAIN_PAGE_SCRIPT`.
const PREFETCH_ARRIVED: &str = "this.dataset.arrived = 1";

/// The entry of `PAGES_WITHOUT_APP_SCRIPT` that `path` is, if any.
#[cfg(feature = "ssr")]
fn page_without_app_script(path: &str) -> Option<Prefetch> {
    PAGES_WITHOUT_APP_SCRIPT
        .iter()
        .find(|(start, _)| path == *start || (start.ends_with('/') && path.starts_with(start)))
        .map(|(_, prefetch)| *prefetch)
}

/// Whether `path` is a page that may go without the app, so its form posts
/// as a plain form (`application/x-www-form-urlencoded`): the server's
/// check of requests lets such a post through there alone.
#[cfg(feature = "ssr")]
pub fn posts_plain_form(path: &str) -> bool {
    page_without_app_script(path).is_some()
}

/// What runs in the page being rendered. (Only the server renders pages
/// without the app; the browser hydrates what it rendered.)
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
enum PageScript {
    /// The app, hydrating the page.
    App,
    /// `PLAIN_PAGE_SCRIPT` alone, with the app's JS and wasm to prefetch.
    Plain { prefetch: Option<[String; 2]> },
}

/// The script of the page being rendered (`PAGES_WITHOUT_APP_SCRIPT`). A
/// signed-in user's page has the app's header (sign-out, the sync bar),
/// which needs the app.
fn page_script(options: &LeptosOptions) -> PageScript {
    #[cfg(feature = "ssr")]
    {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return PageScript::App;
        };
        let signed_in = use_context::<crate::ssr::SessionUser>().is_some_and(|session| session.0.is_some());
        match page_without_app_script(parts.uri.path()) {
            Some(prefetch) if !signed_in => PageScript::Plain {
                prefetch: (prefetch == Prefetch::App).then(|| app_script_files(options)),
            },
            _ => PageScript::App,
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = options;
        PageScript::App
    }
}

/// This build's JS and wasm, named as `HydrationScripts` names them in
/// Leptos 0.8: with cargo-leptos's content hashes from the hash file beside
/// the server binary (Leptos keeps its own reading of it private). The
/// browser test of the first visit holds that the names match.
#[cfg(feature = "ssr")]
fn app_script_files(options: &LeptosOptions) -> [String; 2] {
    let (mut js, mut wasm) = (options.output_name.to_string(), options.output_name.to_string());
    if options.hash_files {
        let hashes = std::env::current_exe()
            .and_then(|exe| std::fs::read_to_string(exe.with_file_name(options.hash_file.as_ref())))
            .unwrap_or_default();
        for (file, hash) in hashes.lines().filter_map(|line| line.trim().split_once(':')) {
            match file {
                "js" => js = format!("{js}.{}", hash.trim()),
                "wasm" => wasm = format!("{wasm}.{}", hash.trim()),
                _ => {}
            }
        }
    } else if option_env!("LEPTOS_OUTPUT_NAME").is_none() {
        wasm.push_str("_bg");
    }
    let pkg = &options.site_pkg_dir;
    [format!("/{pkg}/{js}.js"), format!("/{pkg}/{wasm}.wasm")]
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = initial_locale();
    provide_context(locale);
    let user: UserResource = Resource::new(|| (), |_| who_is_signed_in());
    provide_context(user);
    let status = SyncStatus::new();
    provide_context(status);
    provide_context(crate::aggregates::ENTITIES);
    crate::client::provide_singles(crate::aggregates::ENTITIES);
    provide_now();
    // In the browser, start syncing once the signed-in user is known.
    Effect::new(move |_| {
        let Some(answer) = user.get() else { return };
        crate::client::remember_user(&answer);
        if let Ok(Some(me)) = answer {
            crate::client::start(status, me.id, crate::aggregates::ENTITIES);
        }
    });
    let t = locale.texts();

    view! {
        <Title text=t.app_name />
        <Router>
            <div class="shell">
            <Header />
            <Nav />
            <main class="page">
                <RefusedAwayNotice />
                <Routes fallback=|| view! { <p class="empty">"404"</p> }>
                    <Route path=path!("/") view=crate::records::HomePage />
                    <Route path=path!("/leads") view=crate::records::LeadsPage />
                    <Route path=path!("/leads/new") view=crate::records::NewLeadPage />
                    <Route path=path!("/leads/:id") view=crate::records::LeadPage />
                    <Route path=path!("/leads/:id/edit") view=crate::records::EditLeadPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/visits") view=VisitsPage />
                    <Route path=path!("/visits/new") view=NewVisitPage />
                    <Route path=path!("/tickets") view=TicketsPage />
                    <Route path=path!("/tickets/new") view=NewTicketPage />
                    <Route path=path!("/tickets/:id") view=TicketPage />
                    <Route path=path!("/tickets/:id/edit") view=EditTicketPage />
                    <Route path=path!("/survey/:token") view=crate::tickets::survey::SurveyPage />
                    <Route path=path!("/visits/:id") view=VisitPage />
                    <Route path=path!("/visits/:id/edit") view=EditVisitPage />
                    <Route path=path!("/customers") view=CustomersPage />
                    <Route path=path!("/customers/new") view=NewCustomerPage />
                    <Route path=path!("/customers/look-alikes") view=crate::customers::look_alike::LookAlikesPage />
                    <Route path=path!("/customers/:id") view=CustomerPage />
                    <Route path=path!("/customers/:id/edit") view=EditCustomerPage />
                    <Route path=path!("/service-board") view=crate::tickets::ServiceBoardPage />
                    <Route path=path!("/follow-ups") view=FollowUpsPage />
                    <Route path=path!("/follow-ups/new") view=NewFollowUpPage />
                    <Route path=path!("/follow-ups/:id") view=FollowUpPage />
                    <Route path=path!("/follow-ups/:id/edit") view=EditFollowUpPage />
                    <Route path=path!("/conflicts") view=ConflictsPage />
                    <Route path=path!("/notifications") view=NotificationsPage />
                    <Route path=path!("/company-settings") view=crate::records::CompanySettingsPage />
                    <Route path=path!("/company-settings/:id") view=crate::records::CompanySettingsRecordPage />
                    <Route path=path!("/company-settings/:id/edit") view=crate::records::EditCompanySettingsPage />
                </Routes>
            </main>
            </div>
        </Router>
    }
}

/// The language from the `fb_lang` cookie: read from the request on the
/// server and from `document.cookie` in the browser, so both render alike.
fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| {
                let cookies: Vec<&str> = parts
                    .headers
                    .get_all(http::header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                Locale::from_cookie_header(&cookies.join("; "))
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        use wasm_bindgen::JsCast;
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
            .and_then(|d| d.cookie().ok())
            .map(|c| Locale::from_cookie_header(&c))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

/// Stores the chosen language and reloads, so every text follows it.
fn switch_locale(locale: Locale) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(window) = web_sys::window() {
            if let Some(doc) = window
                .document()
                .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
            {
                let _ = doc.set_cookie(&locale_cookie(locale));
            }
            let _ = window.location().reload();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = locale;
}

/// The cookie that keeps `locale` as the user's language for a year.
fn locale_cookie(locale: Locale) -> String {
    format!(
        "{LOCALE_COOKIE}={}; path=/; max-age=31536000; samesite=lax",
        locale.code()
    )
}

#[component]
fn Header() -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let user = expect_context::<UserResource>();
    // Signing out needs the server (the session cookie is out of the page's
    // reach); offline the user stays signed in and is told why.
    let sign_out_failed = RwSignal::new(None::<crate::error::AppError>);
    let sign_out = Action::new(move |_: &()| async move {
        match logout().await {
            Ok(()) => {
                crate::client::forget_user();
                go_to("/login");
            }
            Err(e) => sign_out_failed.set(Some(e)),
        }
    });
    let other = match locale {
        Locale::ZhCn => Locale::En,
        Locale::En => Locale::ZhCn,
    };
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">{t.app_name}</A>
            <div class="topbar-right">
                <button
                    class="link lang"
                    data-testid="switch-language"
                    // Read by `public/plain-page.js` on a page without the app.
                    data-locale-cookie=locale_cookie(other)
                    on:click=move |_| switch_locale(other)
                >
                    {match other {
                        Locale::En => "English",
                        Locale::ZhCn => "中文",
                    }}
                </button>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(me)) => {
                                view! {
                                    <SyncBar />
                                    <Bell />
                                    <span class="who" data-testid="who">
                                        {me.display_name.clone()}
                                        <small>{locale.role(me.role)}</small>
                                    </span>
                                    <button
                                        class="link"
                                        data-testid="sign-out"
                                        on:click=move |_| {
                                            sign_out_failed.set(None);
                                            sign_out.dispatch(());
                                        }
                                    >
                                        {t.sign_out}
                                    </button>
                                    {move || {
                                        sign_out_failed
                                            .get()
                                            .map(|e| {
                                                let why = match e {
                                                    crate::error::AppError::Network => t.sign_out_needs_network.to_owned(),
                                                    other => locale.error(&other),
                                                };
                                                view! { <small class="sync-error" role="alert" data-testid="sign-out-failed">{why}</small> }
                                            })
                                    }}
                                }
                                    .into_any()
                            }
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </header>
    }
}

/// How many sections the phone's bottom bar holds beside Settings; the
/// rest are on the Settings page (its "more"), as in the CRM apps users know.
const PHONE_BAR_SECTIONS: usize = 4;

/// The sections `me` works with, in the menu's order: (address, label,
/// icon).
fn sections(me: &CurrentUser, locale: Locale) -> Vec<(&'static str, &'static str, &'static str)> {
    [
        (Kind::Lead, "/", "lead"),
        (Kind::Customer, "/customers", "customer"),
        (Kind::Visit, "/visits", "visit"),
        (Kind::Ticket, "/tickets", "ticket"),
        (Kind::FollowUp, "/follow-ups", "follow_up"),
        (Kind::Settings, "/company-settings", "settings"),
    ]
    .into_iter()
    // Everyone's rules read the settings; the admin who keeps them has a
    // section for them.
    .filter(|(kind, _, _)| match kind {
        Kind::Settings => policy::can_create(me, *kind),
        _ => policy::scope(me, *kind).is_some(),
    })
    .filter_map(|(_, href, entity)| {
        let spec = crate::aggregates::ENTITIES.spec(entity)?;
        Some((href, locale.say(spec.plural), entity))
    })
    .collect()
}

/// A section's icon in the navigation: a 24-unit outline.
#[component]
fn NavIcon(name: &'static str) -> impl IntoView {
    let path = match name {
        // A funnel.
        "lead" => "M3 4h18l-7 8v6l-4 2v-8z",
        // A person.
        "customer" => "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-8 8c0-4 4-6 8-6s8 2 8 6",
        // A map pin.
        "visit" => "M12 21s-7-6.5-7-12a7 7 0 0 1 14 0c0 5.5-7 12-7 12zm0-9a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
        // A wrench.
        "ticket" => "M14.7 6.3a4 4 0 0 0-5.4 5.4L3 18l3 3 6.3-6.3a4 4 0 0 0 5.4-5.4l-2.6 2.6-2.4-.6-.6-2.4z",
        // A telephone handset.
        "follow_up" => "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z",
        // An office building: the company's settings.
        "settings" => "M4 21V5l8-3 8 3v16M4 21h16M9 8h1m4 0h1M9 12h1m4 0h1M9 16h1m4 0h1",
        // A bell.
        "notification" => "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zm4 4h4",
        // A gear, drawn as a ring with spokes.
        _ => "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3m0 14v3M2 12h3m14 0h3M4.9 4.9l2.1 2.1m10 10 2.1 2.1M4.9 19.1 7 17m10-10 2.1-2.1",
    };
    view! {
        <svg class="nav-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path d=path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round" />
        </svg>
    }
}

/// The sections the signed-in user's role works with: a bottom bar on a
/// phone, a side menu at a desk.
#[component]
fn Nav() -> impl IntoView {
    let locale = use_locale();
    let user = expect_context::<UserResource>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(me)) = user.await else { return ().into_any() };
                let sections = sections(&me, locale);
                let on_phone = PHONE_BAR_SECTIONS.min(sections.len());
                let settings = locale.texts().settings;
                view! {
                    <nav class="tabs" data-testid="nav">
                        {sections
                            .into_iter()
                            .enumerate()
                            .map(|(i, (href, label, icon))| {
                                view! {
                                    <A href=href attr:class=if i < on_phone { "tab" } else { "tab desk-only" }>
                                        <NavIcon name=icon />
                                        <span>{label}</span>
                                    </A>
                                }
                            })
                            .collect_view()}
                        <A href="/notifications" attr:class="tab desk-only">
                            <NavIcon name="notification" />
                            <span>{locale.word("notifications")}</span>
                        </A>
                        <A href="/settings" attr:class="tab">
                            <NavIcon name="gear" />
                            <span>{settings}</span>
                        </A>
                    </nav>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[component]
fn SettingsPage() -> impl IntoView {
    with_user(|me| view! { <More me /><Settings /> })
}

/// On a phone, what the bottom bar has no room for: the sections past its
/// first few, notifications and edit conflicts (the desk's side menu and
/// top bar show them).
#[component]
fn More(me: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let rest: Vec<_> = sections(&me, locale)
        .into_iter()
        .skip(PHONE_BAR_SECTIONS)
        .collect();
    view! {
        <nav class="card more phone-only" data-testid="more">
            <ul>
                {rest
                    .into_iter()
                    .map(|(href, label, icon)| view! { <li><A href=href><NavIcon name=icon /><span>{label}</span></A></li> })
                    .collect_view()}
                <li>
                    <A href="/notifications"><NavIcon name="notification" /><span>{locale.word("notifications")}</span></A>
                </li>
                <li>
                    <A href="/conflicts"><NavIcon name="gear" /><span>{t.conflicts}</span></A>
                </li>
            </ul>
        </nav>
    }
}

/// This device: how much the local store holds, warned well before the quota.
#[component]
fn Settings() -> impl IntoView {
    let t = texts();
    let status = use_sync_status();
    let size = RwSignal::new(None::<Option<crate::client::StoreSize>>);
    Effect::new(move |_| {
        status.last_sync.track();
        leptos::task::spawn_local(async move { size.set(Some(crate::client::store_size().await)) });
    });
    let mb = |bytes: f64| format!("{:.1} MB", bytes / 1_048_576.0);
    view! {
        <Title text=format!("{} · {}", t.settings, t.app_name) />
        <section class="card">
            <h1>{t.settings}</h1>
            <h2>{t.device_storage}</h2>
            {move || match size.get() {
                None => view! { <p class="muted">{t.loading}</p> }.into_any(),
                Some(None) => view! { <p class="muted">{t.storage_unknown}</p> }.into_any(),
                Some(Some(s)) => {
                    view! {
                        <p data-testid="store-size">{format!("{} / {}", mb(s.used_bytes), mb(s.quota_bytes))}</p>
                        <progress max=s.quota_bytes value=s.used_bytes></progress>
                        {s.near_quota().then(|| view! { <p class="form-error" role="alert">{t.storage_warning}</p> })}
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Online or offline, how many changes wait, when the last sync was.
#[component]
fn SyncBar() -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    let summary = move || {
        if status.syncing.get() {
            return match status.received.get() {
                0 => t.syncing.to_owned(),
                n => format!("{} {n} {}", t.syncing, t.records_received),
            };
        }
        match status.pending.get() {
            None => String::new(),
            Some(0) => t.all_synced.to_owned(),
            Some(n) => format!("{n} {}", t.waiting),
        }
    };
    let last = move || match status.last_sync.get() {
        Some(ms) => {
            let at = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
            let tz: chrono_tz::Tz = expect_context::<UserResource>()
                .get()
                .and_then(|u| u.ok().flatten())
                .map(|u| u.tz())
                .unwrap_or(chrono_tz::Asia::Shanghai);
            format!("{} {}", t.last_sync, at.with_timezone(&tz).format("%H:%M"))
        }
        None => t.never_synced.to_owned(),
    };
    view! {
        <div class="sync-bar" data-testid="sync-status">
            <span class=move || if status.online.get() { "dot online" } else { "dot offline" }>
                {move || if status.online.get() { t.online } else { t.offline }}
            </span>
            <span data-testid="pending" data-pending=move || status.pending.get().map(|n| n.to_string()).unwrap_or_default()>{summary}</span>
            <small class="muted">{last}</small>
            {move || {
                status
                    .error
                    .get()
                    // Offline, "cannot reach the server" says nothing new.
                    .filter(|e| status.online.get() || !matches!(e, crate::error::AppError::Network))
                    .map(|e| view! { <small class="sync-error" role="status">{format!("{}: {}", t.sync_failed, locale.error(&e))}</small> })
            }}
            {move || {
                status
                    .conflicts
                    .get()
                    .filter(|n| *n > 0)
                    .map(|n| {
                        view! {
                            <A href="/conflicts" attr:class="badge rejected" attr:data-testid="conflicts-waiting">
                                {format!("{n} {}", t.conflicts_waiting)}
                            </A>
                        }
                    })
            }}
            <button class="link" data-testid="sync-now" on:click=move |_| request_sync(status)>
                {t.sync_now}
            </button>
        </div>
    }
}

/// Refusals of changes whose records have left the device (a pooled
/// customer a teammate claimed first), until the user has read them.
#[component]
fn RefusedAwayNotice() -> impl IntoView {
    let locale = use_locale();
    let status = crate::client::use_sync_status();
    view! {
        {move || {
            let away = status.refused_away.get();
            (!away.is_empty())
                .then(|| {
                    view! {
                        <div class="refused-away" role="alert" data-testid="refused-away">
                            <ul>
                                {away
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <li data-testid="refused-away-item">
                                                <strong>{format!("{} · {}", locale.word(&format!("entity_{}", r.entity)), r.title)}</strong>
                                                " "
                                                <span>{locale.error(&r.reason)}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <button
                                class="link"
                                data-testid="refused-away-read"
                                on:click=move |_| crate::client::dismiss_refused_away(status)
                            >
                                {locale.word("understood")}
                            </button>
                        </div>
                    }
                })
        }}
    }
}

#[component]
fn LoginPage() -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let sign_in = Action::new(|(username, password): &(String, String)| {
        let (username, password) = (username.clone(), password.clone());
        async move {
            let result = crate::auth::login(username, password).await;
            if let Ok(user) = &result {
                // The app opens from the cached shell as the user kept here.
                crate::client::remember_user(&Ok(Some(user.clone())));
                go_to("/");
            }
            result
        }
    });
    // A plain post of the form (sent before the script ran) comes back
    // here with its error in the query: `?error=bad_credentials`.
    let query = leptos_router::hooks::use_query_map();
    let posted_error = move || {
        query.with(|q| {
            let code = q.get("error")?;
            let mut fields = serde_json::Map::new();
            fields.insert("error".into(), serde_json::Value::String(code));
            if let Some(secs) = q.get("retry_after_secs").and_then(|n| n.parse::<u64>().ok()) {
                fields.insert("retry_after_secs".into(), secs.into());
            }
            serde_json::from_value::<crate::error::AppError>(serde_json::Value::Object(fields)).ok()
        })
    };
    let error = move || match sign_in.value().get() {
        Some(Err(e)) => Some(locale.error(&e)),
        Some(Ok(_)) => None,
        None => posted_error().map(|e| locale.error(&e)),
    };
    view! {
        <Title text=format!("{} · {}", t.sign_in, t.app_name) />
        // `method="post"`: a tap before the script has run posts the form
        // (never a credential in the URL); the server signs in and redirects.
        <form
            class="card narrow"
            method="post"
            action="/login"
            data-testid="login-form"
            on:submit=move |ev| {
                ev.prevent_default();
                sign_in.dispatch((username.get_untracked(), password.get_untracked()));
            }
        >
            <h1>{t.sign_in}</h1>
            <label>
                <span>{t.username}</span>
                <input
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    required
                    bind:value=username
                />
            </label>
            <label>
                <span>{t.password}</span>
                <input
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    bind:value=password
                />
            </label>
            {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <button class="primary" type="submit" disabled=move || sign_in.pending().get()>
                {t.sign_in}
            </button>
        </form>
    }
}
