//! Look-alike customers (疑似重复): two customers with the same name
//! (however written), phone or credit code. Two phones offline may each
//! enter the same company; both are kept, and the pair shows on the
//! supervisor's list of look-alikes and on both customers' pages until a
//! supervisor merges them (`merge`: the one kept absorbs the other, whose
//! contacts, visits, tickets, follow-ups and leads follow it) or says they
//! are different companies (`keep_apart`). Derived from the customers as
//! they stand, so a name corrected later ends the pair by itself. Pure: the
//! device finds pairs among what it holds, and the server decides the
//! commands.

use super::{status_of, CONTACTS};
use crate::dedup::Keys;
use crate::error::{FieldError, FieldProblem};
use crate::roles::{CurrentUser, Role};
use crate::stored::{instant_value, stored_instant};
use crate::sync::entity::{CommandCall, Decided, Refusal};
use crate::sync::Fields;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// The kept customer absorbs the duplicate named by `absorb`.
pub const MERGE: &str = "merge";
/// The two are different companies: the pair is no longer shown.
pub const KEEP_APART: &str = "keep_apart";
/// The argument of `merge`: the duplicate's id.
pub const ABSORB: &str = "absorb";
/// The argument of `keep_apart`: the other customer's id.
pub const OTHER: &str = "other";
/// The customers this one was said to be different from (ids).
pub const KEPT_APART: &str = "kept_apart";
/// The customer a merged duplicate went into (set by the server as it
/// deletes the duplicate).
pub const MERGED_INTO: &str = "merged_into";
/// The most customers one is kept apart from.
pub const MAX_KEPT_APART: usize = 200;

/// Who merges customers and tells look-alikes apart: the supervisor (of
/// the team's customers) and the sales manager (of all).
pub fn may_merge(user: &CurrentUser) -> bool {
    matches!(user.role, Role::Supervisor | Role::SalesManager)
}

/// The ids a customer was kept apart from.
pub fn kept_apart(fields: &Fields) -> BTreeSet<Uuid> {
    fields
        .get(KEPT_APART)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().and_then(|raw| Uuid::parse_str(raw).ok()))
        .collect()
}

/// Two customers that look like one company, and what they share
/// (`company`, `phone`, `credit_code`). `first` is the older entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    pub first: Uuid,
    pub second: Uuid,
    pub shared: Vec<&'static str>,
}

/// The look-alike pairs among `customers`, each once, oldest pairs first
/// (ids are made at entry, so they order by time), leaving out pairs one
/// of which was kept apart from the other. Linear in the customers: they
/// are grouped by each key, not compared two by two.
pub fn look_alikes(customers: &[(Uuid, &Fields)]) -> Vec<LookAlike> {
    let mut groups: HashMap<(&'static str, String), Vec<Uuid>> = HashMap::new();
    let mut apart: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for (id, fields) in customers {
        let keys = Keys::of(fields);
        // The same length rules as the form's warning (`Keys::shared`).
        for (name, key, min) in [
            ("company", keys.name, 2),
            ("phone", keys.phone, 7),
            ("credit_code", keys.credit_code, 18),
        ] {
            if key.chars().count() >= min {
                groups.entry((name, key)).or_default().push(*id);
            }
        }
        apart.insert(*id, kept_apart(fields));
    }
    let mut pairs: BTreeMap<(Uuid, Uuid), Vec<&'static str>> = BTreeMap::new();
    for ((name, _), ids) in groups {
        for (n, a) in ids.iter().enumerate() {
            for b in &ids[n + 1..] {
                let (first, second) = if a < b { (*a, *b) } else { (*b, *a) };
                let shared = pairs.entry((first, second)).or_default();
                if !shared.contains(&name) {
                    shared.push(name);
                }
            }
        }
    }
    let separated = |a: &Uuid, b: &Uuid| {
        apart.get(a).is_some_and(|s| s.contains(b)) || apart.get(b).is_some_and(|s| s.contains(a))
    };
    pairs
        .into_iter()
        .filter(|((a, b), _)| !separated(a, b))
        .map(|((first, second), mut shared)| {
            shared.sort_by_key(|name| ["company", "phone", "credit_code"].iter().position(|n| n == name));
            LookAlike {
                first,
                second,
                shared,
            }
        })
        .collect()
}

/// `look_alikes` as id pairs (`screen::Pairs::find`).
pub fn pairs_of(customers: &[(Uuid, &Fields)]) -> Vec<(Uuid, Uuid)> {
    look_alikes(customers)
        .into_iter()
        .map(|pair| (pair.first, pair.second))
        .collect()
}

/// `merge {absorb}` on the customer kept, and `keep_apart {other}` on either.
pub fn decide_look_alike(call: &CommandCall) -> Result<Decided, Refusal> {
    if !may_merge(call.actor) {
        return Err(Refusal::Rule("merge_not_supervisor"));
    }
    let arg = if call.name == MERGE { ABSORB } else { OTHER };
    if call.args.get(arg).and_then(Value::as_str).is_none() {
        return Err(Refusal::Invalid(vec![FieldError::new(
            arg,
            FieldProblem::Required,
        )]));
    }
    let (other_id, other) = call
        .context
        .record(call.args, arg)
        .ok_or(Refusal::Rule("merge_unknown_customer"))?;
    if call.name == KEEP_APART {
        let mut apart = kept_apart(call.record);
        if !apart.insert(other_id) {
            return Ok(Decided::default());
        }
        if apart.len() > MAX_KEPT_APART {
            return Err(Refusal::Rule("merge_kept_apart_full"));
        }
        return Ok(Decided::changes(
            std::iter::once((KEPT_APART.to_owned(), ids_value(&apart))).collect(),
        ));
    }
    let (kept, absorbed) = (call.record, &other.fields);
    if status_of(kept) == "pending" || status_of(absorbed) == "pending" {
        return Err(Refusal::Rule("customer_under_review"));
    }
    // A recognised customer's code stays: it is the one kept.
    if status_of(absorbed) == "approved" && status_of(kept) != "approved" {
        return Err(Refusal::Rule("merge_keep_recognised"));
    }
    let mut changes = Fields::new();
    // What the kept customer lacks, the duplicate gives.
    for field in super::CUSTOMER_SCREEN.form().map(|f| f.name) {
        if field == "contacts" || !blank(kept.get(field)) || blank(absorbed.get(field)) {
            continue;
        }
        changes.insert(field.to_owned(), absorbed[field].clone());
    }
    let contacts = merged_contacts(kept, absorbed);
    if contacts.len() > CONTACTS.max {
        return Err(Refusal::Rule("merge_too_many_contacts"));
    }
    if !contacts.is_empty() {
        changes.insert("contacts".into(), Value::Array(contacts));
    }
    // Followed up when either was: the pool's clock runs from the later.
    if let Some(later) = [kept, absorbed]
        .iter()
        .filter_map(|f| stored_instant(f, super::pool::FOLLOWED_UP))
        .max()
    {
        changes.insert(super::pool::FOLLOWED_UP.into(), instant_value(later));
    }
    let mut apart = kept_apart(kept);
    apart.extend(kept_apart(absorbed));
    apart.remove(&other_id);
    if apart != kept_apart(kept) {
        changes.insert(KEPT_APART.into(), ids_value(&apart));
    }
    Ok(Decided {
        changes,
        absorbs: Some(other_id),
        ..Decided::default()
    })
}

fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

fn ids_value(ids: &BTreeSet<Uuid>) -> Value {
    Value::Array(ids.iter().map(|id| Value::String(id.to_string())).collect())
}

/// The kept customer's contacts, then the duplicate's (its form contact
/// among them) that are not already there by name and phone. The kept
/// customer's main contact stays the main one; with none, the first.
fn merged_contacts(kept: &Fields, absorbed: &Fields) -> Vec<Value> {
    let same = |a: &Fields, b: &Fields| {
        let get = |f: &Fields, n: &str| f.get(n).and_then(Value::as_str).unwrap_or_default().to_owned();
        crate::dedup::name_key(&get(a, "name")) == crate::dedup::name_key(&get(b, "name"))
            && crate::dedup::phone_key(&get(a, "phone")) == crate::dedup::phone_key(&get(b, "phone"))
    };
    // The kept customer's own lines as stored; its form contact only if
    // it added lines of its own.
    let mut lines = stored_lines(kept);
    let had = lines.len();
    let kept_form_contact = form_contact(kept);
    let mut offered = stored_lines(absorbed);
    offered.extend(form_contact(absorbed));
    for line in offered {
        let known = lines.iter().chain(&kept_form_contact).any(|l| same(l, &line));
        if !known {
            lines.push(line);
        }
    }
    if lines.len() == had {
        return lines.into_iter().map(Value::Object).collect();
    }
    let primary = lines
        .iter()
        .position(|l| l.get("primary").and_then(Value::as_str) == Some("yes"))
        .unwrap_or(0);
    lines
        .into_iter()
        .enumerate()
        .map(|(n, mut line)| {
            line.insert("primary".into(), (if n == primary { "yes" } else { "no" }).into());
            Value::Object(line)
        })
        .collect()
}

/// A customer's contact lines as stored.
fn stored_lines(fields: &Fields) -> Vec<Fields> {
    fields
        .get("contacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_object().cloned())
        .collect()
}

/// The contact typed on a customer's form (name, title, phone) as a line,
/// if it has a name.
fn form_contact(fields: &Fields) -> Option<Fields> {
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
    };
    if text("contact_name").is_empty() {
        return None;
    }
    let mut line = Fields::new();
    line.insert("name".into(), text("contact_name").into());
    for (from, to) in [("contact_title", "title"), ("phone", "phone")] {
        if !text(from).is_empty() {
            line.insert(to.into(), text(from).into());
        }
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Ownership;
    use crate::sync::entity::{Context, Other};
    use serde_json::json;

    const TEAM: Uuid = Uuid::from_u128(0xA);

    fn user(id: u128, role: Role) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(id),
            username: format!("u{id}"),
            display_name: format!("用户{id}"),
            role,
            team_id: Some(TEAM),
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn fields(value: Value) -> Fields {
        value.as_object().unwrap().clone()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn customers_sharing_a_name_however_written_or_a_phone_pair_up_once() {
        let a = fields(json!({"company": "苏州恒达精密机械有限公司", "phone": "+86 139-1234-5678"}));
        let b = fields(json!({"company": "苏州恒达精密机械", "phone": "13912345678"}));
        let c = fields(json!({"company": "宁波远航物流", "phone": "13912345678"}));
        let d = fields(json!({"company": "杭州新锐", "phone": "123"}));
        let e = fields(json!({"company": "杭州新锐科技", "phone": "123"}));
        let found = look_alikes(&[(id(2), &b), (id(1), &a), (id(3), &c), (id(4), &d), (id(5), &e)]);
        assert_eq!(
            found,
            [
                LookAlike {
                    first: id(1),
                    second: id(2),
                    shared: vec!["company", "phone"]
                },
                LookAlike {
                    first: id(1),
                    second: id(3),
                    shared: vec!["phone"]
                },
                LookAlike {
                    first: id(2),
                    second: id(3),
                    shared: vec!["phone"]
                },
            ]
        );
    }

    #[test]
    fn a_pair_kept_apart_on_either_side_is_no_longer_shown() {
        let a = fields(json!({"company": "苏州恒达", "kept_apart": [id(2).to_string()]}));
        let b = fields(json!({"company": "苏州恒达有限公司"}));
        let c = fields(json!({"company": "苏州恒达股份有限公司"}));
        let found = look_alikes(&[(id(1), &a), (id(2), &b), (id(3), &c)]);
        let pairs: Vec<(Uuid, Uuid)> = found.iter().map(|p| (p.first, p.second)).collect();
        assert_eq!(pairs, [(id(1), id(3)), (id(2), id(3))]);
    }

    fn call<'a>(
        name: &'a str,
        actor: &'a CurrentUser,
        record: &'a Fields,
        args: &'a Fields,
        context: &'a Context,
    ) -> CommandCall<'a> {
        CommandCall {
            name,
            args,
            record,
            ownership: Ownership {
                owner_id: id(1),
                owner_team_id: Some(TEAM),
            },
            actor,
            now: "2026-12-07T08:00:00Z".parse().unwrap(),
            context,
        }
    }

    fn context_with(other: Uuid, fields: Fields) -> Context {
        let mut context = Context::default();
        context.records.insert(
            other,
            Other {
                fields,
                ownership: Ownership {
                    owner_id: id(9),
                    owner_team_id: Some(TEAM),
                },
            },
        );
        context
    }

    #[test]
    fn a_merge_keeps_the_kept_customers_values_fills_its_blanks_and_gathers_the_contacts() {
        let sup = user(2, Role::Supervisor);
        let kept = fields(json!({
            "company": "苏州恒达精密机械有限公司",
            "phone": "13912345678",
            "payment_method": "transfer",
            "credit_rating": "credit_good",
            "contacts": [{"name": "陈志强", "phone": "13912345678", "primary": "yes"}],
            "last_followed_at": "2026-11-01T00:00:00Z",
        }));
        let absorbed = fields(json!({
            "company": "苏州恒达精密机械",
            "phone": "13912345678",
            "address": "苏州工业园区星湖街 88 号",
            "contact_name": "李娜",
            "contact_title": "采购经理",
            "contacts": [{"name": "陈志强", "phone": "139-1234-5678", "primary": "yes"}],
            "last_followed_at": "2026-12-01T00:00:00Z",
        }));
        let context = context_with(id(7), absorbed);
        let args = fields(json!({"absorb": id(7).to_string()}));
        let decided = decide_look_alike(&call(MERGE, &sup, &kept, &args, &context)).unwrap();
        assert_eq!(decided.absorbs, Some(id(7)));
        assert_eq!(decided.changes["address"], "苏州工业园区星湖街 88 号");
        assert!(!decided.changes.contains_key("company"));
        assert_eq!(
            decided.changes["contacts"],
            json!([
                {"name": "陈志强", "phone": "13912345678", "primary": "yes"},
                {"name": "李娜", "title": "采购经理", "phone": "13912345678", "primary": "no"},
            ])
        );
        assert_eq!(decided.changes["last_followed_at"], "2026-12-01T00:00:00Z");
        let mut merged = kept.clone();
        merged.extend(decided.changes);
        assert_eq!(super::super::CUSTOMER.check(&merged, chrono::Utc::now()), Ok(()));
    }

    #[test]
    fn only_a_supervisor_merges_and_a_recognised_customer_is_the_one_kept() {
        let (rep, sup) = (user(1, Role::Rep), user(2, Role::Supervisor));
        let draft = fields(json!({"company": "苏州恒达"}));
        let recognised =
            fields(json!({"company": "苏州恒达有限公司", "status": "approved", "code": "C2026-0001"}));
        let args = fields(json!({"absorb": id(7).to_string()}));
        let context = context_with(id(7), recognised.clone());
        let refused = |actor, record, context| {
            decide_look_alike(&call(MERGE, actor, record, &args, context)).map(|d| d.absorbs)
        };
        assert_eq!(
            refused(&rep, &draft, &context),
            Err(Refusal::Rule("merge_not_supervisor"))
        );
        assert_eq!(
            refused(&sup, &draft, &context),
            Err(Refusal::Rule("merge_keep_recognised"))
        );
        let the_other_way = context_with(id(7), draft.clone());
        assert_eq!(refused(&sup, &recognised, &the_other_way), Ok(Some(id(7))));
        let pending = fields(json!({"company": "苏州恒达", "status": "pending"}));
        assert_eq!(
            refused(&sup, &pending, &the_other_way),
            Err(Refusal::Rule("customer_under_review"))
        );
        assert_eq!(
            refused(&sup, &draft, &Context::default()),
            Err(Refusal::Rule("merge_unknown_customer"))
        );
    }

    #[test]
    fn keeping_apart_records_the_other_once() {
        let sup = user(2, Role::Supervisor);
        let record = fields(json!({"company": "苏州恒达"}));
        let args = fields(json!({"other": id(7).to_string()}));
        let context = context_with(id(7), fields(json!({"company": "苏州恒达有限公司"})));
        let decided = decide_look_alike(&call(KEEP_APART, &sup, &record, &args, &context)).unwrap();
        assert_eq!(decided.changes[KEPT_APART], json!([id(7).to_string()]));
        assert_eq!(decided.absorbs, None);
        let mut after = record.clone();
        after.extend(decided.changes);
        let kept_apart_problem = |fields: &Fields| {
            let now = "2026-12-03T08:00:00Z".parse().unwrap();
            super::super::CUSTOMER
                .check(fields, now)
                .err()
                .and_then(|found| found.into_iter().find(|e| e.field == KEPT_APART))
        };
        assert_eq!(kept_apart_problem(&after), None);
        let again = decide_look_alike(&call(KEEP_APART, &sup, &after, &args, &context)).unwrap();
        assert!(again.changes.is_empty());
        after.insert(KEPT_APART.into(), json!(["x"]));
        assert_eq!(
            kept_apart_problem(&after),
            Some(FieldError::new(KEPT_APART, FieldProblem::WrongType))
        );
    }
}

/// `/customers/look-alikes`: the look-alike pairs among the customers on
/// the device (`?id=` narrows them to one customer's), each with both
/// customers side by side; a supervisor keeps one and merges the other
/// into it, or tells them apart. Works offline like any list: the
/// commands queue in the outbox and the server decides them.
#[leptos::component]
pub fn LookAlikesPage() -> impl leptos::IntoView {
    crate::ui::with_user(|me| leptos::view! { <LookAlikesView me /> })
}

#[leptos::component]
fn LookAlikesView(me: CurrentUser) -> impl leptos::IntoView {
    use crate::client::{self, LocalView};
    use crate::sync::entity::{Context, Other};
    use leptos::prelude::*;
    use leptos_router::components::A;
    let locale = crate::ui::use_locale();
    let t = locale.texts();
    let status = client::use_sync_status();
    let only = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("id").and_then(|raw| Uuid::parse_str(&raw).ok()));
    let held = client::use_prepared_records(super::CUSTOMER.name, Some, |_, _| std::cmp::Ordering::Equal);
    // Pairs given a command here, until the sync takes the duplicate away.
    let sent = RwSignal::new(BTreeSet::<(Uuid, Uuid)>::new());
    let failure = RwSignal::new(None::<(Uuid, Uuid, crate::error::AppError)>);
    let works = may_merge(&me);
    let give = Action::new_local({
        let me = me.clone();
        move |(on, other, name): &(LocalView, LocalView, &'static str)| {
            let (me, on, other, name) = (me.clone(), on.clone(), other.clone(), *name);
            let pair = if on.id < other.id {
                (on.id, other.id)
            } else {
                (other.id, on.id)
            };
            async move {
                let arg = if name == MERGE { ABSORB } else { OTHER };
                let args: Fields =
                    std::iter::once((arg.to_owned(), Value::String(other.id.to_string()))).collect();
                let mut context = Context::default();
                context.records.insert(
                    other.id,
                    Other {
                        fields: other.fields.clone(),
                        ownership: other.ownership(&me, super::CUSTOMER.kind),
                    },
                );
                match client::command_with(status, &me, &super::CUSTOMER, &on, name, args, &context).await {
                    Ok(()) => {
                        failure.set(None);
                        sent.update(|s| {
                            s.insert(pair);
                        });
                    }
                    Err(e) => failure.set(Some((pair.0, pair.1, e))),
                }
            }
        }
    });
    let me_for_cards = me.clone();
    let card = move |view: &LocalView, other: &LocalView| {
        let text = |name: &str| {
            view.fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (_, owner) = view.owner_or(&me_for_cards);
        let status_word = locale.word(status_of(&view.fields));
        let facts = [
            text("code"),
            owner,
            status_word.to_owned(),
            text("phone"),
            text("credit_code"),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
        let company = text("company");
        let href = format!("{}/{}", super::CUSTOMER_SCREEN.path, view.id);
        let (on, other) = (view.clone(), other.clone());
        view! {
            <div class="look-alike-side" data-testid="look-alike-side">
                <A href=href>
                    <strong>{company}</strong>
                </A>
                <p class="muted">{facts}</p>
                {works.then(|| view! {
                    <button
                        class="primary"
                        data-testid="look-alike-keep"
                        on:click=move |_| { give.dispatch_local((on.clone(), other.clone(), MERGE)); }
                    >
                        {locale.word("look_alike_keep")}
                    </button>
                })}
            </div>
        }
    };
    view! {
        <leptos_meta::Title text=format!("{} · {}", locale.word("look_alikes"), t.app_name) />
        <p>
            <A href=super::CUSTOMER_SCREEN.path>{format!("‹ {}", locale.say(super::CUSTOMER.plural))}</A>
        </p>
        <h1>{locale.word("look_alikes")}</h1>
        <p class="muted">{locale.word("look_alikes_hint")}</p>
        {(!works).then(|| view! { <p class="muted">{locale.word("look_alike_works")}</p> })}
        {move || {
            held.with(|read| match read {
                None => view! { <p class="empty">{t.loading}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error">{locale.error(e)}</p> }.into_any(),
                Some(Ok(list)) => {
                    let refs: Vec<(Uuid, &Fields)> = list.iter().map(|v| (v.id, &v.fields)).collect();
                    let by_id = |id: Uuid| list.iter().find(|v| v.id == id);
                    let pairs: Vec<LookAlike> = look_alikes(&refs)
                        .into_iter()
                        .filter(|p| only.is_none_or(|id| p.first == id || p.second == id))
                        .collect();
                    if pairs.is_empty() {
                        return view! { <p class="empty" data-testid="look-alikes-none">{locale.word("look_alikes_none")}</p> }
                            .into_any();
                    }
                    pairs
                        .into_iter()
                        .filter_map(|pair| {
                            let (first, second) = (by_id(pair.first)?, by_id(pair.second)?);
                            let key = (pair.first, pair.second);
                            let done = sent.with(|s| s.contains(&key));
                            let refused = failure.with(|f| {
                                f.as_ref().filter(|(a, b, _)| (*a, *b) == key).map(|(_, _, e)| locale.error(e))
                            });
                            let (apart_on, apart_other) = (first.clone(), second.clone());
                            let same = pair
                                .shared
                                .iter()
                                .map(|name| super::CUSTOMER.label(name, locale))
                                .collect::<Vec<_>>()
                                .join("、");
                            Some(view! {
                                <article class="card look-alike" data-testid="look-alike">
                                    <p class="muted" data-testid="look-alike-shared">
                                        {format!("{}：{same}", locale.word("look_alike_shared"))}
                                    </p>
                                    <div class="look-alike-pair">
                                        {card(first, second)}
                                        {card(second, first)}
                                    </div>
                                    {refused.map(|why| view! { <p class="form-error" role="alert" data-testid="look-alike-refused">{why}</p> })}
                                    {if done {
                                        view! { <p class="muted" data-testid="look-alike-sent">{locale.word("look_alike_sent")}</p> }.into_any()
                                    } else if works {
                                        view! {
                                            <button
                                                data-testid="look-alike-apart"
                                                on:click=move |_| { give.dispatch_local((apart_on.clone(), apart_other.clone(), KEEP_APART)); }
                                            >
                                                {locale.word("keep_apart")}
                                            </button>
                                        }
                                        .into_any()
                                    } else {
                                        ().into_any()
                                    }}
                                </article>
                            })
                        })
                        .collect_view()
                        .into_any()
                }
            })
        }}
    }
}
