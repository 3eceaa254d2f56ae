//! What a record's form, list and page show: a `RecordScreen` per
//! aggregate, declared in the aggregate's module and rendered by `records`.
//! Kept apart from `records` so aggregates name their screen without
//! importing the views that render it. The fields themselves are declared
//! once, in the aggregate's schema (`crate::schema`).

use crate::i18n::{Locale, Words};
use crate::schema::{Field, Place};
use crate::sync::entity::EntitySpec;
use crate::sync::Fields;
use chrono::{DateTime, Utc};

/// A field the form fills from others by a pure rule (a lead's grade
/// from its screening score): the proposal fills it while it is empty or
/// still holds the last proposal; a value the user chose stays.
pub struct Proposal {
    pub field: &'static str,
    /// The value proposed for the record as typed (stored form), by the
    /// company's settings, with the score it comes from.
    pub rule: fn(&Fields, &crate::sync::entity::Singles) -> Option<Proposed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposed {
    pub value: &'static str,
    pub score: u32,
    /// The most the score can be.
    pub max: u32,
}

impl Proposed {
    /// "评分 7/8 · 建议意向等级：A 高意向": a proposal and its score.
    pub fn words(self, field: &Field, locale: Locale) -> String {
        let (score, max) = (self.score, self.max);
        let label = locale.say(field.label);
        let value = locale.choice(field.name, self.value).unwrap_or(self.value);
        match locale {
            Locale::ZhCn => format!("评分 {score}/{max} · 建议{label}：{value}"),
            Locale::En => format!("Score {score}/{max} · proposed {}: {value}", label.to_lowercase()),
        }
    }
}

/// A record's deadlines in a zone, by the company's settings.
pub type DeadlinesRule =
    fn(uuid::Uuid, &Fields, chrono_tz::Tz, &crate::sync::entity::Singles) -> Vec<Deadline>;

/// One kind of record the phone can enter.
pub struct RecordScreen {
    pub spec: &'static EntitySpec,
    /// The title of its form for a new record (新增线索).
    pub new: Words,
    /// The moment shown under it.
    pub when: &'static str,
    pub path: &'static str,
    /// A record this one may be made from (a customer from a lead).
    pub from: Option<Source>,
    /// While its name, phone or credit code is typed, the form shows the
    /// records on the device that may be the same company (查重).
    pub dedup: bool,
    /// Commands offered only on some of its records (a repair's condition
    /// before, on a repair); the others are offered on every record, and
    /// disabled with the rule's reason while it refuses them.
    pub offered: &'static [Offer],
    /// What the user types beside pressing a command (a ticket's first
    /// contact: how, and what was agreed; a rejection's comment).
    pub args: &'static [CommandArgs],
    /// The record's deadlines as its page and card show them (a ticket's
    /// 2-hour and 24-hour clocks): the same pure rule the server's clocks
    /// come from.
    pub deadlines: Option<DeadlinesRule>,
    /// The rates a list shows those who oversee it (a service supervisor's
    /// 2-hour contact and 24-hour resolution rates), from the records on
    /// the device.
    pub rates: Option<RatesRule>,
    /// The board of the list for those who oversee it (the service
    /// supervisor's), linked from the list's head.
    pub board: Option<&'static str>,
    /// A link the record's page shows for sending to someone without an
    /// account (a ticket's survey), when its secret field is set.
    pub share: Option<Share>,
    /// Its page shows the photos taken of it and takes more
    /// (the `photos` module: a repair's condition before and after).
    pub photos: bool,
    /// Records of the entity that may be one (look-alike customers): the
    /// page that lists the pairs, and the commands given there rather
    /// than on one record's page.
    pub pairs: Option<Pairs>,
    /// A field its form proposes from others (a lead's grade).
    pub proposal: Option<Proposal>,
    /// The order its list is worked in (a lead's: A first, then the most
    /// recent contact); `None`: newest first.
    pub order: Option<fn(&Fields, &Fields) -> std::cmp::Ordering>,
    /// A choice shown as a badge at the head of its card and page (a
    /// lead's grade).
    pub badge: Option<&'static str>,
    /// The fields its card shows under the title; empty: its first
    /// choices and long texts.
    pub summary: &'static [&'static str],
    /// Its workflow status as its own rule reads it (a ticket with none
    /// stored is open); `None`: it has no status.
    pub status: Option<fn(&Fields) -> &str>,
}

impl RecordScreen {
    /// The fields its form asks for, in their order (`Place::Form`).
    pub fn form(&self) -> impl Iterator<Item = &'static Field> + Clone {
        self.placed(Place::Form)
    }

    /// The fields its page shows under the form's, set by its commands
    /// (`Place::Fact`).
    pub fn facts(&self) -> impl Iterator<Item = &'static Field> + Clone {
        self.placed(Place::Fact)
    }

    fn placed(&self, place: Place) -> impl Iterator<Item = &'static Field> + Clone {
        self.spec.fields.iter().filter(move |f| f.place == place)
    }
}

/// Look-alike records (`RecordScreen::pairs`).
pub struct Pairs {
    /// The page of the pairs: `{path}` lists them all, `{path}?id=<id>`
    /// one record's.
    pub path: &'static str,
    /// The commands given on a pair (merge, keep apart).
    pub commands: &'static [&'static str],
    /// Whether the user works the pairs (a supervisor). Pure.
    pub works: fn(&crate::roles::CurrentUser) -> bool,
    /// The pairs among the records on the device. Pure.
    pub find: PairsRule,
}

/// The pairs of ids among (id, fields) of records.
pub type PairsRule = fn(&[(uuid::Uuid, &Fields)]) -> Vec<(uuid::Uuid, uuid::Uuid)>;

/// A record's link for someone without an account: `path` followed by the
/// secret in `field`, on this site.
pub struct Share {
    pub field: &'static str,
    pub path: &'static str,
}

/// The rates of the records shown, at a moment, counted in a zone.
pub type RatesRule = fn(&[&Fields], DateTime<Utc>, chrono_tz::Tz) -> Vec<Rate>;

/// How many of the decided cases met a rule: the deadlines met, of those
/// met or missed by now (a clock still running counts in neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate {
    /// What is counted, a word of `i18n` (`deadline_contact`).
    pub kind: &'static str,
    pub met: u32,
    pub decided: u32,
}

impl Rate {
    /// The share met, in whole percent (rounded down); `None` with nothing decided.
    pub fn percent(&self) -> Option<u32> {
        (self.decided > 0).then(|| self.met * 100 / self.decided)
    }

    /// The share as shown: "80%", or "—" with nothing decided.
    pub fn share(&self) -> String {
        self.percent().map_or_else(|| "—".to_owned(), |p| format!("{p}%"))
    }
}

/// The arguments of one command, typed on the record's page.
pub struct CommandArgs {
    pub command: &'static str,
    pub fields: &'static [Field],
    /// Whether the record's page asks for these (a repair's on-site record
    /// on a repair, the returned and replacement items on a return): a
    /// pure rule of the record's fields, `always` for most.
    pub applies: fn(&Fields) -> bool,
}

/// A command offered on the records a pure rule of their fields picks.
pub struct Offer {
    pub command: &'static str,
    pub when: fn(&Fields) -> bool,
}

/// `CommandArgs::applies` of arguments every record of the entity takes.
pub fn always(_: &Fields) -> bool {
    true
}

/// One deadline of a record: what it is, when it runs out, and when it was
/// met (`None` while it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub kind: &'static str,
    pub due_at: DateTime<Utc>,
    pub met_at: Option<DateTime<Utc>>,
}

/// Where a deadline stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineState {
    /// Running, with this much left.
    Running(chrono::Duration),
    /// Ran out this long ago, still not met.
    Overdue(chrono::Duration),
    /// Met in time.
    MetInTime,
    /// Met, but after it ran out.
    MetLate,
}

impl DeadlineState {
    /// Where a deadline stands, in words.
    pub fn words(self, locale: Locale) -> String {
        let zh = locale == Locale::ZhCn;
        match self {
            DeadlineState::Running(left) if zh => format!("剩余 {}", locale.duration(left)),
            DeadlineState::Running(left) => format!("{} left", locale.duration(left)),
            DeadlineState::Overdue(late) if zh => format!("已超时 {}", locale.duration(late)),
            DeadlineState::Overdue(late) => format!("{} overdue", locale.duration(late)),
            DeadlineState::MetInTime if zh => "按时完成".into(),
            DeadlineState::MetInTime => "Met in time".into(),
            DeadlineState::MetLate if zh => "超时完成".into(),
            DeadlineState::MetLate => "Met late".into(),
        }
    }
}

impl Deadline {
    /// A deadline met at its very second is met in time.
    pub fn state(&self, now: DateTime<Utc>) -> DeadlineState {
        match self.met_at {
            Some(met) if met <= self.due_at => DeadlineState::MetInTime,
            Some(_) => DeadlineState::MetLate,
            None if now <= self.due_at => DeadlineState::Running(self.due_at - now),
            None => DeadlineState::Overdue(now - self.due_at),
        }
    }
}

/// Making a record from another one on the device: `?{param}=<id>` on the
/// form's address fills fields from it, links to it, and after saving gives
/// it a command naming the new record (a lead's `convert`).
pub struct Source {
    pub param: &'static str,
    pub spec: &'static EntitySpec,
    /// (field of the source, field of the new record)
    pub copy: &'static [(&'static str, &'static str)],
    /// The new record's field that holds the source's id.
    pub link: &'static str,
    /// The source's command, and the argument that carries the new id.
    pub then: (&'static str, &'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_runs_then_is_overdue_and_a_met_one_says_whether_in_time() {
        let due: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().unwrap();
        let second = chrono::Duration::seconds(1);
        let open = Deadline {
            kind: "contact",
            due_at: due,
            met_at: None,
        };
        assert_eq!(open.state(due - second), DeadlineState::Running(second));
        assert_eq!(open.state(due), DeadlineState::Running(chrono::Duration::zero()));
        assert_eq!(open.state(due + second), DeadlineState::Overdue(second));
        let on_the_second = Deadline {
            met_at: Some(due),
            ..open
        };
        assert_eq!(on_the_second.state(due + second), DeadlineState::MetInTime);
        let late = Deadline {
            met_at: Some(due + second),
            ..open
        };
        assert_eq!(late.state(due), DeadlineState::MetLate);
    }
}
