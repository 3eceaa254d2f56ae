//! Validated newtypes for what users type. Pure, shared by browser and server.

use crate::error::{FieldError, FieldProblem};
use serde::{Deserialize, Serialize};

/// The largest photo accepted, in bytes, after the phone's resize (a
/// 1600-pixel JPEG is a few hundred kilobytes): checked on the device and
/// again by the server when an upload is declared.
pub const MAX_PHOTO: u64 = 2_000_000;

/// A Chinese phone number: an 11-digit mobile (`13812345678`), a landline with
/// area code (`021-62345678`, `0755 8888 6666`, optional extension `-123`), or
/// a 400/800 service number. An optional `+86` prefix is accepted and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        let trimmed = raw.trim();
        let national = trimmed
            .strip_prefix("+86")
            .or_else(|| trimmed.strip_prefix("0086"))
            .unwrap_or(trimmed)
            .trim_start();
        if national.is_empty()
            || !national
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
        {
            return Err(FieldProblem::InvalidPhone);
        }
        let (main, extension) = match national.rsplit_once('-') {
            // `-123` at the end of a landline is an extension (1 to 6 digits).
            Some((main, ext))
                if national.starts_with('0') && (1..=6).contains(&ext.len()) && main.len() > 9 =>
            {
                (main, Some(ext))
            }
            _ => (national, None),
        };
        let digits: String = main.chars().filter(char::is_ascii_digit).collect();
        let valid = match digits.as_bytes() {
            [b'1', second, ..] => digits.len() == 11 && (b'3'..=b'9').contains(second),
            [b'0', ..] => (10..=12).contains(&digits.len()),
            [b'4', b'0', b'0', ..] | [b'8', b'0', b'0', ..] => digits.len() == 10,
            _ => false,
        };
        if !valid {
            return Err(FieldProblem::InvalidPhone);
        }
        // Mobiles are stored as bare digits so the same number always
        // compares equal; landlines keep the area-code separator as typed.
        let main = if digits.starts_with('1') {
            digits.as_str()
        } else {
            main.trim()
        };
        Ok(Self(match extension {
            Some(ext) => format!("{main}-{ext}"),
            None => main.to_owned(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        let email = raw.trim();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Self(email.to_lowercase()))
        } else {
            Err(FieldProblem::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An exact amount of CNY (元), never a float: held as integer fen (分),
/// stored as a decimal with two places (`"12345.60"`). Typed with or
/// without thousands separators or a `¥`; at most two decimal places, not
/// negative, under ten trillion yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(i64);

impl Money {
    /// Ten trillion yuan, in fen: beyond any order, well inside `i64`.
    pub const MAX_FEN: i64 = 1_000_000_000_000_000;

    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        let cleaned: String = raw
            .trim()
            .trim_start_matches(['¥', '￥'])
            .chars()
            .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
            .collect();
        if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(FieldProblem::InvalidMoney);
        }
        let amount: rust_decimal::Decimal = cleaned.parse().map_err(|_| FieldProblem::InvalidMoney)?;
        if amount.scale() > 2 {
            return Err(FieldProblem::InvalidMoney);
        }
        let fen = (amount * rust_decimal::Decimal::ONE_HUNDRED)
            .trunc()
            .to_string()
            .parse::<i64>()
            .map_err(|_| FieldProblem::InvalidMoney)?;
        if !(0..Self::MAX_FEN).contains(&fen) {
            return Err(FieldProblem::InvalidMoney);
        }
        Ok(Self(fen))
    }

    pub fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// The stored form: yuan with exactly two decimals.
    pub fn to_stored(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Collects field errors while a form is checked field by field.
#[derive(Default, Debug)]
pub struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn fail(&mut self, field: &str, problem: FieldProblem) {
        self.errors.push(FieldError::new(field, problem));
    }

    /// A required text, trimmed, at most `max` characters (not bytes).
    pub fn required<'s>(&mut self, field: &str, raw: &'s str, max: usize) -> &'s str {
        let text = raw.trim();
        if text.is_empty() {
            self.fail(field, FieldProblem::Required);
        } else if text.chars().count() > max {
            self.fail(field, FieldProblem::TooLong { max });
        }
        text
    }

    /// An optional text: empty becomes `None`.
    pub fn optional<'s>(&mut self, field: &str, raw: &'s str, max: usize) -> Option<&'s str> {
        let text = raw.trim();
        if text.chars().count() > max {
            self.fail(field, FieldProblem::TooLong { max });
        }
        (!text.is_empty()).then_some(text)
    }

    /// An optional value parsed by `parse`; empty becomes `None`.
    pub fn optional_parsed<T>(
        &mut self,
        field: &str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
    ) -> Option<T> {
        if raw.trim().is_empty() {
            return None;
        }
        match parse(raw) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.fail(field, problem);
                None
            }
        }
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// A `datetime-local` value (`2026-11-24T09:30`, seconds optional) in `tz`.
pub fn parse_local_time(raw: &str, tz: chrono_tz::Tz) -> Result<chrono::DateTime<chrono::Utc>, FieldProblem> {
    use chrono::TimeZone;
    let raw = raw.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldProblem::InvalidDate)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|local| local.with_timezone(&chrono::Utc))
        .ok_or(FieldProblem::InvalidDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_fen_with_two_places_at_most() {
        assert_eq!(Money::parse("12,345.6").map(Money::fen), Ok(1_234_560));
        assert_eq!(Money::parse("¥ 0.01").map(Money::fen), Ok(1));
        assert_eq!(
            Money::parse("5000000").map(Money::to_stored),
            Ok("5000000.00".into())
        );
        // 0.1 + 0.2 is exactly 0.30 here.
        let sum = Money::parse("0.1").unwrap().fen() + Money::parse("0.2").unwrap().fen();
        assert_eq!(Money::from_fen(sum).to_stored(), "0.30");
        for bad in ["", "-5", "1.005", "12a", "1e5", "10000000000000"] {
            assert_eq!(Money::parse(bad), Err(FieldProblem::InvalidMoney), "{bad}");
        }
    }

    #[test]
    fn mobiles_landlines_and_service_numbers_are_phones() {
        for ok in [
            "13812345678",
            "+86 138 1234 5678",
            "021-62345678",
            "0755 8888 6666",
            "010-12345678-123",
            "400-820-8820",
        ] {
            assert!(Phone::parse(ok).is_ok(), "{ok} should be a phone");
        }
    }

    #[test]
    fn mobiles_are_stored_as_bare_digits() {
        assert_eq!(Phone::parse("+86 138 1234 5678").unwrap().as_str(), "13812345678");
        assert_eq!(Phone::parse("021-62345678").unwrap().as_str(), "021-62345678");
    }

    #[test]
    fn short_foreign_or_lettered_numbers_are_not_phones() {
        for bad in [
            "1381234567",
            "12812345678",
            "12345",
            "abc",
            "",
            "138-1234-567x",
            "021-123",
        ] {
            assert_eq!(Phone::parse(bad), Err(FieldProblem::InvalidPhone), "{bad}");
        }
    }

    #[test]
    fn emails_need_one_at_and_a_dotted_domain() {
        assert_eq!(
            Email::parse(" Li.Ming@Example.COM ").unwrap().as_str(),
            "li.ming@example.com"
        );
        for bad in ["li", "li@", "@x.cn", "li@cn", "li@@x.cn", "li @x.cn", "li@x..cn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checker_counts_characters_not_bytes() {
        let mut check = Checker::default();
        assert_eq!(check.required("company", "  苏州恒达  ", 4), "苏州恒达");
        assert!(check.errors.is_empty());
        check.required("company", "苏州恒达机械", 4);
        assert_eq!(check.errors[0].problem, FieldProblem::TooLong { max: 4 });
    }
}
