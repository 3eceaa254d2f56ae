//! Reading a record's stored fields for its check: the schema's check of
//! each declared field (`schema::check`) and an aggregate's own rules read
//! the fields as they will be stored (UTC instants in RFC 3339, ISO dates,
//! normalised phones) and report every problem at once.

use crate::error::{FieldError, FieldProblem};
use crate::validate::{Checker, Email, Phone};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// The fields of a record: field name to JSON value.
pub type Fields = serde_json::Map<String, Value>;

/// An instant as it is stored: RFC 3339 in UTC, to the second.
pub fn instant_value(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A stored instant, if the field holds one (a rule reading a record its
/// check has passed; missing or unreadable is `None`).
pub fn stored_instant(fields: &Fields, field: &str) -> Option<DateTime<Utc>> {
    let raw = fields.get(field)?.as_str()?;
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// How a stored signature starts.
pub const SIGNATURE_PREFIX: &str = "data:image/png;base64,";
/// The longest stored signature, in characters (about 150 KB of PNG).
pub const MAX_SIGNATURE: usize = 200_000;

/// A stored text, if the field holds a non-empty one (what a projection's
/// text column keeps).
pub fn stored_text(fields: &Fields, field: &str) -> Option<String> {
    fields
        .get(field)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// Reads the fields of a stored record (or a command's arguments) and
/// gathers every problem.
pub struct Reader<'a> {
    fields: &'a Fields,
    /// Stored fields are held to their stored form: a text is trimmed and
    /// never empty (an empty field is absent or null). What a check lets in
    /// is then exactly what every reader can read: `""` is not a date,
    /// and a length is checked on what is kept. Arguments are typed words,
    /// read leniently (trimmed) by the command that takes them.
    stored: bool,
    pub check: Checker,
}

impl<'a> Reader<'a> {
    /// The fields of a record as they will be stored.
    pub fn new(fields: &'a Fields) -> Self {
        Self {
            fields,
            stored: true,
            check: Checker::default(),
        }
    }

    /// A command's arguments, as a person typed them.
    pub fn args(args: &'a Fields) -> Self {
        Self {
            stored: false,
            ..Self::new(args)
        }
    }

    /// The text of `field` (empty for null or missing), or `None` after
    /// recording that it is not text at all, or (stored) not in its
    /// stored form.
    pub fn text(&mut self, field: &str) -> Option<&'a str> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Some(""),
            Some(Value::String(text)) if self.stored && (text.is_empty() || text.trim() != text) => {
                self.check.fail(field, FieldProblem::Untrimmed);
                None
            }
            Some(Value::String(text)) => Some(text),
            Some(_) => {
                self.check.fail(field, FieldProblem::WrongType);
                None
            }
        }
    }

    /// The stored value of `field`, as it is.
    pub fn value(&self, field: &str) -> Option<&'a Value> {
        self.fields.get(field)
    }

    /// Whether `field` holds a text (rather than a list or nothing).
    pub fn holds_text(&self, field: &str) -> bool {
        self.value(field).is_some_and(Value::is_string)
    }

    pub fn is_empty(&self, field: &str) -> bool {
        match self.fields.get(field) {
            None | Some(Value::Null) => true,
            Some(value) => value.as_str().is_some_and(|text| text.trim().is_empty()),
        }
    }

    pub fn required(&mut self, field: &str, max: usize) {
        if let Some(text) = self.text(field) {
            self.check.required(field, text, max);
        }
    }

    pub fn optional(&mut self, field: &str, max: usize) {
        if let Some(text) = self.text(field) {
            self.check.optional(field, text, max);
        }
    }

    pub fn parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
    ) -> Option<T> {
        let text = self.text(field)?;
        self.check.optional_parsed(field, text, parse)
    }

    /// A required choice among coded values.
    pub fn choice<T>(&mut self, field: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let text = self.text(field)?;
        if text.is_empty() {
            self.check.fail(field, FieldProblem::Required);
            return None;
        }
        let parsed = parse(text);
        if parsed.is_none() {
            self.check.fail(field, FieldProblem::InvalidChoice);
        }
        parsed
    }

    /// A choice that may be absent (never empty text).
    pub fn optional_choice<T>(&mut self, field: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(_) => self.choice(field, parse),
        }
    }

    /// A required instant no later than now (with five minutes of clock skew).
    pub fn past_instant(&mut self, field: &str, now: DateTime<Utc>) {
        match self.instant(field) {
            Some(at) if at > now + chrono::Duration::minutes(5) => {
                self.check.fail(field, FieldProblem::InFuture)
            }
            Some(_) => {}
            None if self.is_empty(field) => self.check.fail(field, FieldProblem::Required),
            None => {}
        }
    }

    pub fn instant(&mut self, field: &str) -> Option<DateTime<Utc>> {
        self.parsed(field, |raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| FieldProblem::InvalidDate)
        })
    }

    pub fn date(&mut self, field: &str) -> Option<NaiveDate> {
        self.parsed(field, |raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| FieldProblem::InvalidDate)
        })
    }

    /// A phone stored in its normal form (`Phone::parse`).
    pub fn phone(&mut self, field: &str) -> Option<()> {
        self.parsed(field, |raw| {
            Phone::parse(raw).and_then(|p| canonical(raw, p.as_str(), FieldProblem::InvalidPhone))
        })
    }

    /// An email stored in its normal form (`Email::parse`).
    pub fn email(&mut self, field: &str) -> Option<()> {
        self.parsed(field, |raw| {
            Email::parse(raw).and_then(|e| canonical(raw, e.as_str(), FieldProblem::InvalidEmail))
        })
    }

    /// An amount stored in its normal form (`Money::to_stored`).
    pub fn money(&mut self, field: &str) -> Option<crate::validate::Money> {
        self.parsed(field, |raw| {
            let money = crate::validate::Money::parse(raw)?;
            canonical(raw, &money.to_stored(), FieldProblem::InvalidMoney).map(|()| money)
        })
    }

    /// A whole number stored as text, within `range`.
    pub fn whole(&mut self, field: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        self.parsed(field, |raw| {
            raw.parse::<i64>()
                .ok()
                .filter(|n| range.contains(n) && raw == n.to_string())
                .ok_or(FieldProblem::InvalidNumber)
        })
    }

    /// The id of another record (a reference) or of a person, if set.
    pub fn id(&mut self, field: &str) -> Option<()> {
        self.parsed(field, |raw| {
            uuid::Uuid::parse_str(raw)
                .map(|_| ())
                .map_err(|_| FieldProblem::InvalidChoice)
        })
    }

    /// A drawn signature: a PNG as a `data:` URL of base64, at most
    /// `MAX_SIGNATURE` characters (a signature pad's strokes compress to a
    /// few kilobytes; a photo smuggled in does not fit).
    pub fn signature(&mut self, field: &str) -> Option<()> {
        self.parsed(field, |raw| {
            let data = raw
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or(FieldProblem::InvalidImage)?;
            let base64 = data.len() % 4 == 0
                && !data.is_empty()
                && data
                    .trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            if raw.len() > MAX_SIGNATURE || !base64 {
                return Err(FieldProblem::InvalidImage);
            }
            Ok(())
        })
    }

    /// A list of lines (a customer's contacts): an array of at most `max`
    /// objects, each read by `line` with a reader of its own; a line's
    /// problems are reported on the list's field, at most one of each.
    /// `flag` (a yes/no field of the lines, such as `primary`) must be
    /// set on exactly one line when there are any.
    pub fn lines(&mut self, field: &str, max: usize, flag: Option<&str>, line: impl Fn(&mut Reader)) {
        let lines = match self.fields.get(field) {
            None | Some(Value::Null) => return,
            Some(Value::Array(lines)) => lines,
            Some(_) => return self.check.fail(field, FieldProblem::WrongType),
        };
        if lines.len() > max {
            return self.check.fail(field, FieldProblem::TooLong { max });
        }
        let mut flagged = 0;
        for value in lines {
            let Value::Object(fields) = value else {
                return self.check.fail(field, FieldProblem::WrongType);
            };
            let mut reader = Reader {
                fields,
                stored: self.stored,
                check: Checker::default(),
            };
            line(&mut reader);
            if let Some(flag) = flag {
                match reader.text(flag) {
                    Some("yes") => flagged += 1,
                    Some("no" | "") => {}
                    Some(_) => reader.check.fail(flag, FieldProblem::InvalidChoice),
                    None => {}
                }
            }
            for error in reader.check.errors {
                let problem = FieldError::new(field, error.problem);
                if !self.check.errors.contains(&problem) {
                    self.check.errors.push(problem);
                }
            }
        }
        if flag.is_some() && !lines.is_empty() && flagged != 1 {
            self.check.fail(field, FieldProblem::OnePrimary);
        }
    }

    /// Whether a problem of `field` is already recorded.
    pub fn has_problem(&self, field: &str) -> bool {
        self.check.errors.iter().any(|e| e.field == field)
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        self.check.finish(())
    }
}

/// Stored values are already normalised: a phone or email stored as typed
/// but not in its normal form is refused rather than silently changed.
fn canonical(raw: &str, normal: &str, problem: FieldProblem) -> Result<(), FieldProblem> {
    if raw == normal {
        Ok(())
    } else {
        Err(problem)
    }
}
