//! The conflict review screen: each same-field edit that lost, beside what
//! the record holds now; the user keeps one. Conflicts live on the server,
//! so the screen needs the network; offline it says so in words.

use crate::client::{request_sync, use_sync_status};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::roles::CurrentUser;
use crate::schema::{Field, Input, Lines};
use crate::sync::api::{conflicts, resolve};
use crate::sync::{Keep, OpenConflict};
use crate::ui::{local_time, use_locale, with_user};
use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;
use uuid::Uuid;

#[component]
pub fn ConflictsPage() -> impl IntoView {
    with_user(|me| view! { <ConflictList me /> })
}

#[component]
fn ConflictList(me: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    // Asked after mount and after every sync: the server's render and the
    // browser's first render both say "loading", so hydration matches.
    let open = RwSignal::new(None::<Result<Vec<OpenConflict>, AppError>>);
    let failure = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        status.last_sync.track();
        leptos::task::spawn_local(async move { open.set(Some(conflicts().await)) });
    });
    let settle = Action::new(move |(id, keep): &(Uuid, Keep)| {
        let (id, keep) = (*id, *keep);
        async move {
            match resolve(id, keep).await {
                Ok(()) => {
                    failure.set(None);
                    open.update(|list| {
                        if let Some(Ok(list)) = list {
                            list.retain(|c| c.id != id);
                        }
                    });
                    // A restored value is a new change: bring it to this device.
                    request_sync(status);
                }
                Err(e) => failure.set(Some(e)),
            }
        }
    });
    view! {
        <Title text=format!("{} · {}", t.conflicts, t.app_name) />
        <div class="page-head">
            <h1>{t.conflicts}</h1>
        </div>
        <p class="muted">{t.conflicts_explained}</p>
        {move || failure.get().map(|e| view! { <p class="form-error" role="alert">{locale.error(&e)}</p> })}
        {move || match open.get() {
            None => view! { <p class="empty">{t.loading}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="empty">{t.no_conflicts}</p> }.into_any(),
            Some(Ok(list)) => {
                let me = me.clone();
                view! {
                    <ul class="conflict-list" data-testid="conflict-list">
                        {list
                            .into_iter()
                            .map(|conflict| conflict_item(conflict, &me, locale, settle))
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }
            Some(Err(e)) => view! { <p class="form-error">{locale.error(&e)}</p> }.into_any(),
        }}
    }
}

fn conflict_item(
    conflict: OpenConflict,
    me: &CurrentUser,
    locale: Locale,
    settle: Action<(Uuid, Keep), ()>,
) -> impl IntoView + use<> {
    let t = locale.texts();
    let id = conflict.id;
    // A conflict of an entity this build no longer knows still shows, in
    // its stored names.
    let spec = crate::sync::entity::registered_spec(&conflict.entity);
    let declared = spec.and_then(|s| s.field(&conflict.field));
    let shown = |value: &Value| show_value(declared, &conflict.field, value, me, locale);
    let field = spec
        .map_or(conflict.field.as_str(), |s| s.label(&conflict.field, locale))
        .to_owned();
    let plural = spec
        .map_or(conflict.entity.as_str(), |s| locale.say(s.plural))
        .to_owned();
    view! {
        <li class="card conflict" data-testid="conflict">
            <strong>{format!("{plural} · {}", conflict.title)}</strong>
            <p class="muted">
                {format!("{field} · {} {} · {}", t.changed_by, conflict.changed_by, local_time(conflict.at, me))}
            </p>
            <div class="conflict-values">
                <div>
                    <small class="muted">{t.current_value}</small>
                    <p data-testid="current-value">{shown(&conflict.current)}</p>
                </div>
                <div>
                    <small class="muted">{t.overwritten_value}</small>
                    <p data-testid="overwritten-value">{shown(&conflict.overwritten)}</p>
                </div>
            </div>
            <div class="actions">
                <button
                    type="button"
                    disabled=move || settle.pending().get()
                    on:click=move |_| {
                        settle.dispatch((id, Keep::Current));
                    }
                >
                    {t.keep_current}
                </button>
                <button
                    type="button"
                    class="primary"
                    data-testid="restore-overwritten"
                    disabled=move || settle.pending().get()
                    on:click=move |_| {
                        settle.dispatch((id, Keep::Overwritten));
                    }
                >
                    {t.restore_overwritten}
                </button>
            </div>
        </li>
    }
}

/// A stored value as a person reads it: instants in their zone, choices by
/// their label, nothing as "(empty)", lines line by line, another structure
/// (an approval's steps, shown on the record's page) as "(updated)".
/// `declared` is the field's declaration, where the entity is known.
pub fn show_value(
    declared: Option<&Field>,
    field: &str,
    value: &Value,
    me: &CurrentUser,
    locale: Locale,
) -> String {
    match (value, declared.map(|f| f.input)) {
        (Value::Null, _) => locale.texts().empty_value.to_owned(),
        (Value::Array(stored), _) if stored.is_empty() => locale.texts().empty_value.to_owned(),
        (Value::Array(stored), Some(Input::Lines(lines))) => lines_in_words(lines, stored, locale),
        (Value::String(text), _) => {
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
                local_time(at.with_timezone(&chrono::Utc), me)
            } else {
                locale
                    .choice(field, text)
                    .map(str::to_owned)
                    .unwrap_or_else(|| text.clone())
            }
        }
        (Value::Object(_) | Value::Array(_), _) => locale.word("updated").to_owned(),
        (other, _) => other.to_string(),
    }
}

/// Lines as a person reads them, one after another ("王建国 总经理（主要联系人）；
/// 李娜 采购经理"): each line's values in their declared order, a choice by its
/// label, the main line marked by its flag's label.
fn lines_in_words(lines: &Lines, stored: &[Value], locale: Locale) -> String {
    let (open, close, between) = match locale {
        Locale::ZhCn => ("（", "）", "；"),
        Locale::En => (" (", ")", "; "),
    };
    stored
        .iter()
        .map(|line| {
            let mut words: Vec<&str> = Vec::new();
            let mut main = String::new();
            for f in lines.fields {
                let Some(text) = line.get(f.name).and_then(Value::as_str) else {
                    continue;
                };
                if Some(f.name) == lines.flag {
                    if text == "yes" {
                        main = format!("{open}{}{close}", locale.say(f.label));
                    }
                } else if let Input::Choice(_) = f.input {
                    words.push(locale.choice(f.name, text).unwrap_or(text));
                } else {
                    words.push(text);
                }
            }
            words.join(" ") + &main
        })
        .collect::<Vec<_>>()
        .join(between)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_read_line_by_line_with_the_main_one_marked() {
        let contacts = [
            json!({"id": "0193a1b2-0000-7000-8000-000000000001", "name": "王建国", "title": "总经理", "primary": "yes"}),
            json!({"name": "李娜", "phone": "13912345678", "primary": "no"}),
        ];
        let lines = &crate::customers::CONTACTS;
        assert_eq!(
            lines_in_words(lines, &contacts, Locale::ZhCn),
            "王建国 总经理（主要联系人）；李娜 13912345678"
        );
        assert_eq!(
            lines_in_words(lines, &contacts, Locale::En),
            "王建国 总经理 (Main contact); 李娜 13912345678"
        );
    }
}
