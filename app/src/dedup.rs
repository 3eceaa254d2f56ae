//! 查重: whether two companies are the same, whatever way they were typed.
//! Names compare after full-width characters become half-width, case and
//! spaces and punctuation are dropped, and a trailing company form
//! (有限公司, 有限责任公司, 股份有限公司) is cut; phones compare by their
//! digits without +86; a unified social credit code by its characters.
//! Pure: the phone's store and the server match alike.

use crate::stored::Fields;
use serde_json::Value;

/// Company forms cut from the end of a name, longest first.
const SUFFIXES: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司"];

/// Full-width ASCII (！ to ～, and the ideographic space) as half-width.
fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A company name as compared: `苏州恒达（集团）有限公司` and
/// `苏州恒达(集团)` read the same.
pub fn name_key(name: &str) -> String {
    let mut key: String = name
        .chars()
        .map(half_width)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    while let Some(suffix) = SUFFIXES
        .iter()
        .find(|s| key.ends_with(**s) && key.len() > s.len())
    {
        key.truncate(key.len() - suffix.len());
    }
    key
}

/// A phone number as compared: its digits, without a leading 86 or 0086
/// before a mobile number.
pub fn phone_key(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .map(half_width)
        .filter(char::is_ascii_digit)
        .collect();
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix) {
            if rest.len() == 11 && rest.starts_with('1') {
                return rest.to_owned();
            }
        }
    }
    digits
}

/// A unified social credit code as compared: upper-case, no spaces.
pub fn credit_code_key(code: &str) -> String {
    code.chars()
        .map(half_width)
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What a company is matched by; empty keys match nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub name: String,
    pub phone: String,
    pub credit_code: String,
}

impl Keys {
    pub fn new(name: &str, phone: &str, credit_code: &str) -> Self {
        Self {
            name: name_key(name),
            phone: phone_key(phone),
            credit_code: credit_code_key(credit_code),
        }
    }

    /// The keys of a record's `company`, `phone` and `credit_code` fields.
    pub fn of(fields: &Fields) -> Self {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
        Self::new(text("company"), text("phone"), text("credit_code"))
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.credit_code.is_empty()
    }

    /// Which keys two companies share: a likely duplicate when any does.
    /// A name must be at least two characters to count.
    pub fn shared(&self, other: &Keys) -> Vec<&'static str> {
        let same = |a: &str, b: &str, min: usize| a.chars().count() >= min && a == b;
        let mut shared = Vec::new();
        if same(&self.name, &other.name, 2) {
            shared.push("company");
        }
        if same(&self.phone, &other.phone, 7) {
            shared.push("phone");
        }
        if same(&self.credit_code, &other.credit_code, 18) {
            shared.push("credit_code");
        }
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differing_only_in_full_width_characters_and_a_suffix_match() {
        let typed = Keys::new("苏州ＡＢＣ精密机械（集团）股份有限公司", "", "");
        let stored = Keys::new("苏州abc精密机械(集团)", "", "");
        assert_eq!(typed.shared(&stored), ["company"]);
        assert_eq!(name_key("宁波 远航物流 有限责任公司"), "宁波远航物流");
        // A bare suffix is a name of its own, not an empty one.
        assert_eq!(name_key("公司"), "公司");
        assert!(Keys::new("苏州恒达", "", "")
            .shared(&Keys::new("苏州恒远", "", ""))
            .is_empty());
    }

    #[test]
    fn phones_match_by_digits_and_codes_by_characters() {
        let a = Keys::new("", "+86 138-1234-5678", "91320500 ma1xxxxx0x");
        let b = Keys::new("", "13812345678", "91320500MA1XXXXX0X");
        assert_eq!(a.shared(&b), ["phone", "credit_code"]);
        assert_eq!(phone_key("0086 13812345678"), "13812345678");
        assert_eq!(phone_key("021-6234 5678"), "02162345678");
        // Short fragments never match.
        assert!(Keys::new("", "123", "")
            .shared(&Keys::new("", "123", ""))
            .is_empty());
    }
}
