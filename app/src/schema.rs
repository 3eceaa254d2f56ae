//! The one place a field is declared: each aggregate lists its fields here
//! once, with their words in both languages, what they hold, whether they
//! must be filled, where they show and who changes them. The form, the
//! record's page, a list's filters and search, the browser's and the
//! server's checks and the history's labels all read that declaration, so
//! a field is never named twice and a missing label does not compile.

use crate::error::AppError;
use crate::error::FieldProblem;
use crate::i18n::{Locale, Words};
use crate::stored::Reader;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The longest one-line text (a name, a phone, a title), in characters.
pub const SHORT_TEXT: usize = 100;
/// The longest free text (a description, notes), in characters.
pub const LONG_TEXT: usize = 2000;

/// What a field holds, which decides how it is typed, stored, checked and
/// shown.
#[derive(Clone, Copy, PartialEq)]
pub enum Input {
    /// One line, at most `SHORT_TEXT` characters.
    Text,
    /// Free text, at most `LONG_TEXT` characters.
    Long,
    /// A text that may also be one of these coded words, shown in words (a
    /// survey answered by the customer, or else by a named agent).
    TextOr(&'static [&'static str]),
    /// A moment typed in the user's zone; stored in UTC.
    DateTime,
    Date,
    Phone,
    /// Stored lower-case (`validate::Email`), shown as a `mailto:` link.
    Email,
    /// Yuan, exact (`validate::Money`).
    Money,
    /// A whole number (days, a count) within these bounds.
    Whole {
        min: i64,
        max: i64,
    },
    Choice(&'static [&'static str]),
    /// A colleague of this role, chosen by name (a command's argument:
    /// the id of the user).
    Person(crate::roles::Role),
    /// A record of another aggregate, found among those on the device by
    /// what is typed (its searched fields) and chosen; stored as its id.
    Reference(&'static Link),
    /// The id of a record of this entity, set with the record rather than
    /// typed (a visit made from a lead, the lead a customer came from): a
    /// reference like `Reference`, checked the same way.
    RecordOf(&'static str),
    /// The id of a person or record the server sets and keeps (who owned
    /// a pooled customer, the customer a merged one went into), not a
    /// reference a writer gives.
    Id,
    /// Ids of records the server keeps (the customers one was told apart
    /// from), at most `max`.
    Ids {
        max: usize,
    },
    /// A list of lines, each with the same small fields (a customer's
    /// contacts, a repair's parts): stored as an array of objects.
    Lines(&'static Lines),
    /// A signature drawn on the screen (a customer's sign-off), stored as
    /// a PNG data URL (`stored::Reader::signature`).
    Signature,
    /// The state of an approval chain (`approvals::Approval`).
    Approval,
}

/// The fields of each line of a list, and the yes/no field (if any) that
/// marks the one main line (a primary contact).
pub struct Lines {
    pub fields: &'static [Field],
    pub flag: Option<&'static str>,
    pub max: usize,
    /// Records stored before the field was lines keep it as the text it
    /// was written in (a repair's parts), read as a long text.
    pub text_before: bool,
}

/// The key a line keeps its identity under across edits: a UUID the
/// device gives a line when it is added (`Reader::lines` checks it). A line
/// stored before lines had one is known by its whole content.
pub const LINE_ID: &str = "id";

/// What a line-by-line merge gives (`Lines::merge`).
#[derive(Debug, PartialEq)]
pub struct LinesMerged {
    pub lines: Vec<Value>,
    /// A line both sides changed differently, or one changed and the other
    /// removed, or each chose a different main line: the later arrival's
    /// edit won, and `other` is what it replaced.
    pub clashed: bool,
    /// The lines had every clash gone the other way (the stored side's
    /// change, the device's removal, the stored main line), everything
    /// else merged alike: what a user who settles the conflict for the
    /// other side gets back.
    pub other: Vec<Value>,
}

impl Lines {
    /// Whether every line holds only its declared fields and, at most, an
    /// identity (`LINE_ID`, a UUID no other line has): what is stored is
    /// what was checked.
    fn keys_hold(&self, value: Option<&Value>) -> bool {
        let Some(Value::Array(lines)) = value else {
            return true;
        };
        let mut ids = std::collections::BTreeSet::new();
        lines.iter().filter_map(Value::as_object).all(|line| {
            line.iter().all(|(key, value)| match key.as_str() {
                LINE_ID => value
                    .as_str()
                    .and_then(|raw| uuid::Uuid::parse_str(raw).ok())
                    .is_some_and(|id| ids.insert(id)),
                key => self.fields.iter().any(|f| f.name == key),
            })
        })
    }

    /// Merges a device's edit of these lines (`incoming`, made from `base`)
    /// into the lines stored now (`current`), line by line (`Merge::ByLine`):
    /// the lines stored now keep their order, the device's new lines follow.
    /// Which line is the main one (the flag) is a choice of its own, not a
    /// change of the lines it marks: the device's choice stands if it made
    /// one, the stored one otherwise; the first line when neither is left.
    pub fn merge(&self, base: &[Value], current: &[Value], incoming: &[Value]) -> LinesMerged {
        let flag = self.flag;
        let is_main =
            |line: &Value| flag.is_some_and(|flag| line.get(flag).and_then(Value::as_str) == Some("yes"));
        // Each line as (its identity, its content without its mark, itself).
        let keyed = |lines: &[Value]| -> Vec<(String, Value, Value)> {
            lines
                .iter()
                .map(|line| {
                    let mut content = line.clone();
                    if let (Some(flag), Some(fields)) = (flag, content.as_object_mut()) {
                        fields.remove(flag);
                    }
                    (line_key(&content), content, line.clone())
                })
                .collect()
        };
        let (base, stored, edited) = (keyed(base), keyed(current), keyed(incoming));
        let main_of =
            |lines: &[(String, Value, Value)]| lines.iter().find(|l| is_main(&l.2)).map(|l| l.0.clone());
        let find = |lines: &[(String, Value, Value)], key: &str| lines.iter().find(|l| l.0 == key).cloned();
        let mut clashed = false;
        // Per line: (identity, the merged line, the line had every clash
        // gone the other way); `None` is a line removed.
        let mut both: Vec<(String, Option<Value>, Option<Value>)> = Vec::new();
        for (key, line, kept) in &stored {
            let (merged, other) = match (find(&base, key), find(&edited, key)) {
                // Changed by the device: its edit wins.
                (Some((_, was, _)), Some((_, now, sent))) if now != was => {
                    let clash = *line != was && *line != now;
                    clashed |= clash;
                    (Some(sent.clone()), Some(if clash { kept.clone() } else { sent }))
                }
                // Removed by the device: gone, unless changed here since.
                (Some((_, was, _)), None) if *line != was => {
                    clashed = true;
                    (Some(kept.clone()), None)
                }
                (Some(_), None) => (None, None),
                // Added by both (a replay): the device's.
                (None, Some((_, now, sent))) => {
                    let clash = now != *line;
                    clashed |= clash;
                    (Some(sent.clone()), Some(if clash { kept.clone() } else { sent }))
                }
                // Untouched by the device, or added here since.
                (Some(_), Some(_)) | (None, None) => (Some(kept.clone()), Some(kept.clone())),
            };
            both.push((key.clone(), merged, other));
        }
        for (key, line, sent) in &edited {
            if find(&stored, key).is_some() {
                continue;
            }
            match find(&base, key) {
                // Added by the device.
                None => both.push((key.clone(), Some(sent.clone()), Some(sent.clone()))),
                // Removed here since, yet changed by the device: kept.
                Some((_, was, _)) if *line != was => {
                    clashed = true;
                    both.push((key.clone(), Some(sent.clone()), None));
                }
                // Removed here since, untouched by the device.
                Some(_) => {}
            }
        }
        let (was_main, stored_main, edited_main) = (main_of(&base), main_of(&stored), main_of(&edited));
        // Removing the main line without marking another is no choice.
        let device_chose = edited_main.is_some() && edited_main != was_main;
        clashed |= device_chose && stored_main != was_main && stored_main != edited_main;
        let (main, other_main) = if device_chose {
            (edited_main, stored_main)
        } else {
            (stored_main.clone(), stored_main)
        };
        let marked = |lines: Vec<(String, Value)>, main: Option<String>| -> Vec<Value> {
            let Some(flag) = flag else {
                return lines.into_iter().map(|(_, line)| line).collect();
            };
            let main = main
                .filter(|m| lines.iter().any(|(k, _)| k == m))
                .or_else(|| lines.first().map(|(k, _)| k.clone()));
            lines
                .into_iter()
                .map(|(key, mut line)| {
                    let yes = Some(&key) == main.as_ref();
                    // Only a mark that is wrong is rewritten: a line stays
                    // as it was stored or sent.
                    if yes != is_main(&line) {
                        if let Some(fields) = line.as_object_mut() {
                            fields.insert(flag.to_owned(), Value::from(if yes { "yes" } else { "no" }));
                        }
                    }
                    line
                })
                .collect()
        };
        let pick = |other: bool| -> Vec<(String, Value)> {
            both.iter()
                .filter_map(|(key, merged, replaced)| {
                    Some((key.clone(), if other { replaced } else { merged }.clone()?))
                })
                .collect()
        };
        LinesMerged {
            lines: marked(pick(false), main),
            other: marked(pick(true), other_main),
            clashed,
        }
    }
}

/// A line's identity: its `LINE_ID`, or else its whole content.
fn line_key(line: &Value) -> String {
    match line.get(LINE_ID).and_then(Value::as_str) {
        Some(id) => format!("id {id}"),
        None => format!("line {line}"),
    }
}

impl PartialEq for Lines {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// What a reference field links to, and what choosing a record copies
/// into the form (a ticket's customer: the name, contact and phone).
pub struct Link {
    /// The linked aggregate's name (its `EntitySpec` is in the registry,
    /// `aggregates::ENTITIES`, which lists every aggregate).
    pub entity: &'static str,
    /// (field of the chosen record, field of the form). The first names
    /// the record and is always copied; the rest fill inputs left empty,
    /// so what the caller said stays.
    pub copy: &'static [(&'static str, &'static str)],
}

impl PartialEq for Link {
    fn eq(&self, other: &Self) -> bool {
        self.entity == other.entity && self.copy == other.copy
    }
}

/// Where a field shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Typed in the record's form, in the order declared.
    Form,
    /// Set by the record's commands or the server, shown on its page under
    /// the form's fields (a ticket's first contact, a customer's code).
    Fact,
    /// Kept for the rules (a clock's mode, a survey's secret): shown only
    /// in the record's history.
    Kept,
}

/// One field of a record, or one argument of a command.
#[derive(Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: Words,
    pub input: Input,
    pub required: bool,
    pub place: Place,
    /// Changed only by the aggregate's commands (status, stage, code,
    /// owner, approval state): a patch or a create that sets it is refused.
    pub workflow: bool,
    /// A list's search box looks in it (names, phones, notes; not coded
    /// choices, whose stored words the user never sees).
    pub searched: bool,
    /// A choice the list can be narrowed by (every choice, unless
    /// `unfiltered`).
    pub filter: bool,
    /// A moment that has happened: not later than now (with five minutes
    /// of clock skew).
    pub past: bool,
    /// How an edit of it meets an edit of the same field made elsewhere
    /// since the device last synced.
    pub merge: Merge,
}

/// How a device's edit of a field meets a concurrent edit of the same field
/// (one the server stored after the version the device's edit started
/// from). Edits of different fields always both hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The later arrival wins, and the value it replaced is kept as a
    /// conflict for someone who may change the record to look at.
    LaterArrival,
    /// Lines (`Input::Lines`), line by line: lines added, removed or
    /// changed on either side all hold; only a line both sides changed
    /// differently (or one changed and the other removed) is a conflict,
    /// won by the later arrival. Needs the value the device's edit started
    /// from (`sync::Mutation::base`); without it, `LaterArrival`.
    ByLine,
}

/// An optional field typed in the form.
pub const fn field(name: &'static str, input: Input, zh: &'static str, en: &'static str) -> Field {
    Field {
        name,
        label: Words { zh, en },
        input,
        required: false,
        place: Place::Form,
        workflow: false,
        searched: false,
        filter: matches!(input, Input::Choice(_)),
        past: false,
        merge: match input {
            Input::Lines(_) => Merge::ByLine,
            _ => Merge::LaterArrival,
        },
    }
}

impl Field {
    pub const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    pub const fn searched(self) -> Self {
        Self {
            searched: true,
            ..self
        }
    }

    /// Set by the record's commands only, and shown on its page.
    pub const fn fact(self) -> Self {
        Self {
            place: Place::Fact,
            workflow: true,
            ..self
        }
    }

    /// Kept for the rules, not shown but in the history.
    pub const fn kept(self) -> Self {
        Self {
            place: Place::Kept,
            ..self
        }
    }

    /// Changed only by the record's commands.
    pub const fn workflow(self) -> Self {
        Self {
            workflow: true,
            ..self
        }
    }

    /// A choice the list is not narrowed by (a lead's screening answers:
    /// the grade they propose is).
    pub const fn unfiltered(self) -> Self {
        Self {
            filter: false,
            ..self
        }
    }

    pub const fn past(self) -> Self {
        Self { past: true, ..self }
    }
}

/// The field named `name` among `fields`.
pub fn find(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.name == name)
}

/// Reads every declared field as it will be stored, recording each problem
/// on `read`: its type, its length, its choices, whether it is filled.
/// What lets a record in is what every reader can read.
pub fn check(fields: &[Field], read: &mut Reader, now: DateTime<Utc>) {
    for field in fields {
        check_field(field, read, now);
    }
}

fn check_field(field: &Field, read: &mut Reader, now: DateTime<Utc>) {
    let name = field.name;
    let text = |read: &mut Reader, max| {
        if field.required {
            read.required(name, max)
        } else {
            read.optional(name, max)
        }
    };
    let found = match field.input {
        Input::Text | Input::TextOr(_) => return text(read, SHORT_TEXT),
        Input::Long => return text(read, LONG_TEXT),
        Input::Choice(values) => {
            let coded = |raw: &str| values.contains(&raw).then_some(());
            if field.required {
                read.choice(name, coded);
            } else {
                read.optional_choice(name, coded);
            }
            return;
        }
        Input::DateTime => {
            let at = read.instant(name);
            if field.past && at.is_some_and(|at| at > now + chrono::Duration::minutes(5)) {
                read.check.fail(name, FieldProblem::InFuture);
            }
            at.is_some()
        }
        Input::Date => read.date(name).is_some(),
        Input::Phone => read.phone(name).is_some(),
        Input::Email => read.email(name).is_some(),
        Input::Money => read.money(name).is_some(),
        Input::Whole { min, max } => read.whole(name, min..=max).is_some(),
        Input::Reference(_) | Input::RecordOf(_) | Input::Id | Input::Person(_) => read.id(name).is_some(),
        Input::Ids { max } => {
            let Some(value) = read.value(name).filter(|v| !v.is_null()) else {
                return;
            };
            let is_id = |v: &Value| v.as_str().is_some_and(|raw| uuid::Uuid::parse_str(raw).is_ok());
            match value.as_array() {
                Some(ids) if ids.len() > max => read.check.fail(name, FieldProblem::TooLong { max }),
                Some(ids) if ids.iter().all(is_id) => {}
                _ => read.check.fail(name, FieldProblem::WrongType),
            }
            return;
        }
        Input::Lines(lines) if lines.text_before && read.holds_text(name) => {
            return text(read, LONG_TEXT);
        }
        Input::Lines(lines) => {
            read.lines(name, lines.max, lines.flag, |line| check(lines.fields, line, now));
            if !read.has_problem(name) && !lines.keys_hold(read.value(name)) {
                read.check.fail(name, FieldProblem::WrongType);
            }
            return;
        }
        Input::Signature => read.signature(name).is_some(),
        Input::Approval => {
            if read.value(name).is_some_and(|v| !v.is_null() && !is_approval(v)) {
                read.check.fail(name, FieldProblem::WrongType);
            }
            return;
        }
    };
    if field.required && !found && read.is_empty(name) {
        read.check.fail(name, FieldProblem::Required);
    }
}

/// Whether a stored approval reads as one.
pub fn is_approval(value: &Value) -> bool {
    serde_json::from_value::<crate::approvals::Approval>(value.clone()).is_ok()
}

/// An error in the user's words, a validation error with each field's problem
/// ("审批意见: 必填"), where a form has no input to show it beside.
/// `fields` are those the error may name (a command's arguments and
/// its record's fields): a name not among them shows as it is.
pub fn error_in_words(locale: Locale, error: &AppError, declared: &[Field]) -> String {
    match error {
        AppError::Invalid { fields } => fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    declared
                        .iter()
                        .find(|d| d.name == f.field)
                        .map_or(f.field.as_str(), |d| locale.say(d.label)),
                    locale.field_problem(f.problem)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => locale.error(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use crate::sync::Fields;
    use serde_json::json;

    const PARTS: Lines = Lines {
        fields: &[
            field("part", Input::Text, "零部件", "Part").required(),
            field("quantity", Input::Whole { min: 1, max: 9 }, "数量", "Quantity").required(),
        ],
        flag: None,
        max: 2,
        text_before: true,
    };
    const FIELDS: &[Field] = &[
        field("at", Input::DateTime, "时间", "At").required().past(),
        field("days", Input::Whole { min: 1, max: 30 }, "天数", "Days"),
        field("parts", Input::Lines(&PARTS), "零部件", "Parts"),
        field("apart", Input::Ids { max: 1 }, "不重复", "Apart"),
    ];

    fn problems(value: serde_json::Value) -> Vec<FieldError> {
        let fields: Fields = value.as_object().unwrap().clone();
        let mut read = Reader::new(&fields);
        check(FIELDS, &mut read, "2026-12-07T08:00:00Z".parse().unwrap());
        read.finish().err().unwrap_or_default()
    }

    #[test]
    fn each_field_is_read_by_what_it_declares() {
        assert_eq!(
            problems(json!({})),
            [FieldError::new("at", FieldProblem::Required)]
        );
        // Five minutes of clock skew, not six.
        assert_eq!(problems(json!({"at": "2026-12-07T08:05:00Z"})), []);
        assert_eq!(
            problems(json!({"at": "2026-12-07T08:06:00Z"})),
            [FieldError::new("at", FieldProblem::InFuture)]
        );
        let ok = |extra: serde_json::Value| {
            let mut all = json!({"at": "2026-12-07T08:00:00Z"});
            all.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            problems(all)
        };
        assert_eq!(ok(json!({"days": "30"})), []);
        assert_eq!(
            ok(json!({"days": "31"})),
            [FieldError::new("days", FieldProblem::InvalidNumber)]
        );
        assert_eq!(
            ok(json!({"days": "07"})),
            [FieldError::new("days", FieldProblem::InvalidNumber)]
        );
        // Lines, or the text they were written as before.
        assert_eq!(ok(json!({"parts": [{"part": "密封圈", "quantity": "2"}]})), []);
        assert_eq!(ok(json!({"parts": "密封圈 2 个"})), []);
        assert_eq!(
            ok(json!({"parts": [{"quantity": "10"}]})),
            [
                FieldError::new("parts", FieldProblem::Required),
                FieldError::new("parts", FieldProblem::InvalidNumber)
            ]
        );
        let id = "0193a1b2-0000-7000-8000-000000000001";
        assert_eq!(ok(json!({"apart": [id]})), []);
        assert_eq!(
            ok(json!({"apart": [id, id]})),
            [FieldError::new("apart", FieldProblem::TooLong { max: 1 })]
        );
        assert_eq!(
            ok(json!({"apart": ["x"]})),
            [FieldError::new("apart", FieldProblem::WrongType)]
        );
        // A line holds its declared fields and, at most, one identity.
        let line_id = "0193a1b2-0000-7000-8000-000000000002";
        assert_eq!(
            ok(json!({"parts": [{"id": id, "part": "密封圈", "quantity": "2"},
                                {"id": line_id, "part": "阀门", "quantity": "1"}]})),
            []
        );
        for parts in [
            json!([{"part": "密封圈", "quantity": "2", "price": "5"}]),
            json!([{"id": "x", "part": "密封圈", "quantity": "2"}]),
            json!([{"id": 7, "part": "密封圈", "quantity": "2"}]),
            json!([{"id": id, "part": "密封圈", "quantity": "2"}, {"id": id, "part": "阀门", "quantity": "1"}]),
        ] {
            assert_eq!(
                ok(json!({ "parts": parts })),
                [FieldError::new("parts", FieldProblem::WrongType)],
                "{parts}"
            );
        }
    }

    const CONTACTS: Lines = Lines {
        fields: &[
            field("name", Input::Text, "姓名", "Name").required(),
            field("phone", Input::Phone, "电话", "Phone"),
            field(
                "primary",
                Input::Choice(&["no", "yes"]),
                "主要联系人",
                "Main contact",
            ),
        ],
        flag: Some("primary"),
        max: 20,
        text_before: false,
    };

    fn contact(id: u8, name: &str, primary: bool) -> Value {
        json!({
            "id": format!("0193a1b2-0000-7000-8000-0000000000{id:02}"),
            "name": name,
            "primary": if primary { "yes" } else { "no" },
        })
    }

    fn names(merged: &LinesMerged) -> Vec<(String, bool)> {
        merged
            .lines
            .iter()
            .map(|l| (l["name"].as_str().unwrap().to_owned(), l["primary"] == "yes"))
            .collect()
    }

    fn named(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(n, p)| (n.to_string(), *p)).collect()
    }

    #[test]
    fn lines_added_or_removed_on_two_devices_all_hold() {
        let base = [contact(1, "王总", true), contact(2, "李工", false)];
        // Here (stored since): 李工 removed, 赵会计 added.
        let stored = [contact(1, "王总", true), contact(3, "赵会计", false)];
        // The device: 孙经理 added, 王总 kept.
        let edited = [
            contact(1, "王总", true),
            contact(2, "李工", false),
            contact(4, "孙经理", false),
        ];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(
            names(&merged),
            named(&[("王总", true), ("赵会计", false), ("孙经理", false)])
        );
        assert!(!merged.clashed);
        // The device removed 李工 as well; here 赵会计 was added.
        let edited = [contact(1, "王总", true)];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(names(&merged), named(&[("王总", true), ("赵会计", false)]));
        assert!(!merged.clashed);
    }

    #[test]
    fn a_line_changed_on_both_devices_is_won_by_the_later_arrival_as_a_conflict() {
        let base = [contact(1, "王总", true), contact(2, "李工", false)];
        let stored = [contact(1, "王总", true), contact(2, "李工程师", false)];
        let edited = [contact(1, "王总", true), contact(2, "李总工", false)];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(names(&merged), named(&[("王总", true), ("李总工", false)]));
        assert!(merged.clashed);
        // The same change on both: no conflict.
        let merged = CONTACTS.merge(&base, &stored, &stored);
        assert_eq!(merged.lines, stored);
        assert!(!merged.clashed);
        // Changed here, removed by the device: kept, as a conflict.
        let merged = CONTACTS.merge(&base, &stored, &[contact(1, "王总", true)]);
        assert_eq!(names(&merged), named(&[("王总", true), ("李工程师", false)]));
        assert!(merged.clashed);
        // Removed here, changed by the device: back, as a conflict.
        let merged = CONTACTS.merge(&base, &[contact(1, "王总", true)], &edited);
        assert_eq!(names(&merged), named(&[("王总", true), ("李总工", false)]));
        assert!(merged.clashed);
        // Removed here, untouched by the device: stays removed.
        let merged = CONTACTS.merge(&base, &[contact(1, "王总", true)], &base);
        assert_eq!(names(&merged), named(&[("王总", true)]));
        assert!(!merged.clashed);
    }

    #[test]
    fn one_main_line_stays_the_later_arrivals_choice() {
        let base = [
            contact(1, "王总", true),
            contact(2, "李工", false),
            contact(3, "赵会计", false),
        ];
        let stored = [
            contact(1, "王总", false),
            contact(2, "李工", true),
            contact(3, "赵会计", false),
        ];
        let edited = [
            contact(1, "王总", false),
            contact(2, "李工", false),
            contact(3, "赵会计", true),
        ];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(
            names(&merged),
            named(&[("王总", false), ("李工", false), ("赵会计", true)])
        );
        assert!(merged.clashed);
        // The main line removed here, another line added by the device:
        // the first line becomes the main one.
        let merged = CONTACTS.merge(
            &base[..1],
            &[contact(2, "李工", false)],
            &[contact(1, "王总", true), contact(4, "孙经理", false)],
        );
        assert_eq!(names(&merged), named(&[("李工", true), ("孙经理", false)]));
        assert!(!merged.clashed);
    }

    /// What one device did to each line of the base (kept, removed or
    /// changed), and whether it added one: every combination, on lists of
    /// up to three lines, against every combination on the other device.
    #[test]
    fn every_pair_of_concurrent_line_edits_keeps_what_either_added_and_what_neither_removed() {
        const NAMED: Lines = Lines {
            fields: &[field("name", Input::Text, "姓名", "Name").required()],
            flag: None,
            max: 20,
            text_before: false,
        };
        #[derive(Clone, Copy, PartialEq)]
        enum Did {
            Kept,
            Removed,
            Changed,
        }
        let line = |id: usize, name: String| json!({"id": format!("0193a1b2-0000-7000-8000-{id:012}"), "name": name});
        let edits = |n: usize| -> Vec<(Vec<Did>, bool)> {
            let mut all = vec![(Vec::new(), false), (Vec::new(), true)];
            for _ in 0..n {
                all = all
                    .into_iter()
                    .flat_map(|(did, added)| {
                        [Did::Kept, Did::Removed, Did::Changed].map(|d| {
                            let mut did = did.clone();
                            did.push(d);
                            (did, added)
                        })
                    })
                    .collect();
            }
            all
        };
        let apply = |base: &[Value], (did, added): &(Vec<Did>, bool), side: usize| -> Vec<Value> {
            let mut lines: Vec<Value> = base
                .iter()
                .zip(did)
                .enumerate()
                .filter(|(_, (_, d))| **d != Did::Removed)
                .map(|(i, (l, d))| match d {
                    Did::Changed => line(i, format!("line {i} by {side}")),
                    _ => l.clone(),
                })
                .collect();
            if *added {
                lines.push(line(100 + side, format!("new by {side}")));
            }
            lines
        };
        for n in 0..=3 {
            let base: Vec<Value> = (0..n).map(|i| line(i, format!("line {i}"))).collect();
            for here in edits(n) {
                for device in edits(n) {
                    let stored = apply(&base, &here, 1);
                    let edited = apply(&base, &device, 2);
                    let merged = NAMED.merge(&base, &stored, &edited);
                    let has = |name: &str| merged.lines.iter().any(|l| l["name"] == name);
                    assert_eq!(has("new by 1"), here.1);
                    assert_eq!(has("new by 2"), device.1);
                    for (i, was) in base.iter().enumerate() {
                        let (a, b) = (here.0[i], device.0[i]);
                        let ids = merged.lines.iter().filter(|l| l["id"] == was["id"]).count();
                        assert!(ids <= 1, "line {i} twice");
                        let kept = ids == 1;
                        match (a, b) {
                            (Did::Kept, Did::Kept) => assert!(has(&format!("line {i}"))),
                            (Did::Removed, Did::Removed | Did::Kept) | (Did::Kept, Did::Removed) => {
                                assert!(!kept)
                            }
                            (Did::Changed, Did::Kept) => assert!(has(&format!("line {i} by 1"))),
                            // The device's change wins: over a change
                            // here, and over a removal here.
                            (_, Did::Changed) => assert!(has(&format!("line {i} by 2"))),
                            // A change here the device removed stays.
                            (Did::Changed, Did::Removed) => assert!(has(&format!("line {i} by 1"))),
                        }
                    }
                    let clashes = (0..n).any(|i| {
                        matches!(
                            (here.0[i], device.0[i]),
                            (Did::Changed, Did::Changed)
                                | (Did::Changed, Did::Removed)
                                | (Did::Removed, Did::Changed)
                        )
                    });
                    assert_eq!(merged.clashed, clashes);
                    if !clashes {
                        assert_eq!(merged.other, merged.lines);
                    }
                }
            }
        }
    }

    #[test]
    fn the_main_line_is_a_choice_apart_from_the_lines_it_marks() {
        let base = [contact(1, "王总", true), contact(2, "李工", false)];
        // Here the main contact became 李工; the device changed 王总's name.
        let stored = [contact(1, "王总", false), contact(2, "李工", true)];
        let edited = [contact(1, "王建国总", true), contact(2, "李工", false)];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(names(&merged), named(&[("王建国总", false), ("李工", true)]));
        assert!(!merged.clashed);
        // Here the main contact became 李工; the device removed 王总.
        let merged = CONTACTS.merge(&base, &stored, &[contact(2, "李工", false)]);
        assert_eq!(names(&merged), named(&[("李工", true)]));
        assert!(!merged.clashed);
    }

    #[test]
    fn a_clash_settled_the_other_way_keeps_everything_else_merged() {
        let base = [contact(1, "王总", true), contact(2, "李工", false)];
        // Here 李工 changed; the device removed 李工 and added 孙经理.
        let stored = [contact(1, "王总", true), contact(2, "李工程师", false)];
        let edited = [contact(1, "王总", true), contact(4, "孙经理", false)];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert!(merged.clashed);
        assert_eq!(
            names(&merged),
            named(&[("王总", true), ("李工程师", false), ("孙经理", false)])
        );
        assert_eq!(
            merged
                .other
                .iter()
                .map(|l| l["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["王总", "孙经理"]
        );
    }

    #[test]
    fn lines_stored_without_an_identity_are_known_by_their_content() {
        let old = |name: &str| json!({"name": name, "primary": "no"});
        let base = [old("王总")];
        let stored = [old("王总"), old("李工")];
        let edited = [old("王总"), contact(4, "孙经理", false)];
        let merged = CONTACTS.merge(&base, &stored, &edited);
        assert_eq!(
            names(&merged),
            named(&[("王总", true), ("李工", false), ("孙经理", false)])
        );
        assert!(!merged.clashed);
    }
}
