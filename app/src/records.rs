//! Visits (拜访记录) and service tickets (售后工单): entry forms and lists
//! driven by a field list, written through the same local store and outbox
//! as leads, and checked in the browser by the very check the server runs
//! (each aggregate's `check`). Lists render from the device's local store.

use crate::client::{self, use_sync_status, LocalView};
use crate::customers::CUSTOMER_SCREEN;
use crate::error::{AppError, FieldError};
use crate::follow_ups::FOLLOW_UP_SCREEN;
use crate::i18n::Locale;
use crate::leads::LEAD_SCREEN;
use crate::policy;
use crate::roles::CurrentUser;
use crate::schema::{Field, Input, Lines, Link, LINE_ID};
pub use crate::screen::{RecordScreen, Source};
use crate::search::{owners, FieldFilter, Query, SearchText};
use crate::settings::{ProcessSettings, SETTINGS_SCREEN};
use crate::sync::entity::registered_spec;
use crate::sync::{Fields, Mutation, Op};
use crate::tickets::TICKET_SCREEN;
use crate::ui::{leave_when_synced, use_locale, with_user, OwnerFilter, SavedOnDevice, SearchBox};
use crate::validate::parse_local_time;
use crate::validate::Phone;
use crate::visits::VISIT_SCREEN;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde_json::Value;

/// The stored fields from what was typed: UTC instants, normalised phones,
/// empty inputs left out. Anything unparseable is kept as typed, so the
/// entity's check names it.
pub fn to_fields(screen: &RecordScreen, typed: &[(&'static str, String)], tz: chrono_tz::Tz) -> Fields {
    let mut fields = Fields::new();
    for form_field in screen.form() {
        let raw = typed
            .iter()
            .find(|(n, _)| *n == form_field.name)
            .map(|(_, v)| v.trim())
            .unwrap_or("");
        if raw.is_empty() {
            continue;
        }
        if let Input::Lines(lines) = form_field.input {
            let stored = lines_to_fields(lines, raw);
            if !stored.is_empty() {
                fields.insert(form_field.name.to_owned(), Value::Array(stored));
            }
            continue;
        }
        let value = match form_field.input {
            Input::DateTime => parse_local_time(raw, tz)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_else(|_| raw.to_owned()),
            Input::Phone => Phone::parse(raw)
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|_| raw.to_owned()),
            Input::Email => crate::validate::Email::parse(raw)
                .map(|e| e.as_str().to_owned())
                .unwrap_or_else(|_| raw.to_owned()),
            Input::Money => crate::validate::Money::parse(raw)
                .map(crate::validate::Money::to_stored)
                .unwrap_or_else(|_| raw.to_owned()),
            _ => raw.to_owned(),
        };
        fields.insert(form_field.name.to_owned(), Value::String(value));
    }
    fields
}

/// The home page: a rep's, supervisor's or manager's leads; the service
/// desk's is its tickets, the admin's the company's settings.
#[component]
pub fn HomePage() -> impl IntoView {
    with_user(|me| {
        if policy::scope(&me, policy::Kind::Lead).is_some() {
            return view! { <RecordList me screen=&LEAD_SCREEN /> }.into_any();
        }
        let home = if policy::can_create(&me, policy::Kind::Settings) {
            "/company-settings"
        } else {
            "/tickets"
        };
        view! { <leptos_router::components::Redirect path=home /> }.into_any()
    })
}

#[component]
pub fn LeadsPage() -> impl IntoView {
    with_user(|me| view! { <RecordList me screen=&LEAD_SCREEN /> })
}

#[component]
pub fn NewLeadPage() -> impl IntoView {
    with_user(|me| view! { <RecordForm me screen=&LEAD_SCREEN /> })
}

#[component]
pub fn LeadPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&LEAD_SCREEN /> })
}

#[component]
pub fn EditLeadPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&LEAD_SCREEN /> })
}

#[component]
pub fn VisitsPage() -> impl IntoView {
    with_user(|me| view! { <RecordList me screen=&VISIT_SCREEN /> })
}

#[component]
pub fn TicketsPage() -> impl IntoView {
    with_user(|me| view! { <RecordList me screen=&TICKET_SCREEN /> })
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    with_user(|me| view! { <RecordList me screen=&CUSTOMER_SCREEN /> })
}

#[component]
pub fn NewCustomerPage() -> impl IntoView {
    with_user(|me| view! { <RecordForm me screen=&CUSTOMER_SCREEN /> })
}

#[component]
pub fn CustomerPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&CUSTOMER_SCREEN /> })
}

#[component]
pub fn VisitPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&VISIT_SCREEN /> })
}

#[component]
pub fn TicketPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&TICKET_SCREEN /> })
}

#[component]
pub fn NewVisitPage() -> impl IntoView {
    with_user(|me| view! { <RecordForm me screen=&VISIT_SCREEN /> })
}

#[component]
pub fn NewTicketPage() -> impl IntoView {
    with_user(|me| view! { <RecordForm me screen=&TICKET_SCREEN /> })
}

#[component]
pub fn FollowUpsPage() -> impl IntoView {
    with_user(|me| view! { <RecordList me screen=&FOLLOW_UP_SCREEN /> })
}

#[component]
pub fn NewFollowUpPage() -> impl IntoView {
    with_user(|me| view! { <RecordForm me screen=&FOLLOW_UP_SCREEN /> })
}

#[component]
pub fn FollowUpPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&FOLLOW_UP_SCREEN /> })
}

#[component]
pub fn EditFollowUpPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&FOLLOW_UP_SCREEN /> })
}

#[component]
pub fn EditVisitPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&VISIT_SCREEN /> })
}

#[component]
pub fn EditTicketPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&TICKET_SCREEN /> })
}

#[component]
pub fn EditCustomerPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&CUSTOMER_SCREEN /> })
}

/// 公司设置: the admin's page of the company's settings.
#[component]
pub fn CompanySettingsPage() -> impl IntoView {
    with_user(|me| {
        view! { <SingleRecordPage me screen=&SETTINGS_SCREEN preset=ProcessSettings::default().to_fields() /> }
    })
}

#[component]
pub fn CompanySettingsRecordPage() -> impl IntoView {
    with_user(|me| view! { <RecordDetail me screen=&SETTINGS_SCREEN /> })
}

#[component]
pub fn EditCompanySettingsPage() -> impl IntoView {
    with_user(|me| view! { <RecordEdit me screen=&SETTINGS_SCREEN /> })
}

/// A record's own page for a record's edit form: `{path}/:id/edit`.
pub fn edit_page(screen: &RecordScreen, id: uuid::Uuid) -> String {
    format!("{}/{id}/edit", screen.path)
}

/// The stored lines from a lines input's text (a JSON array of objects
/// of typed words): values trimmed, phones normalised, empty values and
/// empty lines left out; with lines but none marked, the first is the
/// main one. Anything unparseable is left for the check to name.
fn lines_to_fields(lines: &Lines, raw: &str) -> Vec<Value> {
    let typed: Vec<Fields> = serde_json::from_str(raw).unwrap_or_default();
    let mut stored: Vec<Fields> = typed
        .iter()
        .filter_map(|line| {
            let values: Fields = lines
                .fields
                .iter()
                .filter_map(|f| {
                    let raw = line
                        .get(f.name)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .trim();
                    let value = match f.input {
                        Input::Phone => Phone::parse(raw)
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_else(|_| raw.to_owned()),
                        _ => raw.to_owned(),
                    };
                    (!value.is_empty()).then(|| (f.name.to_owned(), Value::String(value)))
                })
                .collect();
            // A line of nothing but its main-line mark is no line.
            let filled = values.keys().any(|k| Some(k.as_str()) != lines.flag);
            filled.then(|| with_line_id(values, line.get(LINE_ID)))
        })
        .collect();
    if let Some(flag) = lines.flag {
        let marked = |line: &Fields| line.get(flag).and_then(Value::as_str) == Some("yes");
        if !stored.iter().any(marked) {
            if let Some(first) = stored.first_mut() {
                first.insert(flag.to_owned(), Value::String("yes".into()));
            }
        }
    }
    stored.into_iter().map(Value::Object).collect()
}

/// A line's values with the identity it was typed under (`LINE_ID`), which
/// lets a concurrent edit of the same lines merge line by line.
fn with_line_id(mut values: Fields, id: Option<&Value>) -> Fields {
    if let Some(id) = id.filter(|id| id.is_string()) {
        values.insert(LINE_ID.to_owned(), id.clone());
    }
    values
}

/// The text an input starts with for a stored value: a moment in the
/// user's zone to the minute (as `datetime-local` takes it), anything
/// else as stored.
fn editable_text(form_field: &Field, stored: Option<&Value>, tz: chrono_tz::Tz) -> String {
    if let (Input::Lines(_), Some(Value::Array(lines))) = (form_field.input, stored) {
        return serde_json::to_string(lines).unwrap_or_default();
    }
    let Some(raw) = stored.and_then(Value::as_str) else {
        return String::new();
    };
    match form_field.input {
        Input::DateTime => chrono::DateTime::parse_from_rfc3339(raw)
            .map(|at| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_else(|_| raw.to_owned()),
        _ => raw.to_owned(),
    }
}

/// The fields an edit changes: those whose input no longer holds the text
/// it started with, as they will be stored (`null` for one emptied). An
/// input left alone is never sent, so a moment stored to the second is not
/// cut to the minute by an edit of another field.
pub fn edited_fields(
    screen: &RecordScreen,
    started: &[(&'static str, String)],
    typed: &[(&'static str, String)],
    tz: chrono_tz::Tz,
) -> Fields {
    changed_fields(started, typed, &to_fields(screen, typed, tz))
}

/// The fields of `stored` (the whole record as it would be stored from the
/// inputs) whose input no longer holds the text it started with; `null`
/// for one emptied. The same for every form, the lead's included.
pub fn changed_fields(
    started: &[(&'static str, String)],
    typed: &[(&'static str, String)],
    stored: &Fields,
) -> Fields {
    typed
        .iter()
        .zip(started)
        .filter(|((_, now), (_, before))| now.trim() != before.trim())
        .map(|((name, _), _)| {
            (
                name.to_string(),
                stored.get(*name).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// The record after a patch, as the server will check it.
fn patched(record: &Fields, patch: &Fields) -> Fields {
    let mut fields = record.clone();
    for (name, value) in patch {
        if value.is_null() {
            fields.remove(name);
        } else {
            fields.insert(name.clone(), value.clone());
        }
    }
    fields
}

/// The record of `entity` named by the page's `:id`, as the device held it
/// when first read: an edit form starts from it and is not reset by a sync
/// while the user types (the server merges the edit field by field).
pub fn loaded_once(entity: &'static str) -> RwSignal<Option<Result<Option<LocalView>, AppError>>> {
    use leptos_router::hooks::use_params_map;
    let params = use_params_map();
    let id =
        Signal::derive(move || params.with(|p| p.get("id").and_then(|id| uuid::Uuid::parse_str(&id).ok())));
    let record = client::use_local_record(entity, id);
    let loaded = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(read) = record.get() {
            if loaded.with_untracked(Option::is_none) {
                loaded.set(Some(read));
            }
        }
    });
    loaded
}

/// `{path}/:id/edit`: the record's form filled from the device's copy.
/// The copy is read once: a sync while the user types does not reset the
/// form (the server merges the edit field by field).
#[component]
fn RecordEdit(me: CurrentUser, screen: &'static RecordScreen) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let loaded = loaded_once(screen.spec.name);
    move || {
        let me = me.clone();
        match loaded.get() {
            None => view! { <p class="empty">{t.loading}</p> }.into_any(),
            Some(Ok(None)) => {
                view! { <p class="empty" data-testid="not-on-device">{t.not_on_device}</p> }.into_any()
            }
            Some(Ok(Some(view))) => view! { <RecordForm me screen editing=view /> }.into_any(),
            Some(Err(e)) => view! { <p class="form-error">{locale.error(&e)}</p> }.into_any(),
        }
    }
}

/// The page of a single entity's one record (the company's settings): the
/// record as it stands, or, before anyone saved it, the form to save it
/// first, started with `preset` (for those who may; others are told the
/// seeds' numbers hold).
#[component]
pub fn SingleRecordPage(me: CurrentUser, screen: &'static RecordScreen, preset: Fields) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let id = screen.spec.single;
    let stored = client::use_local_record(screen.spec.name, Signal::stored(id));
    let record = Memo::new(move |_| stored.get());
    let may_create = policy::can_create(&me, screen.spec.kind);
    move || {
        let me = me.clone();
        record.with(|read| match read {
            None => view! { <p class="empty">{t.loading}</p> }.into_any(),
            Some(Ok(Some(view))) => view! { <RecordSheet me screen record=view.clone() /> }.into_any(),
            Some(Ok(None)) if may_create => {
                view! { <RecordForm me screen preset=preset.clone() /> }.into_any()
            }
            Some(Ok(None)) => {
                view! { <p class="empty" data-testid="not-on-device">{locale.word("settings_not_saved")}</p> }
                    .into_any()
            }
            Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
        })
    }
}

fn text(fields: &Fields, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[component]
fn RecordList(me: CurrentUser, screen: &'static RecordScreen) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let entity = screen.spec.name;
    let query = RwSignal::new(String::new());
    let filter = RwSignal::new(FieldFilter::default());
    // Each record with its searched text and its owner, made once per read.
    let searchable = client::use_prepared_records(
        entity,
        {
            let me = me.clone();
            move |r| {
                Some((
                    SearchText::new(&r.fields, screen.spec.searched()),
                    r.owner_or(&me),
                    r,
                ))
            }
        },
        // The screen's order, or newest first, as read.
        move |(_, _, a): &(SearchText, (uuid::Uuid, String), LocalView), (_, _, b)| match screen.order {
            Some(order) => order(&a.fields, &b.fields),
            None => std::cmp::Ordering::Equal,
        },
    );
    let tz = me.tz();
    let now = crate::ui::use_now();
    let singles = client::use_singles();
    let can_add = crate::policy::can_create(&me, screen.spec.kind);
    // Records that keep an approval: a chip narrows to those waiting for me.
    let has_approvals = screen.spec.fields.iter().any(|f| f.input == Input::Approval);
    let waiting_only = RwSignal::new(false);
    let me_for_filter = me.clone();
    // A supervisor or manager sees others' records too, and may narrow to one owner.
    let scope = policy::scope(&me, screen.spec.kind);
    let sees_others = policy::sees_others(&me, screen.spec.kind);
    let scope_words = scope
        .map(|scope| locale.scope_of(scope, screen.spec.plural))
        .unwrap_or_default();
    // An entity with a public pool lists the pool apart: one's own book,
    // or the pool to claim from.
    let has_pool =
        screen.spec.claim.is_some() && (sees_others || policy::pool_of(&me, screen.spec.kind).is_some());
    let pool_view = RwSignal::new(false);
    let me_for_pool = me.clone();
    let pooled = move |r: &LocalView| policy::in_pool(r.ownership(&me_for_pool, screen.spec.kind));
    let choice_filters = screen
        .form()
        .filter(|f| f.filter)
        .filter_map(|f| match f.input {
            Input::Choice(options) => Some((f.name, locale.say(f.label), options)),
            _ => None,
        })
        .map(|(name, label, options)| {
            view! {
                <label>
                    <span class="visually-hidden">{label}</span>
                    <select
                        data-testid=format!("filter-{name}")
                        on:change=move |ev| filter.update(|f| f.choose(name, &event_target_value(&ev)))
                    >
                        <option value="">{locale.any_value_of(label)}</option>
                        {options
                            .iter()
                            .map(|value| view! { <option value=*value>{locale.choice(name, value).unwrap_or(value)}</option> })
                            .collect_view()}
                    </select>
                </label>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{} · {}", locale.say(screen.spec.plural), t.app_name) />
        <div class="page-head">
            <h1>{locale.say(screen.spec.plural)}</h1>
            {screen
                .board
                .filter(|_| sees_others)
                .map(|board| {
                    view! {
                        <A href=board attr:class="button" attr:data-testid="open-board">
                            {locale.word("service_board")}
                        </A>
                    }
                })}
            {screen
                .pairs
                .as_ref()
                .filter(|pairs| (pairs.works)(&me))
                .map(|pairs| {
                    view! {
                        <A href=pairs.path attr:class="button" attr:data-testid="open-look-alikes">
                            {locale.word("look_alikes")}
                        </A>
                    }
                })}
            {can_add
                .then(|| {
                    view! {
                        <A href=format!("{}/new", screen.path) attr:class="button primary" attr:data-testid="new-record">
                            "+ "
                            {locale.say(screen.new)}
                        </A>
                    }
                })}
        </div>
        {has_pool
            .then(|| {
                view! {
                    <div class="list-tabs" role="group">
                        <button
                            data-testid="show-own"
                            aria-pressed=move || (!pool_view.get()).to_string()
                            on:click=move |_| pool_view.set(false)
                        >
                            {if sees_others { locale.say(screen.spec.plural) } else { locale.word("my_customers") }}
                        </button>
                        <button
                            data-testid="show-pool"
                            aria-pressed=move || pool_view.get().to_string()
                            on:click=move |_| pool_view.set(true)
                        >
                            {locale.word("public_pool")}
                        </button>
                    </div>
                    {move || pool_view.get().then(|| view! { <p class="muted" data-testid="pool-hint">{locale.word("pool_hint")}</p> })}
                }
            })}
        <SearchBox query />
        <div class="list-filters">
            {has_approvals
                .then(|| {
                    view! {
                        <label class="chip">
                            <input
                                type="checkbox"
                                data-testid="waiting-for-me"
                                on:change=move |ev| waiting_only.set(event_target_checked(&ev))
                            />
                            <span>{locale.word("waiting_for_me")}</span>
                        </label>
                    }
                })}
            {choice_filters}
            {sees_others
                .then(|| {
                    view! {
                        <OwnerFilter
                            owners=Signal::derive(move || {
                                searchable
                                    .with(|read| match read {
                                        Some(Ok(list)) => owners(list.iter().map(|(_, (id, name), _)| (*id, name.as_str()))),
                                        _ => Vec::new(),
                                    })
                            })
                            chosen=Signal::derive(move || filter.with(|f| f.owner))
                            choose=move |owner| filter.update(|f| f.owner = owner)
                        />
                    }
                })}
        </div>
        {move || {
            let wanted = Query::new(&query.get());
            let narrowed = filter.get();
            let now = now.get();
            searchable.with(|read| match read {
                None => view! { <p class="empty">{t.loading}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() && !pool_view.get() => {
                    view! { <p class="empty" data-testid="list-empty">{crate::ui::empty_list_text(t.no_records)}</p> }
                        .into_any()
                }
                Some(Ok(list)) => {
                    // The tab shown (one's own book or the pool) is what
                    // the count counts in.
                    let in_tab: Vec<_> = list
                        .iter()
                        .filter(|(_, _, r)| !has_pool || pooled(r) == pool_view.get())
                        .collect();
                    let total = in_tab.len();
                    let found: Vec<_> = in_tab
                        .into_iter()
                        .filter(|(searched, (owner, _), r)| wanted.matches(searched) && narrowed.matches(&r.fields, *owner))
                        .filter(|(_, _, r)| {
                            !waiting_only.get()
                                || crate::approvals::stored(&r.fields).is_some_and(|a| a.waits_for(&me_for_filter))
                        })
                        .collect();
                    if found.is_empty() && pool_view.get() && wanted.is_empty() {
                        return view! { <p class="empty" data-testid="pool-empty">{locale.word("pool_empty")}</p> }
                            .into_any();
                    }
                    if found.is_empty() {
                        return view! { <p class="empty">{t.no_matches}</p> }.into_any();
                    }
                    let count = found.len();
                    let narrowing = !wanted.is_empty() || !narrowed.is_empty();
                    // Who oversees the list sees its rates, over what it is
                    // narrowed to (one technician's, one channel's).
                    let rates = screen.rates.filter(|_| sees_others).map(|rule| {
                        let shown: Vec<&Fields> = found.iter().map(|(_, _, r)| &r.fields).collect();
                        rates_line(&rule(&shown, now, tz), locale)
                    });
                    let singles = singles.get();
                    // Whose records these are, and how many: of all on the
                    // device, or matching what the list is narrowed to.
                    let whose = if has_pool && pool_view.get() {
                        locale.word("public_pool")
                    } else {
                        scope_words.as_str()
                    };
                    let counted = if narrowing {
                        format!("{whose} · {count} / {total} {}", t.matches)
                    } else {
                        format!("{whose} · {count} {}", locale.word("records_count"))
                    };
                    view! {
                        {rates}
                        <p class="muted" data-testid="record-count">{counted}</p>
                        {(count > client::LIST_LIMIT)
                            .then(|| view! { <p class="muted">{format!("{count} · {} {}", t.showing_newest, client::LIST_LIMIT)}</p> })}
                        <ul class="lead-list" data-testid="record-list">
                            {found
                                .into_iter()
                                .take(client::LIST_LIMIT)
                                .map(|(_, (_, name), r)| {
                                    record_item(screen, r.clone(), sees_others.then(|| name.clone()), tz, now, locale, &singles)
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
                Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
            })
        }}
    }
}

fn record_item(
    screen: &RecordScreen,
    record: LocalView,
    owner: Option<String>,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
    locale: Locale,
    singles: &crate::sync::entity::Singles,
) -> impl IntoView + use<> {
    let t = locale.texts();
    // The first deadline still running, counted down on the card.
    let deadline = screen
        .deadlines
        .and_then(|rule| {
            rule(record.id, &record.fields, tz, singles)
                .into_iter()
                .find(|d| d.met_at.is_none())
        })
        .map(|d| {
            view! {
                <span class="deadline">
                    {locale.word(&format!("deadline_{}", d.kind))} " " {deadline_badge(d, now, locale)}
                </span>
            }
        });
    let when = chrono::DateTime::parse_from_rfc3339(&text(&record.fields, screen.when))
        .map(|at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    // The screen's summary fields, or its first choices and long texts.
    let summary: Vec<&Field> = if screen.summary.is_empty() {
        screen
            .form()
            .filter(|f| matches!(f.input, Input::Choice(_) | Input::Long))
            .collect()
    } else {
        screen
            .summary
            .iter()
            .filter_map(|name| screen.form().find(|f| f.name == *name))
            .collect()
    };
    let detail: Vec<String> = summary
        .into_iter()
        .map(|f| (f, text(&record.fields, f.name)))
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| locale.choice(f.name, &v).map(str::to_owned).unwrap_or(v))
        .take(if screen.summary.is_empty() {
            2
        } else {
            screen.summary.len()
        })
        .collect();
    let badge = screen
        .badge
        .map(|field| badge_view(field, &record.fields, locale));
    let badged = badge.is_some();
    // A card shows a status once a command set one.
    let status = screen
        .status
        .map(|_| text(&record.fields, "status"))
        .filter(|s| !s.is_empty());
    let code = Some(text(&record.fields, "code")).filter(|c| !c.is_empty());
    let href = format!("{}/{}", screen.path, record.id);
    let title = text(&record.fields, screen.spec.title);
    view! {
        <li class="lead-card record-card" class:badged=badged data-testid="record-card">
            {badge}
            <div class="lead-main">
                <A href=href attr:class="company" attr:data-testid="open-record">
                    {title}
                </A>
                <span class="muted">{detail.join(" · ")}</span>
            </div>
            <div class="lead-meta muted">
                <span>{when}</span>
                {owner.map(|name| view! { <span data-testid="record-owner">{format!("{} {name}", t.owner)}</span> })}
                {code.map(|code| view! { <span data-testid="record-code">{code}</span> })}
                {status.map(|status| view! { <span class="badge status" data-testid="record-status">{locale.choice("status", &status).unwrap_or_default()}</span> })}
                {deadline}
                {record.pending.then(|| view! { <span class="badge pending">{t.not_synced}</span> })}
                {record.rejected.map(|e| view! { <span class="badge rejected">{locale.error(&e)}</span> })}
            </div>
        </li>
    }
}

/// A new record's form, or (`editing`) an existing one's, filled from it:
/// saving an edit sends only the fields changed, based on the version the
/// device holds, and returns to the record's page.
#[component]
fn RecordForm(
    me: CurrentUser,
    screen: &'static RecordScreen,
    #[prop(optional)] editing: Option<LocalView>,
    /// What a new record's inputs start with (the settings' seed numbers).
    #[prop(optional)]
    preset: Option<Fields>,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    let tz = me.tz();
    let now_local = chrono::Utc::now()
        .with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let query = leptos_router::hooks::use_query_map();
    let started: Vec<(&'static str, String)> = screen
        .form()
        .map(|f| {
            let text = match &editing {
                Some(record) => editable_text(f, record.fields.get(f.name), tz),
                None if preset.as_ref().is_some_and(|p| p.contains_key(f.name)) => {
                    editable_text(f, preset.as_ref().and_then(|p| p.get(f.name)), tz)
                }
                None if f.input == Input::DateTime => now_local.clone(),
                // Opened from the linked record's page: `?customer_id=…`.
                None if matches!(f.input, Input::Reference(_)) => query
                    .with_untracked(|q| q.get(f.name))
                    .filter(|id| uuid::Uuid::parse_str(id).is_ok())
                    .unwrap_or_default(),
                None => String::new(),
            };
            (f.name, text)
        })
        .collect();
    let values: Vec<(&'static str, RwSignal<String>)> = started
        .iter()
        .map(|(name, text)| (*name, RwSignal::new(text.clone())))
        .collect();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<AppError>);
    let saved = RwSignal::new(false);
    // A single entity's record (the settings) has its one id.
    let record_id = RwSignal::new(
        editing
            .as_ref()
            .map(|r| r.id)
            .or(screen.spec.single)
            .unwrap_or_else(uuid::Uuid::now_v7),
    );
    let navigate = leptos_router::hooks::use_navigate();
    let editing = StoredValue::new(editing);
    // Made from another record: its id from the address, its fields copied
    // into empty inputs once it is read from the device.
    let source_id = Signal::derive(move || {
        screen
            .from
            .as_ref()
            .and_then(|from| query.with(|q| q.get(from.param)))
            .and_then(|id| uuid::Uuid::parse_str(&id).ok())
    });
    let source = client::use_local_record(screen.from.as_ref().map_or("", |f| f.spec.name), source_id);
    {
        let values = values.clone();
        Effect::new(move |_| {
            let (Some(from), Some(Ok(Some(view)))) = (screen.from.as_ref(), source.get()) else {
                return;
            };
            for (from_field, to_field) in from.copy {
                let copied = view
                    .fields
                    .get(*from_field)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some((_, value)) = values.iter().find(|(name, _)| name == to_field) {
                    if value.get_untracked().is_empty() {
                        value.set(copied.to_owned());
                    }
                }
            }
        });
    }
    let me_for_dedup = me.clone();
    // A plain task started on submit, not an `Action`: a local action made
    // while the server renders is dropped on whichever thread ends the
    // response stream, which its thread-bound wrapper does not allow.
    let me_stored = StoredValue::new(me.clone());
    let save = move |mut fields: Fields| {
        let made_from = match (screen.from.as_ref(), source.get_untracked()) {
            (Some(from), Some(Ok(Some(view)))) => {
                fields.insert(from.link.to_owned(), Value::String(view.id.to_string()));
                Some((from, view))
            }
            _ => None,
        };
        let me = me_stored.get_value();
        let mutation = Mutation {
            id: uuid::Uuid::now_v7(),
            entity: screen.spec.name.to_owned(),
            record_id: record_id.get_untracked(),
            base_version: 0,
            op: Op::Upsert,
            fields,
            command: None,
            base: Default::default(),
        };
        leptos::task::spawn_local(async move {
            let made = mutation.record_id;
            match client::save(status, mutation).await {
                Ok(()) => saved.set(true),
                Err(e) => return failure.set(Some(e)),
            }
            if let Some((from, view)) = made_from {
                let (command, argument) = from.then;
                let mut args = Fields::new();
                args.insert(argument.to_owned(), Value::String(made.to_string()));
                if let Err(e) = client::command(status, &me, from.spec, &view, command, args).await {
                    failure.set(Some(e));
                }
            }
        });
    };
    let read = {
        let values = values.clone();
        move || -> Vec<(&'static str, String)> {
            values.iter().map(|(n, v)| (*n, v.get_untracked())).collect()
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        if let Some(record) = editing.get_value() {
            let form = FormState {
                status,
                errors,
                failure,
            };
            return save_edit(screen, &record, &started, &read(), tz, form, navigate.clone());
        }
        let fields = to_fields(screen, &read(), tz);
        match screen.spec.check(&fields, chrono::Utc::now()) {
            Ok(()) => {
                errors.set(Vec::new());
                save(fields);
            }
            Err(found) => errors.set(found),
        }
    };
    leave_when_synced(saved, screen.path);
    let duplicates = screen.dedup.then(|| {
        let typed = values.clone();
        let exclude = editing.with_value(|r| r.as_ref().map(|r| r.id));
        view! { <DuplicateWarning screen me=me_for_dedup.clone() typed exclude /> }
    });
    let form_values = values.clone();
    let is_edit = editing.with_value(Option::is_some);
    let proposal_hint = screen
        .proposal
        .as_ref()
        .map(|proposal| proposal_view(screen, proposal, &values, is_edit, tz, locale));
    // The proposal's line stands under the field it proposes.
    let mut proposal_hint = proposal_hint;
    let inputs = values
        .iter()
        .zip(screen.form())
        .map(|((name, value), f)| {
            let hint = screen
                .proposal
                .as_ref()
                .filter(|p| p.field == f.name)
                .and_then(|_| proposal_hint.take());
            let name = *name;
            let value = *value;
            let message = move || {
                errors.with(|all| all.iter().find(|e| e.field == name).map(|e| locale.field_problem(e.problem)))
            };
            if let Input::Reference(link) = f.input {
                // Buttons inside: a group, not a label.
                let form = form_values.clone();
                let prefill = !is_edit;
                return view! {
                    <div class="field reference" class:invalid=move || message().is_some()>
                        <span>
                            {locale.say(f.label)}
                            {(!f.required).then(|| view! { <small class="muted">{t.optional}</small> })}
                        </span>
                        <ReferencePicker name link value form prefill />
                        {move || message().map(|m| view! { <small class="field-error" data-field=name>{m}</small> })}
                    </div>
                }
                .into_any();
            }
            if let Input::Lines(lines) = f.input {
                return view! {
                    <div class="field lines" class:invalid=move || message().is_some()>
                        <span>
                            {locale.say(f.label)}
                            {(!f.required).then(|| view! { <small class="muted">{t.optional}</small> })}
                        </span>
                        <LinesInput name lines value />
                        {move || message().map(|m| view! { <small class="field-error" data-field=name>{m}</small> })}
                    </div>
                }
                .into_any();
            }
            let input = match f.input {
                Input::Long => view! { <textarea name=name rows="2" bind:value=value /> }.into_any(),
                Input::Choice(options) => view! {
                    <select name=name bind:value=value>
                        {choice_options(name, options, locale)}
                    </select>
                }
                .into_any(),
                other => {
                    let kind = match other {
                        Input::DateTime => "datetime-local",
                        Input::Date => "date",
                        Input::Phone => "tel",
                        Input::Email => "email",
                        _ => "text",
                    };
                    let mode = match other {
                        Input::Money => "decimal",
                        Input::Whole { .. } => "numeric",
                        Input::Phone => "tel",
                        Input::Email => "email",
                        _ => "text",
                    };
                    view! { <input name=name type=kind inputmode=mode bind:value=value /> }.into_any()
                }
            };
            view! {
                <label class="field" class:invalid=move || message().is_some()>
                    <span>
                        {locale.say(f.label)}
                        {(!f.required).then(|| view! { <small class="muted">{t.optional}</small> })}
                    </span>
                    {input}
                    {move || message().map(|m| view! { <small class="field-error" data-field=name>{m}</small> })}
                </label>
                {hint}
            }
            .into_any()
        })
        .collect_view();
    let add_another = move |_| {
        let now_local = chrono::Utc::now()
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        for ((_, value), f) in values.iter().zip(screen.form()) {
            value.set(if f.input == Input::DateTime {
                now_local.clone()
            } else {
                String::new()
            });
        }
        record_id.set(screen.spec.single.unwrap_or_else(uuid::Uuid::now_v7));
        saved.set(false);
    };
    let heading = if is_edit {
        let title = editing.with_value(|r| r.as_ref().map(|r| text(&r.fields, screen.spec.title)));
        format!("{} · {}", locale.word("edit"), title.unwrap_or_default())
    } else {
        locale.say(screen.new).to_owned()
    };
    let cancel_to = match editing.with_value(|r| r.as_ref().map(|r| r.id)) {
        Some(id) => format!("{}/{id}", screen.path),
        None => screen.path.to_owned(),
    };
    view! {
        <Title text=format!("{heading} · {}", t.app_name) />
        <form class="card lead-form" data-testid="record-form" on:submit=submit novalidate>
            <h1>{heading.clone()}</h1>
            // Above the fields, where the company is typed, so it is seen.
            {duplicates}
            <div class="grid">{inputs}</div>
            {move || {
                failure
                    .get()
                    .map(|e| locale.error(&e))
                    .or_else(|| (!errors.get().is_empty()).then(|| t.fix_fields.to_owned()))
                    .map(|m| view! { <p class="form-error" role="alert">{m}</p> })
            }}
            {(!is_edit).then(|| view! { <SavedOnDevice saved on_add_another=Callback::new(add_another) /> })}
            <div class="actions">
                <A href=cancel_to attr:class="button">{t.cancel}</A>
                <button class="primary" type="submit" data-testid="save-record" disabled=move || saved.get()>
                    {t.save}
                </button>
            </div>
        </form>
    }
}

/// A proposal's line under the form (a lead's score and the grade it
/// proposes), which fills the proposed field while it is empty or still
/// holds the last proposal: a value the user chose stays, and an edit
/// keeps the stored one.
fn proposal_view(
    screen: &'static RecordScreen,
    proposal: &'static crate::screen::Proposal,
    values: &[(&'static str, RwSignal<String>)],
    is_edit: bool,
    tz: chrono_tz::Tz,
    locale: Locale,
) -> impl IntoView + use<> {
    let singles = client::use_singles();
    let inputs = values.to_vec();
    let proposed = Memo::new(move |_| {
        let typed: Vec<(&'static str, String)> = inputs.iter().map(|(n, v)| (*n, v.get())).collect();
        (proposal.rule)(&to_fields(screen, &typed, tz), &singles.get())
    });
    if let Some(&(_, target)) = values.iter().find(|(name, _)| *name == proposal.field) {
        let last = StoredValue::new(None::<&'static str>);
        Effect::new(move |_| {
            let Some(now) = proposed.get() else { return };
            let chosen = target.get_untracked();
            let untouched = chosen.is_empty() || last.get_value() == Some(chosen.as_str());
            if untouched && !is_edit {
                target.set(now.value.to_owned());
            }
            last.set_value(Some(now.value));
        });
    }
    let hint = locale.word(&format!("proposal_hint_{}", screen.spec.name));
    // A proposal names a field its entity declares (held by a test).
    let field = screen
        .spec
        .field(proposal.field)
        .expect("a proposed field is declared");
    view! {
        <p class="muted proposal" data-testid="proposal">
            {move || match proposed.get() {
                Some(p) => p.words(field, locale),
                None => hint.to_owned(),
            }}
        </p>
    }
}

/// The record's link for someone without an account (a ticket's survey),
/// once the server has made its secret: the whole address, to copy into
/// a message.
fn share_link(screen: &RecordScreen, fields: &Fields, locale: Locale) -> Option<AnyView> {
    let share = screen.share.as_ref()?;
    let secret = fields.get(share.field)?.as_str()?.to_owned();
    let path = format!("{}{secret}", share.path);
    let origin = {
        #[cfg(feature = "hydrate")]
        {
            web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            String::new()
        }
    };
    Some(
        view! {
            <section class="share" data-testid="share">
                <h2>{locale.word(&format!("share_{}", share.field))}</h2>
                <input readonly=true data-testid="share-link" value=format!("{origin}{path}") />
                <p class="muted">{locale.word("share_hint")}</p>
            </section>
        }
        .into_any(),
    )
}

/// A signature drawn with a finger or a mouse on a canvas: each stroke is
/// drawn as it is made, and when a stroke ends the drawing is written to
/// `value` as a PNG data URL (what `stored::Reader::signature` reads);
/// "clear" starts again. The canvas keeps a fixed drawing size and is
/// scaled by CSS, so pointer positions are mapped onto it.
#[component]
fn SignaturePad(name: &'static str, value: RwSignal<String>) -> impl IntoView {
    let locale = use_locale();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let drawing = StoredValue::new(false);
    let down = move |ev: leptos::ev::PointerEvent| {
        ev.prevent_default();
        drawing.set_value(true);
        signature::stroke(canvas, &ev, true);
    };
    let moved = move |ev: leptos::ev::PointerEvent| {
        if drawing.get_value() {
            ev.prevent_default();
            signature::stroke(canvas, &ev, false);
        }
    };
    let up = move |_: leptos::ev::PointerEvent| {
        if drawing.get_value() {
            drawing.set_value(false);
            if let Some(png) = signature::png(canvas) {
                value.set(png);
            }
        }
    };
    let clear = move |_| {
        signature::clear(canvas);
        value.set(String::new());
    };
    view! {
        <div class="signature-pad">
            <small class="muted">{locale.word("sign_here")}</small>
            <canvas
                node_ref=canvas
                data-testid=format!("command-{name}")
                width="600"
                height="200"
                on:pointerdown=down
                on:pointermove=moved
                on:pointerup=up
                on:pointerleave=up
            ></canvas>
            <button type="button" class="link" data-testid="clear-signature" on:click=clear>
                {locale.word("clear_signature")}
            </button>
        </div>
    }
}

/// Drawing on a signature canvas (in the browser only: the server renders
/// the empty canvas).
mod signature {
    use leptos::prelude::*;

    #[cfg(feature = "hydrate")]
    fn context(
        canvas: NodeRef<leptos::html::Canvas>,
    ) -> Option<(web_sys::HtmlCanvasElement, web_sys::CanvasRenderingContext2d)> {
        use wasm_bindgen::JsCast;
        let element: web_sys::HtmlCanvasElement = canvas.get_untracked()?;
        let context = element
            .get_context("2d")
            .ok()??
            .dyn_into::<web_sys::CanvasRenderingContext2d>()
            .ok()?;
        Some((element, context))
    }

    /// A stroke's next point: the start of a new line, or a line to it.
    pub fn stroke(canvas: NodeRef<leptos::html::Canvas>, ev: &leptos::ev::PointerEvent, start: bool) {
        #[cfg(feature = "hydrate")]
        if let Some((element, context)) = context(canvas) {
            let rect = element.get_bounding_client_rect();
            if rect.width() <= 0.0 || rect.height() <= 0.0 {
                return;
            }
            let x = (f64::from(ev.client_x()) - rect.left()) * f64::from(element.width()) / rect.width();
            let y = (f64::from(ev.client_y()) - rect.top()) * f64::from(element.height()) / rect.height();
            if start {
                context.set_line_width(3.0);
                context.set_line_cap("round");
                context.set_stroke_style_str("#1b2a3a");
                context.begin_path();
                context.move_to(x, y);
            } else {
                context.line_to(x, y);
                context.stroke();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (canvas, ev, start);
    }

    /// The drawing as a PNG data URL.
    pub fn png(canvas: NodeRef<leptos::html::Canvas>) -> Option<String> {
        #[cfg(feature = "hydrate")]
        {
            context(canvas)?.0.to_data_url().ok()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = canvas;
            None
        }
    }

    pub fn clear(canvas: NodeRef<leptos::html::Canvas>) {
        #[cfg(feature = "hydrate")]
        if let Some((element, context)) = context(canvas) {
            context.clear_rect(0.0, 0.0, f64::from(element.width()), f64::from(element.height()));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = canvas;
    }
}

/// A record's lines as its page shows them: one line each, phones to tap,
/// the main one marked.
fn lines_view(
    field: &'static Field,
    lines: &'static Lines,
    fields: &Fields,
    locale: Locale,
) -> Option<AnyView> {
    let stored = fields.get(field.name)?.as_array().filter(|l| !l.is_empty())?;
    let items = stored
        .iter()
        .filter_map(Value::as_object)
        .map(|line| {
            let main = lines
                .flag
                .is_some_and(|flag| line.get(flag).and_then(Value::as_str) == Some("yes"));
            let parts = lines
                .fields
                .iter()
                .filter(|f| Some(f.name) != lines.flag)
                .filter_map(|f| {
                    let raw = line.get(f.name)?.as_str()?.to_owned();
                    Some(if f.input == Input::Phone {
                        view! { <a href=format!("tel:{raw}") data-testid="call">{raw.clone()}</a> }.into_any()
                    } else {
                        view! { <span>{raw}</span> }.into_any()
                    })
                })
                .collect_view();
            let flag = lines
                .flag
                .and_then(|flag| crate::schema::find(lines.fields, flag));
            view! {
                <li class="line-shown" data-testid="line-shown">
                    {parts}
                    {flag
                        .filter(|_| main)
                        .map(|flag| view! { <span class="badge status">{locale.say(flag.label)}</span> })}
                </li>
            }
        })
        .collect_view();
    Some(
        view! {
            <div class="row">
                <dt>{locale.say(field.label)}</dt>
                <dd>
                    <ul class="lines-shown">{items}</ul>
                </dd>
            </div>
        }
        .into_any(),
    )
}

/// A lines field's rows (a customer's contacts): each line's small inputs,
/// a button to remove it, one to add another. The rows are made once from
/// the text the form started with; every change writes the lines back to
/// the form's value as JSON (empty when there are none), which `to_fields`
/// reads.
#[component]
fn LinesInput(name: &'static str, lines: &'static Lines, value: RwSignal<String>) -> impl IntoView {
    let locale = use_locale();
    /// A row's key in the view, the line's identity (`LINE_ID`: kept from
    /// the stored line, new for a new line; none for a line stored before
    /// lines had one, which is known by its content) and its inputs.
    type Row = (u64, Value, Vec<(&'static str, RwSignal<String>)>);
    let next = StoredValue::new(0u64);
    let make_row = move |line: Option<&Fields>| -> Row {
        let key = next.get_value();
        next.set_value(key + 1);
        let id = match line {
            Some(line) => line.get(LINE_ID).cloned().unwrap_or(Value::Null),
            None => Value::String(uuid::Uuid::now_v7().to_string()),
        };
        let inputs = lines
            .fields
            .iter()
            .map(|f| {
                let text = line
                    .and_then(|line| line.get(f.name))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (f.name, RwSignal::new(text))
            })
            .collect();
        (key, id, inputs)
    };
    let started: Vec<Fields> = serde_json::from_str(&value.get_untracked()).unwrap_or_default();
    let rows = RwSignal::new(
        started
            .iter()
            .map(|line| make_row(Some(line)))
            .collect::<Vec<Row>>(),
    );
    Effect::new(move |_| {
        let typed: Vec<(Fields, Value)> = rows.with(|rows| {
            rows.iter()
                .map(|(_, id, inputs)| {
                    let values = inputs
                        .iter()
                        .map(|(n, v)| (n.to_string(), Value::String(v.get())))
                        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.trim().is_empty()))
                        .collect();
                    (values, id.clone())
                })
                .collect()
        });
        let text = if typed.iter().all(|(values, _)| values.is_empty()) {
            String::new()
        } else {
            let lines: Vec<Fields> = typed
                .into_iter()
                .map(|(values, id)| with_line_id(values, Some(&id)))
                .collect();
            serde_json::to_string(&lines).unwrap_or_default()
        };
        if value.get_untracked() != text {
            value.set(text);
        }
    });
    view! {
        <div class="lines-input" data-testid=format!("lines-{name}")>
            <For
                each=move || rows.get()
                key=|(key, _, _)| *key
                children=move |(key, _, inputs): Row| {
                    let cells = inputs
                        .into_iter()
                        .zip(lines.fields)
                        .map(|((field, value), f)| {
                            let input = match f.input {
                                Input::Choice(options) => view! {
                                    <select data-testid=format!("line-{field}") bind:value=value>
                                        {choice_options(f.name, options, locale)}
                                    </select>
                                }
                                .into_any(),
                                other => {
                                    let kind = match other {
                                        Input::Phone => "tel",
                                        Input::Date => "date",
                                        _ => "text",
                                    };
                                    view! { <input data-testid=format!("line-{field}") type=kind bind:value=value /> }
                                        .into_any()
                                }
                            };
                            view! {
                                <label class="line-cell">
                                    <small>{crate::schema::find(lines.fields, field).map_or(field, |f| locale.say(f.label))}</small>
                                    {input}
                                </label>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="line" data-testid="line">
                            {cells}
                            <button
                                type="button"
                                class="link"
                                data-testid="remove-line"
                                on:click=move |_| rows.update(|rows| rows.retain(|(k, _, _)| *k != key))
                            >
                                {locale.word("remove_line")}
                            </button>
                        </div>
                    }
                }
            />
            <button
                type="button"
                class="button"
                data-testid="add-line"
                on:click=move |_| {
                    let row = make_row(None);
                    rows.update(|rows| rows.push(row));
                }
            >
                {locale.word("add_line")}
            </button>
        </div>
    }
}

/// A reference field's lookup: the linked record (if any), and a search
/// over the records of the linked aggregate on this device; choosing one
/// stores its id and copies its fields into the form (`Link::copy`).
#[component]
fn ReferencePicker(
    name: &'static str,
    link: &'static Link,
    value: RwSignal<String>,
    form: Vec<(&'static str, RwSignal<String>)>,
    /// A new form opened with the link set (`?customer_id=…`): the linked
    /// record's fields fill the inputs still empty once it is read.
    prefill: bool,
) -> impl IntoView {
    use crate::search::{Query, SearchText};
    let locale = use_locale();
    let typed = RwSignal::new(String::new());
    let target = registered_spec(link.entity);
    let title = target.map_or("", |spec| spec.title);
    let known = client::use_prepared_records(
        link.entity,
        move |r| {
            let searched = SearchText::new(&r.fields, target.into_iter().flat_map(|spec| spec.searched()));
            Some((r.id, searched, r.fields))
        },
        |_, _| std::cmp::Ordering::Equal,
    );
    let summary = move |fields: &Fields| {
        let parts = [text(fields, title), text(fields, "code"), text(fields, "phone")];
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let chosen = move || {
        let id = uuid::Uuid::parse_str(&value.get()).ok()?;
        let found = known.with(|read| match read {
            Some(Ok(list)) => list
                .iter()
                .find(|(rid, _, _)| *rid == id)
                .map(|(_, _, f)| summary(f)),
            _ => None,
        });
        Some(found.unwrap_or_else(|| locale.word("reference_not_here").to_owned()))
    };
    // Copies the linked record's fields; `chosen` (a choice just made)
    // also replaces the name, a prefill only fills what is empty.
    let copy = move |fields: &Fields, chosen: bool| {
        for (i, (from, to)) in link.copy.iter().enumerate() {
            let copied = text(fields, from);
            if let Some((_, input)) = form.iter().find(|(n, _)| n == to) {
                if !copied.is_empty() && ((chosen && i == 0) || input.get_untracked().trim().is_empty()) {
                    input.set(copied);
                }
            }
        }
    };
    if prefill {
        let copy = copy.clone();
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            let Ok(id) = uuid::Uuid::parse_str(&value.get_untracked()) else {
                return true;
            };
            let found = known.with(|read| match read {
                Some(Ok(list)) => list
                    .iter()
                    .find(|(rid, _, _)| *rid == id)
                    .map(|(_, _, f)| f.clone()),
                _ => None,
            });
            match found {
                Some(fields) => {
                    copy(&fields, false);
                    true
                }
                None => false,
            }
        });
    }
    let choose = move |id: uuid::Uuid, fields: Fields| {
        value.set(id.to_string());
        copy(&fields, true);
        typed.set(String::new());
    };
    let candidates = move || {
        let query = Query::new(&typed.get());
        if query.is_empty() {
            return Vec::new();
        }
        known.with(|read| match read {
            Some(Ok(list)) => list
                .iter()
                .filter(|(_, searched, _)| query.matches(searched))
                .take(5)
                .map(|(id, _, fields)| (*id, fields.clone()))
                .collect(),
            _ => Vec::new(),
        })
    };
    view! {
        <div class="reference-picker" data-testid=format!("reference-{name}")>
            {move || match chosen() {
                Some(words) => view! {
                    <p class="reference-chosen">
                        <span data-testid="reference-chosen">{words}</span>
                        " "
                        <button type="button" data-testid="reference-clear" on:click=move |_| value.set(String::new())>
                            {locale.word("reference_clear")}
                        </button>
                    </p>
                }
                .into_any(),
                None => view! { <p class="muted" data-testid="reference-none">{locale.word("reference_none")}</p> }.into_any(),
            }}
            <input
                type="search"
                data-testid="reference-search"
                aria-label=locale.word("reference_search")
                placeholder=locale.word("reference_search")
                bind:value=typed
            />
            <ul class="reference-candidates">
                {move || {
                    let choose = choose.clone();
                    candidates()
                        .into_iter()
                        .map(|(id, fields)| {
                            let words = summary(&fields);
                            let choose = choose.clone();
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        data-testid="reference-candidate"
                                        on:click=move |_| choose(id, fields.clone())
                                    >
                                        {format!("{} · {words}", locale.word("reference_choose"))}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// A linked record on a page: its name (and code) opening its own page,
/// as this device holds it.
#[component]
fn LinkedRecord(link: &'static Link, id: String) -> impl IntoView {
    let locale = use_locale();
    let id = uuid::Uuid::parse_str(&id).ok();
    let title = registered_spec(link.entity).map_or("", |spec| spec.title);
    let record = client::use_local_record(link.entity, Signal::derive(move || id));
    move || {
        let found = record.with(|read| match read {
            Some(Ok(Some(view))) => Some(view.fields.clone()),
            _ => None,
        });
        match (found, id.and_then(|id| record_page(link.entity, id))) {
            (Some(fields), Some(page)) => {
                let code = text(&fields, "code");
                let words = [text(&fields, title), code]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ");
                view! { <A href=page attr:data-testid="linked-record">{words}</A> }.into_any()
            }
            _ => view! { <span class="muted">{locale.word("reference_not_here")}</span> }.into_any(),
        }
    }
}

/// The records on this device that link to this one (a customer's
/// tickets), one list per aggregate and reference field that points here.
fn related_records(screen: &'static RecordScreen, id: uuid::Uuid, me: &CurrentUser) -> impl IntoView + use<> {
    // A field typed in the form may be filled from here ("+ new visit"
    // of this customer); one set by a command (the customer a lead was
    // converted into) is only listed.
    ALL_SCREENS
        .iter()
        .flat_map(|other| {
            let typed = other.form().map(move |f| (*other, f, true));
            typed.chain(other.facts().map(move |f| (*other, f, false)))
        })
        .filter_map(|(other, f, typed)| match f.input {
            Input::Reference(link) if link.entity == screen.spec.name => Some((other, f.name, typed)),
            _ => None,
        })
        .filter(|(other, _, _)| policy::scope(me, other.spec.kind).is_some())
        .map(|(other, field, typed)| {
            let may_add = typed && policy::can_create(me, other.spec.kind);
            view! { <RelatedList screen=other field id tz=me.tz() may_add /> }
        })
        .collect_view()
}

/// The screens of records entered with the generic form.
pub const ALL_SCREENS: [&RecordScreen; 6] = [
    &LEAD_SCREEN,
    &TICKET_SCREEN,
    &VISIT_SCREEN,
    &CUSTOMER_SCREEN,
    &FOLLOW_UP_SCREEN,
    &SETTINGS_SCREEN,
];

#[component]
fn RelatedList(
    screen: &'static RecordScreen,
    field: &'static str,
    id: uuid::Uuid,
    tz: chrono_tz::Tz,
    /// The user enters such records: a link makes one linked to this.
    may_add: bool,
) -> impl IntoView {
    let locale = use_locale();
    let linked = client::use_prepared_records(
        screen.spec.name,
        move |r| {
            (text(&r.fields, field) == id.to_string()).then(|| {
                let when = text(&r.fields, screen.when);
                let status = screen
                    .status
                    .map(|status| status(&r.fields).to_owned())
                    .unwrap_or_default();
                (r.id, text(&r.fields, screen.spec.title), when, status)
            })
        },
        |a, b| b.2.cmp(&a.2),
    );
    move || {
        let list = linked.with(|read| match read {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        });
        (!list.is_empty() || may_add).then(|| {
            let count = list.len();
            let add = may_add.then(|| {
                view! {
                    <A
                        href=format!("{}/new?{field}={id}", screen.path)
                        attr:class="button"
                        attr:data-testid=format!("add-{}", screen.spec.name)
                    >
                        {format!("+ {}", locale.word("add_related"))}
                    </A>
                }
            });
            let items = list
                .into_iter()
                .map(|(rid, title, when, status)| {
                    let status =
                        (!status.is_empty()).then(|| locale.choice("status", &status).unwrap_or_default());
                    let when = chrono::DateTime::parse_from_rfc3339(&when)
                        .map(|at| at.with_timezone(&tz).format("%Y-%m-%d").to_string())
                        .unwrap_or_default();
                    view! {
                        <li data-testid="related-record">
                            <A href=format!("{}/{rid}", screen.path)>{title}</A>
                            " "
                            <span class="muted">{when}</span>
                            {status.map(|s| view! { " " <span class="badge status">{s}</span> })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="related" data-testid=format!("related-{}", screen.spec.name)>
                    <h2>{format!("{} · {count}", locale.say(screen.spec.plural))} " " {add}</h2>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}

/// Saves an edit: the changed fields, checked as the record will stand
/// after them, as a patch on the version the device holds; then back to
/// the record's page. A record locked as it stands (`EntitySpec::locked`)
/// is refused here as the server would refuse it.
fn save_edit(
    screen: &'static RecordScreen,
    record: &LocalView,
    started: &[(&'static str, String)],
    typed: &[(&'static str, String)],
    tz: chrono_tz::Tz,
    FormState {
        status,
        errors,
        failure,
    }: FormState,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    let page = format!("{}/{}", screen.path, record.id);
    if let Some(code) = (screen.spec.locked)(&record.fields) {
        return failure.set(Some(AppError::refused(code)));
    }
    let patch = edited_fields(screen, started, typed, tz);
    if let Err(found) = screen
        .spec
        .check(&patched(&record.fields, &patch), chrono::Utc::now())
    {
        return errors.set(found);
    }
    errors.set(Vec::new());
    if patch.is_empty() {
        return navigate(&page, Default::default());
    }
    let base = line_merge_base(screen.spec.fields, &record.fields, &patch);
    let mutation = Mutation {
        id: uuid::Uuid::now_v7(),
        entity: screen.spec.name.to_owned(),
        record_id: record.id,
        base_version: record.version,
        op: Op::Upsert,
        fields: patch,
        command: None,
        base,
    };
    leptos::task::spawn_local(async move {
        match client::save(status, mutation).await {
            Ok(()) => navigate(&page, Default::default()),
            Err(e) => failure.set(Some(e)),
        }
    });
}

/// What an edit started from, of the fields it changes that merge line by
/// line (`Mutation::base`): lines as the device held them, none as none.
fn line_merge_base(declared: &[Field], started: &Fields, patch: &Fields) -> Fields {
    declared
        .iter()
        .filter(|f| f.merge == crate::schema::Merge::ByLine && patch.contains_key(f.name))
        .map(|f| {
            let was = started.get(f.name).cloned().unwrap_or_default();
            let was = if was.is_null() {
                Value::Array(Vec::new())
            } else {
                was
            };
            (f.name.to_owned(), was)
        })
        .collect()
}

/// What a form saves through and where it says what went wrong: per
/// field, or for the whole form.
#[derive(Clone, Copy)]
struct FormState {
    status: client::SyncStatus,
    errors: RwSignal<Vec<FieldError>>,
    failure: RwSignal<Option<AppError>>,
}

/// One record (`{path}/:id`) from the device's store: its fields in words,
/// its approval's steps where it keeps one, and its commands as buttons.
/// Each button asks the entity's own `decide` whether it would be allowed
/// now, so a disabled one says why in the rule's words.
#[component]
fn RecordDetail(me: CurrentUser, screen: &'static RecordScreen) -> impl IntoView {
    use leptos_router::hooks::use_params_map;
    let locale = use_locale();
    let t = locale.texts();
    let params = use_params_map();
    let id =
        Signal::derive(move || params.with(|p| p.get("id").and_then(|id| uuid::Uuid::parse_str(&id).ok())));
    // Read again after every sync attempt and save; the page is rebuilt
    // only when the record really changed, so what is being typed beside a
    // command (a repair's record, a signature) survives a sync that
    // brought nothing new.
    let stored = client::use_local_record(screen.spec.name, id);
    let record = Memo::new(move |_| stored.get());
    move || {
        let me = me.clone();
        record.with(|read| match read {
            None => view! { <p class="empty">{t.loading}</p> }.into_any(),
            Some(Ok(None)) => {
                view! { <p class="empty" data-testid="not-on-device">{t.not_on_device}</p> }.into_any()
            }
            Some(Ok(Some(view))) => view! { <RecordSheet me screen record=view.clone() /> }.into_any(),
            Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
        })
    }
}

/// What a stored value reads as: a choice in words, a moment in the user's
/// zone, text as it is.
fn shown_value(form_field: &Field, raw: &str, tz: chrono_tz::Tz, locale: Locale) -> String {
    match form_field.input {
        Input::Choice(_) => locale.choice(form_field.name, raw).unwrap_or(raw).to_owned(),
        // A coded word in words; any other text (an agent's name) as typed.
        Input::TextOr(coded) if coded.contains(&raw) => {
            locale.choice(form_field.name, raw).unwrap_or(raw).to_owned()
        }
        Input::DateTime => chrono::DateTime::parse_from_rfc3339(raw)
            .map(|at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| raw.to_owned()),
        _ => raw.to_owned(),
    }
}

#[component]
fn RecordSheet(me: CurrentUser, screen: &'static RecordScreen, record: LocalView) -> impl IntoView {
    use crate::approvals::{Approver, Verdict};
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    let tz = me.tz();
    let fields = record.fields.clone();
    let title = text(&fields, screen.spec.title);
    let code = Some(text(&fields, "code")).filter(|c| !c.is_empty());
    let state = screen.status.map(|status| status(&fields).to_owned());
    let rows = screen
        .form()
        .chain(screen.facts())
        .filter_map(|f| {
            // Lines as lines; a field that became lines later may hold
            // the text it was written as, shown as text.
            if let (Input::Lines(lines), Some(Value::Array(_)) | None) = (f.input, fields.get(f.name)) {
                return lines_view(f, lines, &fields, locale);
            }
            let raw = text(&fields, f.name);
            (!raw.is_empty()).then(|| {
                let value = shown_value(f, &raw, tz, locale);
                let shown = if let Input::Reference(link) = f.input {
                    view! { <LinkedRecord link id=raw.clone() /> }.into_any()
                } else if f.input == Input::Signature {
                    view! { <img class="signature" data-testid=format!("shown-{}", f.name) src=raw.clone() alt=locale.say(f.label) /> }
                        .into_any()
                } else if f.input == Input::Phone {
                    view! { <a href=format!("tel:{raw}") data-testid="call">{value}</a> }.into_any()
                } else if f.input == Input::Email {
                    view! { <a href=format!("mailto:{raw}")>{value}</a> }.into_any()
                } else {
                    view! { <span>{value}</span> }.into_any()
                };
                view! {
                    <div class="row">
                        <dt>{locale.say(f.label)}</dt>
                        <dd>{shown}</dd>
                    </div>
                }
                .into_any()
            })
        })
        .collect_view();
    // Whose it is, for those who see others' records too.
    let owner = policy::sees_others(&me, screen.spec.kind).then(|| {
        let (_, name) = record.owner_or(&me);
        view! {
            <div class="row">
                <dt>{t.owner}</dt>
                <dd data-testid="record-owner">{name}</dd>
            </div>
        }
    });
    // The score a proposal comes from (a lead's screening score).
    let score = screen
        .proposal
        .as_ref()
        .and_then(|proposal| (proposal.rule)(&fields, &client::use_singles().get_untracked()))
        .map(|p| {
            view! {
                <div class="row">
                    <dt>{locale.word(&format!("proposal_score_{}", screen.spec.name))}</dt>
                    <dd data-testid="score">{format!("{} / {}", p.score, p.max)}</dd>
                </div>
            }
        });
    let approval = crate::approvals::stored(&fields);
    let approver_words = move |approver: Approver| match approver {
        Approver::Role(role) => locale.role(role).to_owned(),
        Approver::RequesterSupervisor => locale.role(crate::roles::Role::Supervisor).to_owned(),
    };
    let approval_view = approval.clone().map(|a| {
        let steps = a
            .steps
            .iter()
            .map(|step| {
                let verdict = match step.verdict {
                    Some(Verdict::Approved) => locale.word("approve"),
                    Some(Verdict::Rejected) => locale.word("reject"),
                    None => locale.word("pending"),
                };
                let who = step.by_name.clone().unwrap_or_default();
                let when = step
                    .at
                    .map(|at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                view! {
                    <li data-testid="approval-step">
                        <strong>{approver_words(step.approver)}</strong>
                        " · "
                        <span>{verdict}</span>
                        {(!who.is_empty()).then(|| format!(" · {who} {when}"))}
                        {step.comment.clone().map(|c| view! { <p class="muted" data-testid="approval-comment">{c}</p> })}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="approval" data-testid="approval">
                <h2>
                    {locale.word("approval")} " · "
                    {locale.word("approval_round").replace("{}", &a.round.to_string())} " · "
                    {format!("{} {}", locale.word("applicant"), a.requester_name)}
                </h2>
                <ol>{steps}</ol>
            </section>
        }
    });
    let (history_me, record_id) = (me.clone(), record.id);
    let may_act = policy::can_create(&me, screen.spec.kind) && !screen.spec.commands.is_empty();
    // What a refused command may name: its arguments and the record's fields.
    let declared = move || -> Vec<Field> {
        let args = screen.args.iter().flat_map(|a| a.fields.iter().copied());
        args.chain(screen.spec.fields.iter().copied()).collect()
    };
    // Read only through the pool: what is masked (the phone) says so.
    let masked_hint = policy::reads_in_pool(&me, screen.spec.kind, record.ownership(&me, screen.spec.kind))
        .then(|| view! { <p class="muted" data-testid="pool-hint">{locale.word("pool_hint")}</p> });
    // Edit where the policy lets the user write it; a record locked as it
    // stands says why instead.
    let may_photograph = policy::can_write(&me, screen.spec.kind, record.ownership(&me, screen.spec.kind));
    let edit = policy::can_write(&me, screen.spec.kind, record.ownership(&me, screen.spec.kind)).then(|| {
        match (screen.spec.locked)(&fields) {
            None => view! {
                <A href=edit_page(screen, record.id) attr:class="button" attr:data-testid="edit-record">
                    {locale.word("edit")}
                </A>
            }
            .into_any(),
            Some(code) => view! {
                <button data-testid="edit-record" disabled=true title=locale.refusal(code)>
                    {locale.word("edit")}
                </button>
                <p class="muted" data-testid="why-not-editable">{locale.refusal(code)}</p>
            }
            .into_any(),
        }
    });
    let failure = RwSignal::new(None::<AppError>);
    // Each argument of the screen's commands once (a comment serves both
    // approve and reject), typed above the buttons.
    let mut arg_fields: Vec<&'static Field> = Vec::new();
    for f in screen.args.iter().flat_map(|a| a.fields) {
        if !arg_fields.iter().any(|known| known.name == f.name) {
            arg_fields.push(f);
        }
    }
    let arg_values: Vec<(&'static str, RwSignal<String>)> = arg_fields
        .iter()
        .map(|f| (f.name, RwSignal::new(String::new())))
        .collect();
    let args_of = {
        let arg_values = arg_values.clone();
        let fields_now = record.fields.clone();
        move |name: &str| -> Fields {
            let mut args = Fields::new();
            for f in screen
                .args
                .iter()
                .filter(|a| a.command == name && (a.applies)(&fields_now))
                .flat_map(|a| a.fields)
            {
                if let Some((_, value)) = arg_values.iter().find(|(n, _)| *n == f.name) {
                    let typed = value.get_untracked();
                    if let Input::Lines(lines) = f.input {
                        let stored = lines_to_fields(lines, &typed);
                        if !stored.is_empty() {
                            args.insert(f.name.to_owned(), Value::Array(stored));
                        }
                    } else if !typed.trim().is_empty() {
                        args.insert(f.name.to_owned(), Value::String(typed.trim().to_owned()));
                    }
                }
            }
            args
        }
    };
    // The colleagues a command may name (a technician to dispatch to),
    // fetched when the page opens online.
    let person_role = screen
        .args
        .iter()
        .flat_map(|a| a.fields)
        .find_map(|f| match f.input {
            Input::Person(role) => Some(role),
            _ => None,
        });
    let people = person_role.map(|role| LocalResource::new(move || crate::auth::people(role)));
    let singles = client::use_singles();
    let context_now = move || crate::sync::entity::Context {
        people: people
            .and_then(|p| p.get())
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|person| (person.id, person))
            .collect(),
        // The day's count is the server's to know: the device asks it.
        today: Default::default(),
        singles: singles.get_untracked(),
        records: Default::default(),
    };
    let give = {
        let (me, record, arg_values) = (me.clone(), record.clone(), arg_values.clone());
        Action::new_local(move |(name, args): &(&'static str, Fields)| {
            let (me, record, name, args, arg_values) = (
                me.clone(),
                record.clone(),
                *name,
                args.clone(),
                arg_values.clone(),
            );
            let context = context_now();
            async move {
                match client::command_with(status, &me, screen.spec, &record, name, args, &context).await {
                    Ok(()) => {
                        failure.set(None);
                        for (_, value) in &arg_values {
                            value.set(String::new());
                        }
                    }
                    Err(e) => failure.set(Some(e)),
                }
            }
        })
    };
    let mut allowed_commands: Vec<&'static str> = Vec::new();
    // A pooled record offers its claim alone; one in someone's book every
    // command but the claim.
    let in_pool = policy::in_pool(record.ownership(&me, screen.spec.kind));
    let buttons = screen
        .spec
        .commands
        .iter()
        .filter(|name| screen.spec.claim.is_none_or(|claim| (**name == claim) == in_pool))
        // A pair's commands (a merge) are given on the pair's page.
        .filter(|name| {
            !screen
                .pairs
                .as_ref()
                .is_some_and(|pairs| pairs.commands.contains(name))
        })
        // A command of some records only (a repair's condition before) is
        // not offered on the others.
        .filter(|name| {
            screen
                .offered
                .iter()
                .all(|offer| offer.command != **name || (offer.when)(&record.fields))
        })
        .map(|name| {
            let name: &'static str = name;
            // Would the rule allow it now? Its arguments are stood in for by
            // a sample of what the user will type: only the rule's own
            // refusals disable, a missing argument is said on pressing.
            let probe = sample_args(screen, name);
            let call = crate::sync::entity::CommandCall {
                name,
                args: &probe,
                record: &record.fields,
                // As `client::command` will ask when the button is pressed.
                ownership: record.ownership(&me, screen.spec.kind),
                actor: &me,
                now: chrono::Utc::now(),
                context: &crate::sync::entity::Context::default(),
            };
            let why = match (screen.spec.decide)(&call) {
                Err(crate::sync::entity::Refusal::Rule(code)) => Some(locale.refusal(code)),
                _ => None,
            };
            let disabled = why.is_some();
            if !disabled {
                allowed_commands.push(name);
            }
            // A command given by making another record from this one (a
            // lead's conversion: the new customer's form): a link to it.
            if let Some(made) = made_by_form(screen, name) {
                let href = format!("{}/new?{}={}", made.0, made.1, record.id);
                return if disabled {
                    view! {
                        <button data-testid=format!("command-{name}") disabled=true title=why.clone().unwrap_or_default()>
                            {locale.word(name)}
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <A href=href attr:class="button" attr:data-testid=format!("command-{name}")>
                            {locale.word(name)}
                        </A>
                    }
                    .into_any()
                };
            }
            let args_of = args_of.clone();
            let click = move |_| {
                give.dispatch_local((name, args_of(name)));
            };
            view! {
                <button
                    class:primary=!disabled
                    data-testid=format!("command-{name}")
                    disabled=disabled
                    title=why.clone().unwrap_or_default()
                    on:click=click
                >
                    {locale.word(name)}
                </button>
            }
            .into_any()
        })
        .collect_view();
    // An argument is asked for while a command that takes it is allowed.
    let arg_inputs = arg_fields
        .iter()
        .zip(arg_values)
        .filter(|(f, _)| {
            screen.args.iter().any(|a| {
                allowed_commands.contains(&a.command)
                    && (a.applies)(&record.fields)
                    && a.fields.iter().any(|af| af.name == f.name)
            })
        })
        .map(|(f, (name, value))| {
            let input = match f.input {
                Input::Person(_) => view! {
                    <select data-testid=format!("command-{name}") bind:value=value>
                        <option value="">{t.choose}</option>
                        {move || match people.and_then(|p| p.get()) {
                            Some(Ok(found)) => found
                                .into_iter()
                                .map(|p| view! { <option value=p.id.to_string()>{p.display_name}</option> })
                                .collect_view()
                                .into_any(),
                            Some(Err(_)) => view! { <option value="" disabled=true>{locale.word("people_need_network")}</option> }.into_any(),
                            None => ().into_any(),
                        }}
                    </select>
                }
                .into_any(),
                Input::Choice(options) => view! {
                    <select data-testid=format!("command-{name}") bind:value=value>
                        {choice_options(name, options, locale)}
                    </select>
                }
                .into_any(),
                Input::Signature => view! { <SignaturePad name value /> }.into_any(),
                Input::Lines(lines) => view! { <LinesInput name lines value /> }.into_any(),
                Input::Text => view! { <input data-testid=format!("command-{name}") type="text" bind:value=value /> }
                    .into_any(),
                _ => view! { <textarea data-testid=format!("command-{name}") rows="2" bind:value=value /> }
                    .into_any(),
            };
            let label = view! {
                <span>
                    {locale.say(f.label)}
                    {(!f.required).then(|| view! { <small class="muted">{t.optional}</small> })}
                </span>
            };
            // A label passes a click inside it on to its first button: the
            // signature pad (a canvas and its "clear" button) and the lines
            // (inputs and buttons) are groups.
            if matches!(f.input, Input::Signature | Input::Lines(_)) {
                view! { <div class="field">{label} {input}</div> }.into_any()
            } else {
                view! { <label class="field">{label} {input}</label> }.into_any()
            }
        })
        .collect_view();
    let singles = client::use_singles().get_untracked();
    let deadlines = screen.deadlines.map(|rule| rule(record.id, &fields, tz, &singles)).filter(|found| !found.is_empty()).map(|found| {
        let now = crate::ui::use_now();
        view! {
            <section class="deadlines" data-testid="deadlines">
                <h2>{locale.word("deadlines")}</h2>
                <ul>
                    {found
                        .into_iter()
                        .map(|d| {
                            let due = d.due_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
                            view! {
                                <li data-testid=format!("deadline-{}", d.kind)>
                                    <strong>{locale.word(&format!("deadline_{}", d.kind))}</strong>
                                    " · "
                                    <span class="muted">{format!("{} {due}", locale.word("due_at"))}</span>
                                    " "
                                    {move || deadline_badge(d, now.get(), locale)}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    });
    view! {
        <Title text=format!("{title} · {}", t.app_name) />
        <p><A href=screen.path>{format!("‹ {}", locale.say(screen.spec.plural))}</A></p>
        <article class="card sheet" data-testid="record-detail">
            <div class="sheet-head">
                {screen.badge.map(|field| badge_view(field, &fields, locale))}
                <h1>{title.clone()}</h1>
                {code.map(|c| view! { <span class="badge status" data-testid="record-code">{c}</span> })}
                {state.map(|s| view! { <span class="badge status" data-testid="record-status">{locale.choice("status", &s).unwrap_or_default()}</span> })}
                {record.pending.then(|| view! { <span class="badge pending">{t.not_synced}</span> })}
            </div>
            {record
                .rejected
                .clone()
                .map(|e| view! { <p class="form-error" role="alert" data-testid="record-refused">{locale.error(&e)}</p> })}
            {masked_hint}
            {screen.pairs.as_ref().map(|pairs| view! { <LookAlikeNote screen pairs id=record.id /> })}
            <dl class="sheet-fields">{rows} {score} {owner}</dl>
            {edit.map(|edit| view! { <div class="actions wrap" data-testid="record-edit">{edit}</div> })}
            {deadlines}
            {share_link(screen, &fields, locale)}
            {screen
                .photos
                .then(|| {
                    view! {
                        <crate::photos::view::RecordPhotos
                            entity=screen.spec.name
                            record_id=record.id
                            may_add=may_photograph
                        />
                    }
                })}
            {approval_view}
            {related_records(screen, record.id, &me)}
            {may_act
                .then(|| {
                    view! {
                        <div class="commands" data-testid="record-commands">
                            {arg_inputs}
                            <div class="actions wrap">{buttons}</div>
                            {move || {
                                failure
                                    .get()
                                    .map(|e| {
                                        view! {
                                            <p class="form-error" role="alert" data-testid="command-refused">
                                                {crate::schema::error_in_words(locale, &e, &declared())}
                                            </p>
                                        }
                                    })
                            }}
                        </div>
                    }
                })}
        </article>
        <RecordHistory me=history_me entity=screen.spec.name id=record_id />
    }
}

/// A record's history from the server's audit trail, newest first: who,
/// when, what they did, and each changed field before → after, in words.
/// It needs the network (the trail is not copied to phones); offline it
/// says so.
#[component]
pub fn RecordHistory(me: CurrentUser, entity: &'static str, id: uuid::Uuid) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let tz = me.tz();
    let entries = LocalResource::new(move || crate::sync::api::history(entity.to_owned(), id));
    let spec = registered_spec(entity);
    // A field the write added had no value before.
    let value = move |field: &str, v: Option<&Value>| {
        let declared = spec.and_then(|s| s.field(field));
        crate::conflicts::show_value(declared, field, v.unwrap_or(&Value::Null), &me, locale)
    };
    view! {
        <section class="history" data-testid="history">
            <h2>{locale.word("history")}</h2>
            {move || {
                entries
                    .get()
                    .map(|read| match read {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.no_records}</p> }.into_any(),
                        Ok(list) => {
                            view! {
                                <ol class="history-list">
                                    {list
                                        .into_iter()
                                        .map(|entry| {
                                            let action = match locale.word(&format!("action_{}", entry.action)) {
                                                "" => match locale.word(&entry.action) {
                                                    "" => entry.action.clone(),
                                                    word => word.to_owned(),
                                                },
                                                word => word.to_owned(),
                                            };
                                            let who = entry.actor.clone().unwrap_or_else(|| locale.word("system").to_owned());
                                            let when = entry.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
                                            let changes = if entry.action == "create" {
                                                Vec::new()
                                            } else {
                                                entry
                                                    .after
                                                    .iter()
                                                    .flatten()
                                                    .map(|(field, after)| {
                                                        let before = entry.before.as_ref().and_then(|b| b.get(field));
                                                        format!(
                                                            "{}：{} → {}",
                                                            spec.map_or(field.as_str(), |s| s.label(field, locale)),
                                                            value(field, before),
                                                            value(field, Some(after)),
                                                        )
                                                    })
                                                    .collect()
                                            };
                                            view! {
                                                <li data-testid="history-entry">
                                                    <div>
                                                        <strong>{action}</strong>
                                                        " · "
                                                        <span>{who}</span>
                                                        " · "
                                                        <span class="muted">{when}</span>
                                                    </div>
                                                    <ul class="muted">
                                                        {changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                                                    </ul>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                            }
                                .into_any()
                        }
                        Err(AppError::Network) => {
                            view! { <p class="muted" data-testid="history-offline">{locale.word("history_needs_network")}</p> }
                                .into_any()
                        }
                        Err(e) => view! { <p class="form-error">{locale.error(&e)}</p> }.into_any(),
                    })
                    .unwrap_or_else(|| view! { <p class="muted">{t.loading}</p> }.into_any())
            }}
        </section>
    }
}

/// Where a record opens: its entity's page `{path}/{id}`.
pub fn record_page(entity: &str, id: uuid::Uuid) -> Option<String> {
    let path = match entity {
        "lead" => "/leads",
        _ => {
            ALL_SCREENS
                .into_iter()
                .find(|screen| screen.spec.name == entity)?
                .path
        }
    };
    Some(format!("{path}/{id}"))
}

/// A choice's options in words, after an empty "choose" one.
/// "2 小时内联系客户 8/10 · 80%", one entry per rate; "—" with nothing decided yet.
fn rates_line(rates: &[crate::screen::Rate], locale: Locale) -> impl IntoView + use<> {
    let entries = rates
        .iter()
        .map(|rate| {
            view! {
                <span data-testid=format!("rate-{}", rate.kind)>
                    {format!("{} {}/{} · {}", locale.word(rate.kind), rate.met, rate.decided, rate.share())}
                </span>
            }
        })
        .collect_view();
    view! { <p class="rates" data-testid="rates">{entries}</p> }
}

/// A choice shown as a round badge (a lead's grade): its value, its
/// words on hover.
fn badge_view(field: &'static str, fields: &Fields, locale: Locale) -> impl IntoView + use<> {
    let value = text(fields, field);
    view! {
        <span class=format!("grade grade-{value}") data-testid=format!("badge-{field}") title=locale.choice(field, &value).unwrap_or_default()>
            {value.clone()}
        </span>
    }
}

fn choice_options(
    field: &'static str,
    options: &'static [&'static str],
    locale: Locale,
) -> impl IntoView + use<> {
    view! {
        <option value="">{locale.texts().choose}</option>
        {options
            .iter()
            .map(|o| view! { <option value=*o>{locale.choice(field, o).unwrap_or(o)}</option> })
            .collect_view()}
    }
}

/// What stands in for a command's arguments when asking its rule whether
/// it would be allowed: the first choice, or some text.
fn sample_args(screen: &RecordScreen, command: &str) -> Fields {
    let mut probe = Fields::new();
    for f in screen
        .args
        .iter()
        .filter(|a| a.command == command)
        .flat_map(|a| a.fields)
    {
        let sample = match f.input {
            Input::Choice(options) => options.first().copied().unwrap_or("…"),
            // Whom the user will choose, and the lines they will add, are
            // for the rule to judge then.
            Input::Person(_) | Input::Lines(_) => continue,
            _ => "…",
        };
        probe.insert(f.name.to_owned(), Value::String(sample.to_owned()));
    }
    probe
}

/// A deadline as a badge: time left, overdue, or met (in time or late).
pub fn deadline_badge(
    deadline: crate::screen::Deadline,
    now: chrono::DateTime<chrono::Utc>,
    locale: Locale,
) -> impl IntoView + use<> {
    use crate::screen::DeadlineState;
    let state = deadline.state(now);
    let class = match state {
        DeadlineState::Running(_) => "badge clock running",
        DeadlineState::Overdue(_) | DeadlineState::MetLate => "badge clock late",
        DeadlineState::MetInTime => "badge clock met",
    };
    view! { <span class=class data-testid="deadline-state">{state.words(locale)}</span> }
}

/// The form a command is given through, by making another record from
/// this one (a lead's `convert`: the new customer's form): its path and
/// the address's parameter naming this record.
fn made_by_form(screen: &RecordScreen, command: &str) -> Option<(&'static str, &'static str)> {
    ALL_SCREENS.iter().find_map(|other| {
        other
            .from
            .as_ref()
            .filter(|from| from.spec.name == screen.spec.name && from.then.0 == command)
            .map(|from| (other.path, from.param))
    })
}

/// On a record's page, when the device holds records that look like it
/// (a customer entered twice): a link to the pair's page.
#[component]
fn LookAlikeNote(
    screen: &'static RecordScreen,
    pairs: &'static crate::screen::Pairs,
    id: uuid::Uuid,
) -> impl IntoView {
    let locale = use_locale();
    let held = client::use_prepared_records(
        screen.spec.name,
        |r| Some((r.id, r.fields)),
        |_, _| std::cmp::Ordering::Equal,
    );
    move || {
        let found = held.with(|read| match read {
            Some(Ok(list)) => {
                let refs: Vec<(uuid::Uuid, &Fields)> = list.iter().map(|(id, f)| (*id, f)).collect();
                (pairs.find)(&refs).iter().any(|(a, b)| *a == id || *b == id)
            }
            _ => false,
        });
        found.then(|| {
            view! {
                <p class="look-alike-note" data-testid="look-alike-note">
                    <A href=format!("{}?id={id}", pairs.path)>{format!("{} ›", locale.word("look_alike_note"))}</A>
                </p>
            }
        })
    }
}

/// The records on this device that may be the company being typed: same
/// name (however written), phone or credit code. A warning, not a refusal:
/// two real companies may share a switchboard.
#[component]
fn DuplicateWarning(
    screen: &'static RecordScreen,
    me: CurrentUser,
    typed: Vec<(&'static str, RwSignal<String>)>,
    /// The record being edited, which is not its own duplicate.
    exclude: Option<uuid::Uuid>,
) -> impl IntoView {
    use crate::dedup::Keys;
    let locale = use_locale();
    let t = locale.texts();
    let known = client::use_prepared_records(
        screen.spec.name,
        move |r| {
            if Some(r.id) == exclude {
                return None;
            }
            let keys = Keys::of(&r.fields);
            let (_, owner) = r.owner_or(&me);
            (!keys.is_empty()).then(|| {
                (
                    keys,
                    text(&r.fields, screen.spec.title),
                    owner,
                    text(&r.fields, "code"),
                )
            })
        },
        |_, _| std::cmp::Ordering::Equal,
    );
    let value_of = move |name: &str| {
        typed
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.get())
            .unwrap_or_default()
    };
    let typed_keys = Memo::new(move |_| (value_of("company"), value_of("phone"), value_of("credit_code")));
    // When online, the server's answer too: customers of the whole company,
    // those out of the user's scope by name and owner only. Asked 400 ms
    // after the typing stops; a late answer to older typing is dropped.
    let remote = RwSignal::new(Vec::<crate::customers::DuplicateCandidate>::new());
    let asked = std::rc::Rc::new(std::cell::Cell::new(0u64));
    Effect::new(move |_| {
        let (company, phone, code) = typed_keys.get();
        let asked = asked.clone();
        let this = asked.get() + 1;
        asked.set(this);
        if Keys::new(&company, &phone, &code).is_empty() {
            remote.set(Vec::new());
            return;
        }
        set_timeout(
            move || {
                if asked.get() != this {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(found) = crate::customers::duplicates(company, phone, code).await {
                        if asked.get() == this {
                            remote.set(found);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(400),
        );
    });
    move || {
        let (company, phone, code) = typed_keys.get();
        let keys = Keys::new(&company, &phone, &code);
        let found: Vec<_> = known.with(|read| match read {
            Some(Ok(list)) if !keys.is_empty() => list
                .iter()
                .filter_map(|(theirs, title, owner, code)| {
                    let shared = keys.shared(theirs);
                    (!shared.is_empty()).then(|| (title.clone(), owner.clone(), code.clone(), shared))
                })
                .take(5)
                .collect(),
            _ => Vec::new(),
        });
        let elsewhere: Vec<String> = remote.with(|candidates| {
            candidates
                .iter()
                .filter(|c| c.id.is_none() || c.id != exclude)
                .filter(|c| {
                    !found
                        .iter()
                        .any(|(title, owner, _, _)| *title == c.company && *owner == c.owner_name)
                })
                .map(|c| {
                    format!(
                        "{} {} · {} {}",
                        c.company,
                        c.code.clone().unwrap_or_default(),
                        t.owner,
                        c.owner_name
                    )
                })
                .collect()
        });
        (!found.is_empty() || !elsewhere.is_empty()).then(|| {
            view! {
                <div class="duplicates" role="status" data-testid="duplicates">
                    <strong>{t.possible_duplicates}</strong>
                    <ul>
                        {found
                            .into_iter()
                            .map(|(title, owner, code, shared)| {
                                let by: Vec<&str> = shared.iter().map(|f| screen.spec.label(f, locale)).collect();
                                view! {
                                    <li data-testid="duplicate">
                                        {format!("{title} {code} · {} {owner} · {}", t.owner, by.join("、"))}
                                    </li>
                                }
                            })
                            .collect_view()}
                        {elsewhere
                            .into_iter()
                            .map(|line| view! { <li data-testid="duplicate">{line}</li> })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edit_sends_only_what_was_changed_and_an_emptied_field_as_null() {
        let tz = chrono_tz::Asia::Shanghai;
        let stored = json!({
            "customer_name": "宁波远航物流",
            // Stored to the second; the input shows it to the minute.
            "visited_at": "2026-12-03T01:30:42Z",
            "purpose": "了解产线改造需求",
            "met_name": "王建国",
        });
        let stored = stored.as_object().unwrap();
        let started: Vec<(&'static str, String)> = VISIT_SCREEN
            .form()
            .map(|f| (f.name, editable_text(f, stored.get(f.name), tz)))
            .collect();
        assert!(started.contains(&("visited_at", "2026-12-03T09:30".to_owned())));
        let unchanged = edited_fields(&VISIT_SCREEN, &started, &started, tz);
        assert!(unchanged.is_empty(), "{unchanged:?}");

        let typed: Vec<(&'static str, String)> = started
            .iter()
            .map(|(name, text)| match *name {
                "met_name" => (*name, String::new()),
                "met_title" => (*name, " 生产总监 ".to_owned()),
                _ => (*name, text.clone()),
            })
            .collect();
        let patch = edited_fields(&VISIT_SCREEN, &started, &typed, tz);
        assert_eq!(
            Value::Object(patch.clone()),
            json!({"met_name": null, "met_title": "生产总监"})
        );
        let after = patched(stored, &patch);
        assert_eq!(after.get("visited_at"), stored.get("visited_at"));
        assert!(!after.contains_key("met_name"));
        assert_eq!(crate::visits::VISIT.check(&after, chrono::Utc::now()), Ok(()));
    }

    #[test]
    fn typed_contacts_are_stored_trimmed_normalised_and_with_one_main_contact() {
        let lines = &crate::customers::CONTACTS;
        let typed = json!([
            {"name": " 陈志强 ", "title": "采购经理", "phone": "+86 139-1234-5678"},
            {"name": "", "title": "", "phone": ""},
            {"name": "李娜", "phone": "0512-66778899", "primary": ""},
        ])
        .to_string();
        let stored = lines_to_fields(lines, &typed);
        assert_eq!(
            Value::Array(stored.clone()),
            json!([
                {"name": "陈志强", "title": "采购经理", "phone": "13912345678", "primary": "yes"},
                {"name": "李娜", "phone": "0512-66778899"},
            ])
        );
        // As stored, the edit form starts from the same text it would send
        // back untouched: no change.
        let form_field = CUSTOMER_SCREEN.form().find(|f| f.name == "contacts").unwrap();
        let text = editable_text(
            form_field,
            Some(&Value::Array(stored.clone())),
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(lines_to_fields(lines, &text), stored);
        // A line left only with its mark is no line; nothing typed is nothing.
        assert!(lines_to_fields(lines, r#"[{"primary": "no"}]"#).is_empty());
        assert!(lines_to_fields(lines, "").is_empty());
        // A line keeps the identity it was typed under, even alone with its
        // mark it is no line.
        let id = "0193a1b2-0000-7000-8000-000000000001";
        let typed = json!([{"id": id, "name": "陈志强"}, {"id": "0193a1b2-0000-7000-8000-000000000002", "primary": "no"}]);
        assert_eq!(
            Value::Array(lines_to_fields(lines, &typed.to_string())),
            json!([{"id": id, "name": "陈志强", "primary": "yes"}])
        );
    }

    #[test]
    fn an_edit_of_lines_says_what_it_started_from() {
        let started = json!({"company": "恒达", "contacts": [{"name": "陈志强", "primary": "yes"}]});
        let started = started.as_object().unwrap();
        let fields = crate::customers::CUSTOMER.fields;
        let patch = json!({"company": "恒达精密", "contacts": [{"name": "李娜", "primary": "yes"}]});
        assert_eq!(
            Value::Object(line_merge_base(fields, started, patch.as_object().unwrap())),
            json!({"contacts": [{"name": "陈志强", "primary": "yes"}]})
        );
        // Lines where there were none: none, said as such.
        let patch = json!({"contacts": [{"name": "李娜", "primary": "yes"}]});
        assert_eq!(
            Value::Object(line_merge_base(
                fields,
                &Fields::new(),
                patch.as_object().unwrap()
            )),
            json!({"contacts": []})
        );
        // No lines changed: no base.
        let patch = json!({"company": "恒达精密"});
        assert!(line_merge_base(fields, started, patch.as_object().unwrap()).is_empty());
    }
}
