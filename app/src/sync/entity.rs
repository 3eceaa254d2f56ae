//! What the engine knows of a synced entity: the contract an aggregate
//! fills in to sync. The engine (`sync::store`) is the same for all of them
//! and names none: aggregates declare their `EntitySpec` in their own module
//! and are registered in one list outside the engine (`crate::aggregates`),
//! which the server hands to every engine call.

use super::Fields;
use crate::error::{AppError, FieldError};
use crate::policy::{Kind, Ownership};
use crate::roles::CurrentUser;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct EntitySpec {
    /// The name on the wire and in storage, e.g. `lead`.
    pub name: &'static str,
    /// What the access policy calls it.
    pub kind: Kind,
    /// Every field a mutation may set, workflow fields included.
    pub fields: &'static [&'static str],
    /// Workflow fields (status, stage, code, approval state): only the
    /// entity's commands change them. A field patch that names one is
    /// refused, a create that sets one too.
    pub workflow: &'static [&'static str],
    /// The commands `decide` understands.
    pub commands: &'static [&'static str],
    /// The field that names a record in lists (a company, a customer).
    pub title: &'static str,
    /// The free-text fields a list's search box looks in (names, phones,
    /// notes; not coded choices, whose stored words the user never sees).
    pub searched: &'static [&'static str],
    /// Checks a whole record (after merging) as it will be stored.
    pub check: fn(&Fields, DateTime<Utc>) -> Result<(), Vec<FieldError>>,
    /// Decides a command against the record as it stands: the fields it
    /// changes, or why it is refused. Pure: the browser runs it for an
    /// immediate answer, the server again inside the push transaction, and
    /// the server's answer stands.
    pub decide: fn(&CommandCall) -> Result<Decided, Refusal>,
    /// The entity's typed table, written in the same transaction as its
    /// record, for lists, cross-record rules and reports that must not
    /// parse JSON per row.
    pub projection: Option<&'static Projection>,
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
}

impl Decided {
    pub fn changes(changes: Fields) -> Self {
        Self {
            changes,
            number: None,
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
}

/// Why a command was refused: a stable code (shown to the user in words by
/// `i18n`), or field problems of its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A rule of the process says no, e.g. `already_closed`.
    Rule(&'static str),
    /// The arguments break their field rules.
    Invalid(Vec<FieldError>),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Rule(code) => AppError::Refused {
                code: code.to_owned(),
            },
            Refusal::Invalid(fields) => AppError::invalid(fields),
        }
    }
}

/// The `decide` of an entity that has no commands yet.
pub fn no_commands(_: &CommandCall) -> Result<Decided, Refusal> {
    Err(Refusal::Rule("unknown_command"))
}

/// The synced entities, as registered by the application.
#[derive(Clone, Copy)]
pub struct Entities(pub &'static [&'static EntitySpec]);

impl Entities {
    pub fn spec(&self, name: &str) -> Option<&'static EntitySpec> {
        self.0.iter().copied().find(|spec| spec.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static EntitySpec> {
        self.0.iter().copied()
    }
}

/// The UUID v7 timestamp of a record id: when the device made the record
/// (ids are made at entry), `None` for ids of other versions.
pub fn entered_at(id: Uuid) -> Option<DateTime<Utc>> {
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}
