//! Notifications (通知): what the clock job tells a user when a deadline
//! runs out (a lead not screened in time, a ticket not contacted within 2
//! hours). A notification is a synced record owned by its recipient, made
//! only by the server, so it reaches the phone by the same pull as
//! everything else and the bell works offline; marking it read is its one
//! command.

use crate::client::{self, use_sync_status, LocalView};
use crate::i18n::Words;
use crate::policy::Kind;
use crate::roles::CurrentUser;
use crate::schema::{field, Input, SHORT_TEXT};
use crate::stored::instant_value as instant;
use crate::sync::entity::{CommandCall, Decided, EntitySpec, Notice, Notices, Refusal};
use crate::sync::Fields;
use crate::ui::{use_locale, with_user};
use chrono::DateTime;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde_json::Value;

pub const NOTIFICATION: EntitySpec = EntitySpec {
    name: "notification",
    kind: Kind::Notification,
    plural: Words {
        zh: "通知",
        en: "Notifications",
    },
    // The server writes all of it; the recipient only marks it read.
    fields: &[
        field("about", Input::Text, "关于", "About")
            .required()
            .kept()
            .workflow(),
        field("about_id", Input::Text, "记录", "Record")
            .required()
            .kept()
            .workflow(),
        field("kind", Input::Text, "提醒", "Reminder")
            .required()
            .kept()
            .workflow(),
        field("title", Input::Text, "标题", "Title")
            .kept()
            .workflow()
            .searched(),
        field("due_at", Input::DateTime, "截止", "Due").kept().workflow(),
        // Set by the server's clock job, whose `now` is its own.
        field("raised_at", Input::DateTime, "提醒时间", "Raised at")
            .kept()
            .workflow(),
        field("read_at", Input::DateTime, "已读时间", "Read at")
            .kept()
            .workflow(),
    ],
    commands: &[READ],
    title: "title",
    rules: crate::sync::entity::no_more_rules,
    decide: decide_notification,
    projection: None,
    clocks: None,
    person_args: &[],
    arg_references: &[],
    locked: crate::sync::entity::never_locked,
    claim: None,
    hidden: crate::sync::entity::nothing_hidden,
    touches: &[],
    single: None,
    stamp: None,
    merged_into: None,
};

/// How the engine makes one when a clock is raised.
pub const NOTICES: Notices = Notices {
    spec: &NOTIFICATION,
    fields: notice_fields,
};

/// The recipient has seen it.
pub const READ: &str = "read";

fn notice_fields(notice: &Notice) -> Fields {
    let mut fields = Fields::new();
    fields.insert("about".into(), Value::String(notice.entity.to_owned()));
    fields.insert("about_id".into(), Value::String(notice.record_id.to_string()));
    fields.insert("kind".into(), Value::String(notice.kind.to_owned()));
    let title: String = notice.title.chars().take(SHORT_TEXT).collect();
    fields.insert("title".into(), Value::String(title));
    fields.insert("due_at".into(), instant(notice.due_at));
    fields.insert("raised_at".into(), instant(notice.raised_at));
    fields
}

fn decide_notification(call: &CommandCall) -> Result<Decided, Refusal> {
    match call.name {
        // Reading twice changes nothing: the first moment stands.
        READ if call.record.contains_key("read_at") => Ok(Decided::default()),
        READ => Ok(Decided::changes(
            std::iter::once(("read_at".to_owned(), instant(call.now))).collect(),
        )),
        _ => Err(Refusal::Rule("unknown_command")),
    }
}

/// Whether the recipient has read it.
pub fn is_unread(fields: &Fields) -> bool {
    !fields.contains_key("read_at")
}

fn text<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The bell in the top bar: a count of unread notifications on this
/// device, read again after every sync and save (so it works offline).
#[component]
pub fn Bell() -> impl IntoView {
    let locale = use_locale();
    let unread = client::use_prepared_records(
        NOTIFICATION.name,
        |r| is_unread(&r.fields).then_some(()),
        |_, _| std::cmp::Ordering::Equal,
    );
    let count = move || unread.with(|read| read.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, Vec::len));
    view! {
        <A href="/notifications" attr:class="bell" attr:data-testid="bell" attr:title=locale.word("notifications")>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path
                    fill="currentColor"
                    d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z"
                />
            </svg>
            <span class="visually-hidden">{locale.word("notifications")}</span>
            {move || {
                let n = count();
                (n > 0).then(|| view! { <span class="bell-count" data-testid="bell-count">{n.min(99)}</span> })
            }}
        </A>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    with_user(|me| view! { <NotificationList me /> })
}

/// The user's notifications, newest first; opening one marks it read and
/// goes to its record.
#[component]
fn NotificationList(me: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    let t = locale.texts();
    let status = use_sync_status();
    let tz = me.tz();
    let list = client::use_prepared_records(NOTIFICATION.name, Some, |a: &LocalView, b: &LocalView| {
        text(&b.fields, "raised_at").cmp(text(&a.fields, "raised_at"))
    });
    // Saved on the device and queued like any change: the page it leads to
    // may open before the outbox is written, and that is fine.
    let mark_read = move |me: CurrentUser, notice: LocalView| {
        leptos::task::spawn_local(async move {
            let _ = client::command(status, &me, &NOTIFICATION, &notice, READ, Fields::new()).await;
        });
    };
    view! {
        <Title text=format!("{} · {}", locale.word("notifications"), t.app_name) />
        <div class="page-head">
            <h1>{locale.word("notifications")}</h1>
        </div>
        {move || {
            let me = me.clone();
            list.with(|read| match read {
                None => view! { <p class="empty">{t.loading}</p> }.into_any(),
                Some(Ok(found)) if found.is_empty() => {
                    view! {
                        <p class="empty" data-testid="no-notifications">
                            {crate::ui::empty_list_text(locale.word("no_notifications"))}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(found)) => {
                    view! {
                        <ul class="lead-list" data-testid="notification-list">
                            {found
                                .iter()
                                .map(|notice| {
                                    let fields = &notice.fields;
                                    let about = text(fields, "about");
                                    let page = uuid::Uuid::parse_str(text(fields, "about_id"))
                                        .ok()
                                        .and_then(|id| crate::records::record_page(about, id))
                                        .unwrap_or_else(|| "/notifications".into());
                                    let unread = is_unread(fields);
                                    let raised = DateTime::parse_from_rfc3339(text(fields, "raised_at"))
                                        .map(|at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                                        .unwrap_or_default();
                                    let entity = locale.word(&format!("entity_{about}"));
                                    let what = locale.word(&format!("notice_{}", text(fields, "kind")));
                                    let (open_me, open_notice) = (me.clone(), notice.clone());
                                    let (read_me, read_notice) = (me.clone(), notice.clone());
                                    view! {
                                        <li class="lead-card record-card notice" class:unread=unread data-testid="notification">
                                            <div class="lead-main">
                                                <a
                                                    class="company"
                                                    href=page
                                                    data-testid="open-notification"
                                                    on:click=move |_| {
                                                        if unread {
                                                            mark_read(open_me.clone(), open_notice.clone());
                                                        }
                                                    }
                                                >
                                                    {format!("{entity} · {}", text(fields, "title"))}
                                                </a>
                                                <span data-testid="notification-what">{what}</span>
                                            </div>
                                            <div class="lead-meta muted">
                                                <span>{raised}</span>
                                                {unread
                                                    .then(|| {
                                                        view! {
                                                            <span class="badge rejected">{locale.word("unread")}</span>
                                                            <button
                                                                class="link"
                                                                data-testid="mark-read"
                                                                on:click=move |_| mark_read(read_me.clone(), read_notice.clone())
                                                            >
                                                                {locale.word("mark_read")}
                                                            </button>
                                                        }
                                                    })}
                                                {notice.pending.then(|| view! { <span class="badge pending">{t.not_synced}</span> })}
                                            </div>
                                        </li>
                                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Ownership;
    use crate::roles::{CurrentUser, Role};
    use uuid::Uuid;

    #[test]
    fn a_notice_reads_once_and_passes_its_check() {
        let at: DateTime<chrono::Utc> = "2026-12-02T08:00:00Z".parse().unwrap();
        let fields = notice_fields(&Notice {
            entity: "ticket",
            record_id: Uuid::from_u128(7),
            kind: "contact",
            title: "宁波远航物流",
            due_at: at,
            raised_at: at,
        });
        assert_eq!(NOTIFICATION.check(&fields, at), Ok(()));
        assert!(is_unread(&fields));
        let me = CurrentUser {
            id: Uuid::from_u128(1),
            username: "s".into(),
            display_name: "S".into(),
            role: Role::ServiceSupervisor,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        };
        let call = CommandCall {
            name: READ,
            args: &Fields::new(),
            record: &fields,
            ownership: Ownership {
                owner_id: me.id,
                owner_team_id: None,
            },
            actor: &me,
            now: at,
            context: &crate::sync::entity::Context::default(),
        };
        let read = decide_notification(&call).unwrap();
        assert_eq!(read.changes["read_at"], "2026-12-02T08:00:00Z");
        let mut seen = fields.clone();
        seen.extend(read.changes);
        assert!(!is_unread(&seen));
        let again = CommandCall {
            record: &seen,
            ..call
        };
        assert_eq!(decide_notification(&again), Ok(Decided::default()));
    }
}
