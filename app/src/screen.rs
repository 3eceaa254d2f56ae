//! What a record's form, list and page show: a `RecordScreen` per
//! aggregate, declared in the aggregate's module and rendered by `records`.
//! Kept apart from `records` so aggregates name their screen without
//! importing the views that render it.

use crate::sync::entity::EntitySpec;

#[derive(Clone, Copy, PartialEq)]
pub enum Input {
    Text,
    Long,
    /// A moment typed in the user's zone; stored in UTC.
    DateTime,
    Date,
    Phone,
    /// Yuan, exact (`validate::Money`).
    Money,
    /// A whole number (days, a count).
    Whole,
    Choice(&'static [&'static str]),
}

pub struct FormField {
    pub name: &'static str,
    pub input: Input,
    pub required: bool,
}

pub const fn field(name: &'static str, input: Input, required: bool) -> FormField {
    FormField {
        name,
        input,
        required,
    }
}

/// One kind of record the phone can enter.
pub struct RecordScreen {
    pub spec: &'static EntitySpec,
    pub fields: &'static [FormField],
    /// The moment shown under it.
    pub when: &'static str,
    pub path: &'static str,
    /// A record this one may be made from (a customer from a lead).
    pub from: Option<Source>,
    /// While its name, phone or credit code is typed, the form shows the
    /// records on the device that may be the same company (查重).
    pub dedup: bool,
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
