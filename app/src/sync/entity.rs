//! What the engine knows of a synced entity: the contract an aggregate
//! fills in to sync. The engine (`sync::store`) is the same for all of them
//! and names none: aggregates declare their `EntitySpec` in their own module
//! and are registered in one list outside the engine (`aggregates::ENTITIES`),
//! which the server hands to every engine call.

use super::Fields;
use crate::error::FieldError;
use crate::i18n::{Locale, Words};
use crate::policy::{Kind, Ownership};
use crate::roles::CurrentUser;
use crate::schema::{Field, Input};
use crate::stored::Reader;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct EntitySpec {
    /// The name on the wire and in storage, e.g. `lead`.
    pub name: &'static str,
    /// What the access policy calls it.
    pub kind: Kind,
    /// What one of its records is called, in lists and on the conflict
    /// screen (线索, 售后工单).
    pub plural: Words,
    /// Every field a mutation may set, workflow fields included: the one
    /// place each is declared (`crate::schema`).
    pub fields: &'static [Field],
    /// The commands `decide` understands.
    pub commands: &'static [&'static str],
    /// The field that names a record in lists (a company, a customer).
    pub title: &'static str,
    /// The rules a stored record passes beyond what its fields declare
    /// (a phone or an email; a grade A threshold above grade B's), read
    /// after the fields with the same reader. Pure.
    pub rules: fn(&Fields, &mut Reader, DateTime<Utc>),
    /// Decides a command against the record as it stands: the fields it
    /// changes, or why it is refused. Pure: the browser runs it for an
    /// immediate answer, the server again inside the push transaction, and
    /// the server's answer stands.
    pub decide: fn(&CommandCall) -> Result<Decided, Refusal>,
    /// The entity's typed table, written in the same transaction as its
    /// record, for lists, cross-record rules and reports that must not
    /// parse JSON per row.
    pub projection: Option<&'static Projection>,
    /// The entity's deadlines, if it has any.
    pub clocks: Option<&'static Clocks>,
    /// Command arguments that name a person (a ticket's technician): the
    /// server loads each named user into the command's `Context` inside
    /// the deciding transaction.
    pub person_args: &'static [&'static str],
    /// Command arguments that name another record (a merge's absorbed
    /// customer); the fields that do say so in their declaration
    /// (`references`). A write that sets one must name a record the writer
    /// may see, checked by the server in the push transaction (a record
    /// made earlier in the same batch counts); anything else is refused as
    /// if it did not exist.
    pub arg_references: &'static [Reference],
    /// Why the record's fields may not be edited as it stands, if they may
    /// not (an application under review, a closed ticket): a reason code
    /// shown in words. Pure: the record's page disables its Edit button
    /// with it, and the server refuses a field patch or a delete with it.
    /// Commands are the rules' own business and are not locked by it.
    pub locked: fn(&Fields) -> Option<&'static str>,
    /// The command that takes a record from its team's public pool (公海),
    /// if the entity has a pool: the one command a reader who may not
    /// edit the record may give (`policy::can_claim`).
    pub claim: Option<&'static str>,
    /// The fields a reader does not receive, in pulls, `sync/records` and
    /// the history alike: a pooled customer's contact phones for the reps
    /// who read it only through the pool (`policy::reads_in_pool`), a
    /// ticket's survey secret for everyone but the service desk. Pure.
    pub hidden: fn(&CurrentUser, Ownership) -> &'static [&'static str],
    /// Writes that count as activity on another record: a visit naming a
    /// customer follows that customer up (its pool clock starts again).
    pub touches: &'static [Touch],
    /// An entity of one record (the company's settings): its id. A create
    /// under another id and a delete are refused; every rule may read the
    /// record (`Singles`), and when it changes the server plans every
    /// running clock again by it.
    pub single: Option<Uuid>,
    /// Workflow fields the engine sets on each create and field edit from
    /// the record as it will be stored, whether it is new, and the
    /// company's settings (a ticket's clock mode and deadlines, fixed by
    /// the settings of the day it was opened). Pure: the server runs it in
    /// the push transaction, and the device receives what it set with the
    /// next pull.
    pub stamp: Option<Stamp>,
    /// The workflow field that marks a record merged into another (a
    /// duplicate customer absorbed by the one kept), if the entity's
    /// records can be merged (`Decided::absorbs`). A merged record is
    /// deleted with the survivor's id in it; a later write that still
    /// names it (a visit made offline before the merge) is pointed at the
    /// survivor by the server.
    pub merged_into: Option<&'static str>,
}

/// `EntitySpec::stamp`: (the record, whether it is new, the settings).
pub type Stamp = fn(&Fields, bool, &Singles) -> Fields;

/// The records of the single entities (the company's settings) as the
/// rules read them, by entity name: loaded by the server in each
/// transaction that decides or plans, kept by the device like any record.
/// An entity whose record does not exist yet is absent, and its rules use
/// their defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Singles(pub std::collections::BTreeMap<&'static str, Fields>);

impl Singles {
    pub fn of(&self, entity: &str) -> Option<&Fields> {
        self.0
            .iter()
            .find(|(name, _)| **name == entity)
            .map(|(_, fields)| fields)
    }
}

/// A reference whose write marks the referenced record: `mark` (an
/// instant, a workflow field of the target) is set to the moment of the
/// write, by the engine, in the same transaction.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    pub field: &'static str,
    pub entity: &'static str,
    pub mark: &'static str,
    /// Whose writes mark it: a rep's visit only a customer the rep may
    /// change (not one they read in the pool), the service desk's
    /// follow-up any customer it reads whole. Pure.
    pub by: fn(&CurrentUser, Kind, Ownership) -> bool,
}

/// A field that holds the id of a record of another entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub entity: &'static str,
}

/// An entity's deadlines (a lead's screening, a ticket's contact and
/// handling). The engine stores the running ones beside the record in the
/// push transaction, and the clock job raises each once when it runs out
/// (`store::raise_due`): computed from stored times, so a restart loses
/// none, and raised under the change counter's lock, so two servers never
/// raise one twice.
pub struct Clocks {
    /// The deadlines still running for the record as stored (none once
    /// met). Pure.
    pub running: fn(&ClockCall) -> Vec<Clock>,
    /// What a clock that ran out does: fields it sets on the record (an
    /// escalated mark) and whom it notifies. Pure.
    pub raise: fn(&DueCall) -> Raised,
}

/// A record as its `clocks` rule sees it.
pub struct ClockCall<'a> {
    pub id: Uuid,
    pub record: &'a Fields,
    /// The zone that working days are counted in (the writer's).
    pub tz: chrono_tz::Tz,
    /// The company's settings (a period's days, the holidays it adds).
    pub singles: &'a Singles,
}

/// One deadline of a record: what it is (`screening`, `contact`) and when it
/// runs out, in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: &'static str,
    pub due_at: DateTime<Utc>,
}

/// A clock that ran out, as its entity's `on_due` sees it.
pub struct DueCall<'a> {
    pub kind: &'a str,
    pub id: Uuid,
    pub record: &'a Fields,
    /// Whose the record is when its clock runs out.
    pub owner: Uuid,
    pub due_at: DateTime<Utc>,
    /// When the clock is raised: at `due_at`, or later after a server was
    /// down.
    pub now: DateTime<Utc>,
}

/// What raising a clock does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Raised {
    /// Fields set on the record (a workflow mark such as `escalated_at`).
    pub changes: Fields,
    /// Who is told.
    pub notify: Vec<Recipient>,
    /// The record returns to its team's public pool (a customer nobody
    /// followed up): the owner's devices receive it as removed.
    pub to_pool: bool,
    /// A field the server fills with a new secret (a survey link's token),
    /// as `Decided::secret` does for a command.
    pub secret: Option<&'static str>,
}

/// Whom a raised clock notifies, resolved against the users when it is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The record's owner.
    Owner,
    /// The supervisors of the owner's team.
    OwnersSupervisor,
    /// Everyone with this role.
    Role(crate::roles::Role),
}

/// How the engine makes a notification record when a clock is raised: the
/// entity notifications are (registered by the application, like the
/// others) and its fields for one recipient.
pub struct Notices {
    pub spec: &'static EntitySpec,
    pub fields: fn(&Notice) -> Fields,
}

/// One notification to one user about a record whose clock ran out.
pub struct Notice<'a> {
    pub entity: &'a str,
    pub record_id: Uuid,
    pub kind: &'a str,
    /// The record's title field, as it stood.
    pub title: &'a str,
    pub due_at: DateTime<Utc>,
    pub raised_at: DateTime<Utc>,
}

/// A typed table of an entity: one row per record, keyed by the record's
/// id, with its owner and whether it is deleted, then `columns`.
pub struct Projection {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// The row's values for `columns`, in order, from the stored fields.
    pub row: fn(&Fields) -> Vec<Projected>,
}

/// One value of a projected row: text (ids, codes, keys, dates as ISO
/// text), or an integer (fen, counts, flags, instants in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projected {
    Text(Option<String>),
    Int(Option<i64>),
}

/// What a command changes: fields, and perhaps the next number of a series
/// for one field (a customer's code), which only the server gives, in its
/// push transaction, gapless and never twice.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decided {
    pub changes: Fields,
    pub number: Option<NumberRequest>,
    /// The person the record moves to (a ticket dispatched to a
    /// technician; later a customer claimed from the pool). They must be
    /// in the command's `Context`; the previous owner's devices receive the
    /// record as removed when it leaves their scope.
    pub owner: Option<Uuid>,
    /// A field the server fills with a fresh random secret (a survey
    /// link's token): only the server makes one, so no device can guess
    /// or choose it.
    pub secret: Option<&'static str>,
    /// Another record of the same entity that this one absorbs (the
    /// duplicate a supervisor merges into the one kept): named by a
    /// command argument, so it is in the `Context`. In the same
    /// transaction the server deletes it, marks it `merged_into` this
    /// one, and points every record that names it (visits, tickets,
    /// follow-ups, leads) at this one.
    pub absorbs: Option<Uuid>,
}

impl Decided {
    pub fn changes(changes: Fields) -> Self {
        Self {
            changes,
            ..Self::default()
        }
    }
}

/// The next number of `series` (a prefix such as `C2026-`), written into
/// `field` as the prefix and the number padded to `width` digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRequest {
    pub field: &'static str,
    pub series: String,
    pub width: usize,
}

impl NumberRequest {
    pub fn format(&self, number: i64) -> String {
        format!("{}{:0width$}", self.series, number, width = self.width)
    }
}

/// A user as a command's rule sees them: who they are, their role and
/// team, and whether they may still sign in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub role: crate::roles::Role,
    pub team_id: Option<Uuid>,
    pub active: bool,
}

/// What a command's rule needs from beyond its record. The server loads it
/// inside the deciding transaction (so it is the truth at that moment);
/// the device builds it from what it holds, and the server's answer stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The people the command's `person_args` name, by id.
    pub people: std::collections::BTreeMap<Uuid, Person>,
    /// How many of each command (by entity and name) the actor has had
    /// accepted since midnight in their zone, this batch's included: a
    /// daily quota's count.
    pub today: std::collections::BTreeMap<(&'static str, &'static str), u32>,
    /// The company's settings (a quota, a reopening window).
    pub singles: Singles,
    /// The records the command's arguments name (`EntitySpec::references`
    /// of its arguments: the duplicate a merge absorbs), each one the
    /// actor may read, by id.
    pub records: std::collections::BTreeMap<Uuid, Other>,
}

/// A record a command's argument names, as its rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    pub fields: Fields,
    pub ownership: Ownership,
}

impl Context {
    /// How many `command`s of `entity` the actor has given today.
    pub fn given_today(&self, entity: &str, command: &str) -> u32 {
        self.today
            .iter()
            .find(|((e, c), _)| *e == entity && *c == command)
            .map_or(0, |(_, n)| *n)
    }

    /// The record an argument names, if it names one the actor may read.
    pub fn record(&self, args: &Fields, arg: &str) -> Option<(Uuid, &Other)> {
        let id = Uuid::parse_str(args.get(arg)?.as_str()?).ok()?;
        self.records.get(&id).map(|other| (id, other))
    }

    /// The person an argument names, if it names one that exists.
    pub fn person(&self, args: &Fields, arg: &str) -> Option<&Person> {
        let id = Uuid::parse_str(args.get(arg)?.as_str()?).ok()?;
        self.people.get(&id)
    }
}

/// A command as the aggregate's `decide` sees it.
pub struct CommandCall<'a> {
    /// The command's name (one of the entity's `commands`).
    pub name: &'a str,
    /// Its arguments, as sent.
    pub args: &'a Fields,
    /// The record's fields as they stand.
    pub record: &'a Fields,
    /// Whose the record is.
    pub ownership: Ownership,
    /// Who gives the command.
    pub actor: &'a CurrentUser,
    pub now: DateTime<Utc>,
    /// What the rule may know of other records and people.
    pub context: &'a Context,
}

pub use crate::error::Refusal;

/// The actor of a command the server applies for whoever holds a link's
/// secret (`store::command_by_link`): no user has this id, so a rule that
/// accepts a link's answer knows it came through the link.
pub const LINK_HOLDER: Uuid = Uuid::nil();

/// The `locked` of an entity whose fields may always be edited (by those
/// the access policy lets write).
pub fn never_locked(_: &Fields) -> Option<&'static str> {
    None
}

/// The `decide` of an entity that has no commands yet.
pub fn no_commands(_: &CommandCall) -> Result<Decided, Refusal> {
    Err(Refusal::Rule("unknown_command"))
}

/// The synced entities, as registered by the application, and how raised
/// clocks notify.
#[derive(Clone, Copy)]
pub struct Entities(pub &'static [&'static EntitySpec], pub &'static Notices);

/// The synced aggregates the application registered in the context of
/// every request and page (the engine names none of them).
pub fn registered() -> Result<Entities, crate::error::AppError> {
    let registered = leptos::prelude::use_context::<Entities>();
    #[cfg(feature = "ssr")]
    if registered.is_none() {
        tracing::error!("the registered entities are missing from the context");
    }
    registered.ok_or(crate::error::AppError::Internal)
}

/// The registered aggregate named `name`, for a view that shows records
/// of any entity (a link, a history, a conflict); `None` for a name this
/// build does not know.
pub fn registered_spec(name: &str) -> Option<&'static EntitySpec> {
    registered().ok()?.spec(name)
}

impl EntitySpec {
    /// Checks a whole record (after merging) as it will be stored: its
    /// declared fields, then its own rules; every problem at once, in the
    /// order its fields are declared (the form's).
    pub fn check(&self, fields: &Fields, now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
        let mut read = Reader::new(fields);
        crate::schema::check(self.fields, &mut read, now);
        (self.rules)(fields, &mut read, now);
        read.finish().map_err(|mut problems| {
            let place = |p: &FieldError| self.fields.iter().position(|f| f.name == p.field);
            problems.sort_by_key(|p| place(p).unwrap_or(usize::MAX));
            problems
        })
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        crate::schema::find(self.fields, name)
    }

    /// The fields (`Input::Reference`, `Input::RecordOf`) and command
    /// arguments (`arg_references`) that name a record of another entity.
    pub fn references(&self) -> impl Iterator<Item = Reference> + '_ {
        let fields = self.fields.iter().filter_map(|f| match f.input {
            Input::Reference(link) => Some(Reference {
                field: f.name,
                entity: link.entity,
            }),
            Input::RecordOf(entity) => Some(Reference {
                field: f.name,
                entity,
            }),
            _ => None,
        });
        fields.chain(self.arg_references.iter().copied())
    }

    /// Whether a mutation may name `name` at all.
    pub fn has_field(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    /// The fields only its commands change (`Field::workflow`).
    pub fn workflow(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.fields.iter().filter(|f| f.workflow).map(|f| f.name)
    }

    /// The fields a list's search box looks in (`Field::searched`).
    pub fn searched(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.fields.iter().filter(|f| f.searched).map(|f| f.name)
    }

    /// The label of the field `name` in `locale`; a name the schema does
    /// not declare (never stored: pushes naming one are refused) shows as
    /// it is.
    pub fn label<'a>(&self, name: &'a str, locale: Locale) -> &'a str {
        self.field(name).map_or(name, |f| locale.say(f.label))
    }
}

/// `EntitySpec::rules` of an entity whose fields say all.
pub fn no_more_rules(_: &Fields, _: &mut Reader, _: DateTime<Utc>) {}

impl Entities {
    pub fn spec(&self, name: &str) -> Option<&'static EntitySpec> {
        self.0.iter().copied().find(|spec| spec.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static EntitySpec> {
        self.0.iter().copied()
    }

    /// The single entities and the id of each one's record.
    pub fn singles(&self) -> impl Iterator<Item = (&'static EntitySpec, Uuid)> {
        self.iter().filter_map(|spec| Some((spec, spec.single?)))
    }
}

/// The UUID v7 timestamp of a record id: when the device made the record
/// (ids are made at entry), `None` for ids of other versions.
pub fn entered_at(id: Uuid) -> Option<DateTime<Utc>> {
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

/// `EntitySpec::hidden` of an entity whose readers see every field.
pub fn nothing_hidden(_: &CurrentUser, _: Ownership) -> &'static [&'static str] {
    &[]
}
