//! The lead screens: the list (cards on a phone, a table on a desk) and the
//! entry form, which checks with the same `LeadForm::validate` as the server.

use super::{work_order, Grade, LeadFilter, LeadForm, LeadSource, LocalLead, ValidLead};
use crate::client::{use_prepared_records, use_sync_status};
use crate::error::{AppError, FieldError};
use crate::i18n::Locale;
use crate::policy::{self, Scope};
use crate::roles::CurrentUser;
use crate::search::{owners, Query, SearchText};
use crate::sync::{Mutation, Op};
use crate::ui::{
    leave_when_synced, local_time, texts, use_locale, with_user, OwnerFilter, SavedOnDevice, SearchBox,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn LeadsPage() -> impl IntoView {
    with_user(move |me| {
        // Service staff have no leads: their home is the ticket list.
        let Some(scope) = policy::lead_scope(&me) else {
            // The admin's work is the company's settings.
            let home = if policy::can_create(&me, policy::Kind::Settings) {
                "/company-settings"
            } else {
                "/tickets"
            };
            return view! { <leptos_router::components::Redirect path=home /> }.into_any();
        };
        view! { <LeadList me scope /> }.into_any()
    })
}

/// The leads on this device (exactly the user's scope, kept by sync), so the
/// list is the same online and offline.
#[component]
fn LeadList(me: CurrentUser, scope: Scope) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let can_add = policy::can_create_lead(&me);
    let query = RwSignal::new(String::new());
    let filter = RwSignal::new(LeadFilter::default());
    let leads = use_prepared_records(
        super::record::LEAD.name,
        {
            let me = me.clone();
            move |view| {
                let searched = SearchText::new(&view.fields, super::record::LEAD.searched);
                LocalLead::from_view(view, &me).map(|lead| (searched, lead))
            }
        },
        |(_, a): &(SearchText, LocalLead), (_, b)| work_order(&a.lead, &b.lead),
    );
    view! {
        <Title text=format!("{} · {}", t.leads, t.app_name) />
        <div class="page-head">
            <h1>{t.leads}</h1>
            {can_add
                .then(|| {
                    view! {
                        <A href="/leads/new" attr:class="button primary" attr:data-testid="new-lead">
                            "+ "
                            {t.new_lead}
                        </A>
                    }
                })}
        </div>
        <SearchBox query />
        <div class="list-filters">
            <label>
                <span class="visually-hidden">{t.grade}</span>
                <select
                    data-testid="filter-grade"
                    on:change=move |ev| filter.update(|f| f.grade = Grade::parse(&event_target_value(&ev)))
                >
                    <option value="">{t.all_grades}</option>
                    {Grade::ALL
                        .map(|grade| view! { <option value=grade.as_str()>{locale.grade(grade)}</option> })
                        .collect_view()}
                </select>
            </label>
            {(!matches!(scope, Scope::Own(_)))
                .then(|| {
                    view! {
                        <OwnerFilter
                            owners=Signal::derive(move || {
                                leads
                                    .with(|read| match read {
                                        Some(Ok(list)) => {
                                            owners(list.iter().map(|(_, l)| (l.lead.owner_id, l.lead.owner_name.as_str())))
                                        }
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
            leads.with(|read| match read {
                None => view! { <p class="empty">{t.loading}</p> }.into_any(),
                Some(Ok(list)) => {
                    let total = list.len();
                    let found: Vec<&LocalLead> = list
                        .iter()
                        .filter(|(searched, lead)| wanted.matches(searched) && narrowed.matches(&lead.lead))
                        .map(|(_, lead)| lead)
                        .collect();
                    let count = found.len();
                    let shown = found.into_iter().take(crate::client::LIST_LIMIT).cloned().collect();
                    let searching = !wanted.is_empty() || !narrowed.is_empty();
                    view! { <LeadTable shown count total searching scope me=me.clone() /> }.into_any()
                }
                Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
            })
        }}
    }
}

#[component]
/// `shown`: the first matching leads in work order; `count` of them match
/// the search, among `total` on the device.
fn LeadTable(
    shown: Vec<LocalLead>,
    count: usize,
    total: usize,
    searching: bool,
    scope: Scope,
    me: CurrentUser,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let scope_label = match scope {
        Scope::Own(_) => t.scope_own,
        Scope::Team(_) => t.scope_team,
        Scope::All => t.scope_all,
    };
    let show_owner = !matches!(scope, Scope::Own(_));
    if shown.is_empty() {
        let empty = if searching {
            t.no_matches
        } else {
            crate::ui::empty_list_text(t.no_leads)
        };
        return view! { <p class="empty" data-testid="list-empty">{empty}</p> }.into_any();
    }
    let counted = if searching {
        format!("{scope_label} · {count} / {total} {}", t.matches)
    } else {
        format!("{scope_label} · {count} {}", t.leads_count)
    };
    view! {
        <p class="muted" data-testid="lead-count">{counted}</p>
        <ul class="lead-list" data-testid="lead-list">
            {shown
                .into_iter()
                .map(|lead| view! { <LeadCard lead me=me.clone() show_owner locale /> })
                .collect_view()}
        </ul>
        {(count > crate::client::LIST_LIMIT)
            .then(|| view! { <p class="muted">{format!("{} {}", t.showing_first, crate::client::LIST_LIMIT)}</p> })}
    }
    .into_any()
}

#[component]
fn LeadCard(lead: LocalLead, me: CurrentUser, show_owner: bool, locale: Locale) -> impl IntoView {
    let t = locale.texts();
    let LocalLead {
        lead,
        pending,
        rejected,
    } = lead;
    let grade_class = format!("grade grade-{}", lead.grade.as_str());
    let overdue = super::record::screening_overdue(
        lead.status,
        lead.created_at,
        chrono::Utc::now(),
        me.tz(),
        &crate::settings::ProcessSettings::of(&crate::client::use_singles().get_untracked()).calendar(),
    );
    let reach = lead.phone.clone().or(lead.email.clone()).unwrap_or_default();
    let contact = match &lead.contact_title {
        Some(title) => format!("{} · {title}", lead.contact_name),
        None => lead.contact_name.clone(),
    };
    view! {
        <li class="lead-card" data-testid="lead-card">
            <span class=grade_class title=locale.grade(lead.grade)>
                {lead.grade.as_str()}
            </span>
            <div class="lead-main">
                <A href=format!("/leads/{}", lead.id) attr:class="company" attr:data-testid="open-lead">
                    {lead.company.clone()}
                </A>
                <span class="muted">{format!("{} · {}", lead.industry, locale.lead_source(lead.source))}</span>
            </div>
            <div class="lead-contact">
                <span>{contact}</span>
                <span class="muted">{reach}</span>
            </div>
            <div class="lead-meta muted">
                <span>{format!("{} {}", t.contacted_at, local_time(lead.contacted_at, &me))}</span>
                {show_owner.then(|| view! { <span>{format!("{} {}", t.owner, lead.owner_name)}</span> })}
                {(lead.status != super::LeadStatus::New)
                    .then(|| view! { <span class="badge status">{locale.lead_status(lead.status)}</span> })}
                {overdue.then(|| view! { <span class="badge rejected" data-testid="screening-overdue">{t.screening_overdue}</span> })}
                {pending.then(|| view! { <span class="badge pending">{t.not_synced}</span> })}
                {rejected.map(|e| view! { <span class="badge rejected">{locale.error(&e)}</span> })}
            </div>
        </li>
    }
}

#[component]
pub fn NewLeadPage() -> impl IntoView {
    with_user(|me| view! { <LeadFormView me /> })
}

/// `/leads/:id/edit`: the lead's form filled from the device's copy (read
/// once, so a sync while typing does not reset it).
#[component]
pub fn EditLeadPage() -> impl IntoView {
    with_user(|me| {
        let locale = use_locale();
        let t = locale.texts();
        let record = crate::records::loaded_once(super::record::LEAD.name);
        move || {
            let me = me.clone();
            match record.get() {
                None => view! { <p class="empty">{t.loading}</p> }.into_any(),
                Some(Ok(None)) => {
                    view! { <p class="empty" data-testid="not-on-device">{t.not_on_device}</p> }.into_any()
                }
                Some(Ok(Some(view))) => view! { <LeadFormView me editing=view /> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error">{locale.error(&e)}</p> }.into_any(),
            }
        }
    })
}

/// One signal per field of the form.
#[derive(Clone, Copy)]
struct FormFields {
    company: RwSignal<String>,
    industry: RwSignal<String>,
    staff_size: RwSignal<String>,
    revenue_band: RwSignal<String>,
    contact_name: RwSignal<String>,
    contact_title: RwSignal<String>,
    phone: RwSignal<String>,
    email: RwSignal<String>,
    source: RwSignal<String>,
    initial_need: RwSignal<String>,
    grade: RwSignal<String>,
    industry_fit: RwSignal<String>,
    scale: RwSignal<String>,
    budget: RwSignal<String>,
    decision_chain: RwSignal<String>,
    contacted_at: RwSignal<String>,
    next_step: RwSignal<String>,
    next_step_date: RwSignal<String>,
    notes: RwSignal<String>,
}

impl FormFields {
    fn new() -> Self {
        let s = || RwSignal::new(String::new());
        Self {
            company: s(),
            industry: s(),
            staff_size: s(),
            revenue_band: s(),
            contact_name: s(),
            contact_title: s(),
            phone: s(),
            email: s(),
            source: s(),
            initial_need: s(),
            grade: s(),
            industry_fit: s(),
            scale: s(),
            budget: s(),
            decision_chain: s(),
            contacted_at: s(),
            next_step: s(),
            next_step_date: s(),
            notes: s(),
        }
    }

    /// Every input with the stored field it fills.
    fn all(&self) -> [(&'static str, RwSignal<String>); 19] {
        [
            ("company", self.company),
            ("industry", self.industry),
            ("staff_size", self.staff_size),
            ("revenue_band", self.revenue_band),
            ("contact_name", self.contact_name),
            ("contact_title", self.contact_title),
            ("phone", self.phone),
            ("email", self.email),
            ("source", self.source),
            ("initial_need", self.initial_need),
            ("grade", self.grade),
            ("industry_fit", self.industry_fit),
            ("scale", self.scale),
            ("budget", self.budget),
            ("decision_chain", self.decision_chain),
            ("contacted_at", self.contacted_at),
            ("next_step", self.next_step),
            ("next_step_date", self.next_step_date),
            ("notes", self.notes),
        ]
    }

    fn clear(&self) {
        for (_, field) in self.all() {
            field.set(String::new());
        }
    }

    /// Filled from a stored lead: the contact time in the user's zone to
    /// the minute, as the input takes it; the rest as stored.
    fn fill(&self, stored: &crate::sync::Fields, tz: chrono_tz::Tz) {
        for (name, field) in self.all() {
            let raw = stored
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            field.set(if name == "contacted_at" {
                chrono::DateTime::parse_from_rfc3339(raw)
                    .map(|at| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
                    .unwrap_or_default()
            } else {
                raw.to_owned()
            });
        }
    }

    /// The text of every input now.
    fn texts(&self) -> Vec<(&'static str, String)> {
        self.all()
            .into_iter()
            .map(|(name, field)| (name, field.get_untracked()))
            .collect()
    }

    fn read(&self, id: uuid::Uuid) -> LeadForm {
        let g = |s: RwSignal<String>| s.get_untracked();
        LeadForm {
            id: Some(id),
            company: g(self.company),
            industry: g(self.industry),
            staff_size: g(self.staff_size),
            revenue_band: g(self.revenue_band),
            contact_name: g(self.contact_name),
            contact_title: g(self.contact_title),
            phone: g(self.phone),
            email: g(self.email),
            source: g(self.source),
            initial_need: g(self.initial_need),
            grade: g(self.grade),
            industry_fit: g(self.industry_fit),
            scale: g(self.scale),
            budget: g(self.budget),
            decision_chain: g(self.decision_chain),
            contacted_at: g(self.contacted_at),
            next_step: g(self.next_step),
            next_step_date: g(self.next_step_date),
            notes: g(self.notes),
        }
    }
}

/// A new lead's form, or (`editing`) a stored one's: an edit sends only the
/// fields whose inputs changed, on the version the device holds, and
/// returns to the lead's page.
#[component]
fn LeadFormView(
    me: CurrentUser,
    #[prop(optional)] editing: Option<crate::client::LocalView>,
) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let fields = FormFields::new();
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<AppError>);
    let status = use_sync_status();
    let tz = me.tz();
    if let Some(record) = &editing {
        fields.fill(&record.fields, tz);
    }
    let started = StoredValue::new(fields.texts());
    // The lead's id, made here: saving twice is the same lead.
    let id = RwSignal::new(editing.as_ref().map_or_else(uuid::Uuid::now_v7, |r| r.id));
    let base_version = editing.as_ref().map_or(0, |r| r.version);
    let is_edit = editing.is_some();
    let saved = RwSignal::new(false);
    // An edit saved opens the lead's page. The navigation lives in an
    // effect, not in the action: a local action made while the server
    // renders is dropped on whichever thread ends the response, which its
    // thread-bound wrapper allows only for a closure that owns nothing to
    // drop (signals are indexes), while effects never run on the server.
    let edited = RwSignal::new(None::<String>);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(page) = edited.get() {
            navigate(&page, Default::default());
        }
    });
    // The one write path: the local store and its outbox, then a push.
    let save = Action::new_local(move |valid: &ValidLead| {
        let mut changes = valid.to_fields();
        if is_edit {
            // Only what was changed; an input emptied clears its field.
            changes = started
                .with_value(|started| crate::records::changed_fields(started, &fields.texts(), &changes));
        }
        let mutation = Mutation {
            id: uuid::Uuid::now_v7(),
            entity: super::record::LEAD.name.to_owned(),
            record_id: id.get_untracked(),
            base_version,
            op: Op::Upsert,
            fields: changes,
            command: None,
        };
        async move {
            let page = format!("/leads/{}", mutation.record_id);
            if mutation.fields.is_empty() {
                return edited.set(Some(page));
            }
            match crate::client::save(status, mutation).await {
                Ok(()) if is_edit => edited.set(Some(page)),
                Ok(()) => saved.set(true),
                Err(e) => failure.set(Some(e)),
            }
        }
    });
    leave_when_synced(saved, "/");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        match fields.read(id.get_untracked()).validate(chrono::Utc::now(), tz) {
            Ok(valid) => {
                errors.set(Vec::new());
                save.dispatch_local(valid);
            }
            Err(found) => errors.set(found),
        }
    };
    let add_another = move |_| {
        fields.clear();
        id.set(uuid::Uuid::now_v7());
        saved.set(false);
    };
    let sources: Vec<(String, String)> = LeadSource::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), locale.lead_source(*s).to_owned()))
        .collect();
    let grades: Vec<(String, String)> = Grade::ALL
        .iter()
        .map(|g| (g.as_str().to_owned(), locale.grade(*g).to_owned()))
        .collect();
    // The score of the factors answered, and the grade it proposes by the
    // company's thresholds. The proposal fills the grade while the grade
    // is empty or still the last proposal; a grade the rep chose stays.
    let singles = crate::client::use_singles();
    let factors = [
        fields.industry_fit,
        fields.scale,
        fields.budget,
        fields.decision_chain,
    ];
    let proposal = Memo::new(move |_| {
        let answers = factors.map(|answer| answer.get());
        let score = super::score_of(answers.each_ref().map(String::as_str))?;
        let settings = crate::settings::ProcessSettings::of(&singles.get());
        Some((score, super::proposed_grade(score, &settings)))
    });
    let last_proposed = StoredValue::new(None::<Grade>);
    Effect::new(move |_| {
        let Some((_, grade)) = proposal.get() else { return };
        let chosen = fields.grade.get_untracked();
        let untouched = chosen.is_empty() || last_proposed.get_value().is_some_and(|g| g.as_str() == chosen);
        if untouched && !is_edit {
            fields.grade.set(grade.as_str().to_owned());
        }
        last_proposed.set_value(Some(grade));
    });
    let factor_inputs = super::FACTORS
        .into_iter()
        .zip(factors)
        .map(|((name, options), value)| {
            let options = options
                .map(|o| (o.to_owned(), locale.word(o).to_owned()))
                .to_vec();
            view! { <Choice name label=locale.word(name) value errors options /> }
        })
        .collect_view();
    let form_error = move || {
        failure
            .get()
            .map(|e| locale.error(&e))
            .or_else(|| (!errors.get().is_empty()).then(|| t.fix_fields.to_owned()))
    };

    let heading = match &editing {
        Some(record) => format!(
            "{} · {}",
            locale.word("edit"),
            record
                .fields
                .get("company")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        ),
        None => t.new_lead.to_owned(),
    };
    let cancel_to = match &editing {
        Some(record) => format!("/leads/{}", record.id),
        None => "/".to_owned(),
    };
    view! {
        <Title text=format!("{heading} · {}", t.app_name) />
        <form class="card lead-form" data-testid="lead-form" on:submit=submit novalidate>
            <h1>{heading.clone()}</h1>
            <div class="grid">
                <Field name="company" label=t.company value=fields.company errors required=true />
                <Field name="industry" label=t.industry value=fields.industry errors required=true />
                <Field name="contact_name" label=t.contact_name value=fields.contact_name errors required=true />
                <Field name="contact_title" label=t.contact_title value=fields.contact_title errors />
                <Field name="phone" label=t.phone value=fields.phone errors kind="tel" />
                <Field name="email" label=t.email value=fields.email errors kind="email" />
                <Choice name="source" label=t.source value=fields.source errors options=sources />
                <Choice name="grade" label=t.grade value=fields.grade errors options=grades />
                {factor_inputs}
                <p class="muted lead-score" data-testid="lead-score">
                    {move || match proposal.get() {
                        Some((score, grade)) => locale.lead_score(score, grade),
                        None => locale.word("lead_score_hint").to_owned(),
                    }}
                </p>
                <Field name="staff_size" label=t.staff_size value=fields.staff_size errors />
                <Field name="revenue_band" label=t.revenue_band value=fields.revenue_band errors />
                <Field name="contacted_at" label=t.contacted_at value=fields.contacted_at errors kind="datetime-local" />
                <Field name="next_step_date" label=t.next_step_date value=fields.next_step_date errors kind="date" />
            </div>
            <Field name="initial_need" label=t.initial_need value=fields.initial_need errors kind="textarea" />
            <Field name="next_step" label=t.next_step value=fields.next_step errors kind="textarea" />
            <Field name="notes" label=t.notes value=fields.notes errors kind="textarea" />
            {move || form_error().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            {(!is_edit).then(|| view! { <SavedOnDevice saved on_add_another=Callback::new(add_another) /> })}
            <div class="actions">
                <A href=cancel_to attr:class="button">{t.cancel}</A>
                <button
                    class="primary"
                    type="submit"
                    data-testid="save-lead"
                    disabled=move || save.pending().get() || saved.get()
                >
                    {move || if save.pending().get() { t.saving } else { t.save }}
                </button>
            </div>
        </form>
    }
}

fn field_message(errors: RwSignal<Vec<FieldError>>, name: &'static str, locale: Locale) -> Option<String> {
    errors.with(|all| {
        all.iter()
            .find(|e| e.field == name)
            .map(|e| locale.field_problem(e.problem))
    })
}

#[component]
fn Field(
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Vec<FieldError>>,
    #[prop(optional)] required: bool,
    #[prop(default = "text")] kind: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    let message = move || field_message(errors, name, locale);
    let input = if kind == "textarea" {
        view! { <textarea name=name rows="2" bind:value=value aria-invalid=move || message().is_some().to_string() /> }
            .into_any()
    } else {
        view! { <input name=name type=kind bind:value=value aria-invalid=move || message().is_some().to_string() /> }
            .into_any()
    };
    view! {
        <label class="field" class:invalid=move || message().is_some()>
            <span>{label} {(!required).then(|| view! { <small class="muted">{texts().optional}</small> })}</span>
            {input}
            {move || message().map(|m| view! { <small class="field-error" data-field=name>{m}</small> })}
        </label>
    }
}

#[component]
fn Choice(
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Vec<FieldError>>,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let locale = use_locale();
    let message = move || field_message(errors, name, locale);
    view! {
        <label class="field" class:invalid=move || message().is_some()>
            <span>{label}</span>
            <select name=name bind:value=value>
                <option value="">{texts().choose}</option>
                {options
                    .into_iter()
                    .map(|(value, text)| view! { <option value=value>{text}</option> })
                    .collect_view()}
            </select>
            {move || message().map(|m| view! { <small class="field-error" data-field=name>{m}</small> })}
        </label>
    }
}

/// One lead (`/leads/:id`), from the device's store: every field, where its
/// screening stands, and the screening commands as buttons that say why
/// they are disabled.
#[component]
pub fn LeadDetailPage() -> impl IntoView {
    with_user(|me| view! { <LeadDetail me /> })
}

#[component]
fn LeadDetail(me: CurrentUser) -> impl IntoView {
    use crate::client::use_local_record;
    use leptos_router::hooks::use_params_map;
    let locale = use_locale();
    let t = locale.texts();
    let params = use_params_map();
    let id =
        Signal::derive(move || params.with(|p| p.get("id").and_then(|id| uuid::Uuid::parse_str(&id).ok())));
    // Rebuilt only when the lead really changed (as a record's page is).
    let stored = use_local_record(super::record::LEAD.name, id);
    let record = Memo::new(move |_| stored.get());
    move || {
        let me = me.clone();
        record.with(|read| match read {
            None => view! { <p class="empty">{t.loading}</p> }.into_any(),
            Some(Ok(None)) => {
                view! { <p class="empty" data-testid="not-on-device">{t.not_on_device}</p> }.into_any()
            }
            Some(Ok(Some(view))) => match LocalLead::from_view(view.clone(), &me) {
                Some(lead) => view! { <LeadSheet lead record=view.clone() me /> }.into_any(),
                None => view! { <p class="form-error">{locale.error(&AppError::Internal)}</p> }.into_any(),
            },
            Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
        })
    }
}

#[component]
fn LeadSheet(lead: LocalLead, record: crate::client::LocalView, me: CurrentUser) -> impl IntoView {
    use super::record::{screening_due, screening_overdue, DISQUALIFY, LEAD, QUALIFY};
    use super::LeadStatus;
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    let (history_me, record_id) = (me.clone(), record.id);
    let LocalLead {
        lead,
        pending,
        rejected,
    } = lead;
    let calendar =
        crate::settings::ProcessSettings::of(&crate::client::use_singles().get_untracked()).calendar();
    let now = chrono::Utc::now();
    let due = screening_due(lead.created_at, me.tz(), &calendar);
    let overdue = screening_overdue(lead.status, lead.created_at, now, me.tz(), &calendar);
    // A record on this device is in the user's scope (sync keeps exactly
    // that), so whoever enters leads may screen it; the server re-checks.
    let may_change = policy::can_create_lead(&me);
    let may_edit = policy::can_write(&me, policy::Kind::Lead, record.ownership(&me, policy::Kind::Lead));
    let screened = lead.status != LeadStatus::New;
    let closed = matches!(lead.status, LeadStatus::Converted | LeadStatus::Disqualified);
    let failure = RwSignal::new(None::<AppError>);
    let asking_reason = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let give = {
        let me = me.clone();
        let record = record.clone();
        Action::new_local(move |(name, args): &(&'static str, crate::sync::Fields)| {
            let (me, record, name, args) = (me.clone(), record.clone(), *name, args.clone());
            async move {
                match crate::client::command(status, &me, &LEAD, &record, name, args).await {
                    Ok(()) => {
                        failure.set(None);
                        asking_reason.set(false);
                    }
                    Err(e) => failure.set(Some(e)),
                }
            }
        })
    };
    let qualify = move |_| {
        give.dispatch_local((QUALIFY, crate::sync::Fields::new()));
    };
    let disqualify = move |_| {
        let mut args = crate::sync::Fields::new();
        args.insert("reason".into(), serde_json::Value::String(reason.get_untracked()));
        give.dispatch_local((DISQUALIFY, args));
    };
    let row = |label: &'static str, value: Option<String>| {
        value
            .filter(|v| !v.is_empty())
            .map(|v| view! { <div class="row"><dt>{label}</dt><dd>{v}</dd></div> })
    };
    let phone = lead.phone.clone().map(|p| {
        view! {
            <div class="row">
                <dt>{t.phone}</dt>
                <dd><a href=format!("tel:{p}") data-testid="call">{p.clone()}</a></dd>
            </div>
        }
    });
    let email = lead.email.clone().map(|e| {
        view! {
            <div class="row">
                <dt>{t.email}</dt>
                <dd><a href=format!("mailto:{e}")>{e.clone()}</a></dd>
            </div>
        }
    });
    let why_disabled = if closed {
        Some(locale.lead_status(lead.status))
    } else if screened {
        Some(t.already_screened)
    } else {
        None
    };
    view! {
        <Title text=format!("{} · {}", lead.company, t.app_name) />
        <p><A href="/">{format!("‹ {}", t.leads)}</A></p>
        <article class="card sheet" data-testid="lead-detail">
            <div class="sheet-head">
                <span class=format!("grade grade-{}", lead.grade.as_str())>{lead.grade.as_str()}</span>
                <h1>{lead.company.clone()}</h1>
                <span class="badge status" data-testid="lead-status">{locale.lead_status(lead.status)}</span>
                {overdue.then(|| view! { <span class="badge rejected" data-testid="screening-overdue">{t.screening_overdue}</span> })}
                {pending.then(|| view! { <span class="badge pending">{t.not_synced}</span> })}
            </div>
            {rejected
                .map(|e| view! { <p class="form-error" role="alert" data-testid="lead-refused">{locale.error(&e)}</p> })}
            <dl class="sheet-fields">
                {row(t.industry, Some(lead.industry.clone()))}
                {row(t.contact_name, Some(lead.contact_name.clone()))}
                {row(t.contact_title, lead.contact_title.clone())}
                {phone}
                {email}
                {row(t.source, Some(locale.lead_source(lead.source).to_owned()))}
                {row(t.staff_size, lead.staff_size.clone())}
                {row(t.revenue_band, lead.revenue_band.clone())}
                {lead
                    .scoring
                    .answers()
                    .into_iter()
                    .map(|(factor, answer)| row(locale.word(factor), answer.map(|a| locale.word(a).to_owned())))
                    .collect_view()}
                {row(locale.word("lead_score"), lead.scoring.score().map(|score| format!("{score} / {}", super::MAX_SCORE)))}
                {row(t.initial_need, lead.initial_need.clone())}
                {row(t.contacted_at, Some(local_time(lead.contacted_at, &me)))}
                {row(t.entered_at, Some(local_time(lead.created_at, &me)))}
                {row(t.screen_by, (!screened).then(|| local_time(due, &me)))}
                {row(t.next_step, lead.next_step.clone())}
                {row(t.next_step_date, lead.next_step_date.map(|d| d.to_string()))}
                {row(t.notes, lead.notes.clone())}
                {row(t.owner, Some(lead.owner_name.clone()))}
                {row(t.screened_at, record.fields.get("screened_at").and_then(|v| v.as_str()).and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok()).map(|at| local_time(at.with_timezone(&chrono::Utc), &me)))}
                {row(t.disqualify_reason, record.fields.get("disqualify_reason").and_then(|v| v.as_str()).map(str::to_owned))}
            </dl>
            {may_edit
                .then(|| {
                    view! {
                        <div class="actions wrap" data-testid="record-edit">
                            <A href=format!("/leads/{}/edit", lead.id) attr:class="button" attr:data-testid="edit-record">
                                {locale.word("edit")}
                            </A>
                        </div>
                    }
                })}
            {may_change
                .then(|| {
                    view! {
                        <div class="commands" data-testid="lead-commands">
                            <div class="actions">
                                <button
                                    class="primary"
                                    data-testid="qualify"
                                    disabled=screened
                                    title=why_disabled.unwrap_or_default()
                                    on:click=qualify
                                >
                                    {t.qualify}
                                </button>
                                <button
                                    data-testid="disqualify"
                                    disabled=closed
                                    title=why_disabled.unwrap_or_default()
                                    on:click=move |_| asking_reason.set(true)
                                >
                                    {t.disqualify}
                                </button>
                            </div>
                            {(!closed)
                                .then(|| {
                                    view! {
                                        <A
                                            href=format!("/customers/new?lead={}", lead.id)
                                            attr:class="button"
                                            attr:data-testid="convert-lead"
                                        >
                                            {t.convert_to_customer}
                                        </A>
                                    }
                                })}
                            {why_disabled.map(|why| view! { <p class="muted" data-testid="why-disabled">{why}</p> })}
                            <Show when=move || asking_reason.get()>
                                <label class="field">
                                    <span>{t.disqualify_reason}</span>
                                    <textarea data-testid="disqualify-reason" rows="2" bind:value=reason />
                                </label>
                                <div class="actions">
                                    <button on:click=move |_| asking_reason.set(false)>{t.cancel}</button>
                                    <button class="primary" data-testid="confirm-disqualify" on:click=disqualify>
                                        {t.disqualify}
                                    </button>
                                </div>
                            </Show>
                            {move || {
                                failure
                                    .get()
                                    .map(|e| {
                                        view! {
                                            <p class="form-error" role="alert" data-testid="command-refused">
                                                {locale.error_in_full(&e)}
                                            </p>
                                        }
                                    })
                            }}
                        </div>
                    }
                })}
        </article>
        <crate::records::RecordHistory me=history_me entity=LEAD.name id=record_id />
    }
}
