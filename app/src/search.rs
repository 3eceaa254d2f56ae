//! The search box over a list on the device: it looks through the records
//! already in the local store, so it works the same online and offline.

use crate::sync::Fields;
use serde_json::Value;

/// What the user typed, made ready to match: lower-cased words. Empty when
/// the box is blank, which matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn new(typed: &str) -> Self {
        Self {
            words: typed.split_whitespace().map(str::to_lowercase).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every word appears in the record's searched text (in any of its
    /// fields, not necessarily the same one): "华东 王" finds 王经理 at 华东机械.
    pub fn matches(&self, searched: &SearchText) -> bool {
        self.words.iter().all(|word| searched.0.contains(word.as_str()))
    }
}

/// A record's searched fields, lower-cased and joined, made once per list
/// load so that typing in the box does not re-read every record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn new(fields: &Fields, searched: &[&str]) -> Self {
        let texts: Vec<String> = searched
            .iter()
            .filter_map(|name| fields.get(*name).and_then(Value::as_str))
            .map(str::to_lowercase)
            .collect();
        // A newline between fields: a query word has no whitespace, so it
        // never matches across two fields.
        Self(texts.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lead() -> Fields {
        json!({
            "company": "华东精密机械有限公司",
            "contact_name": "王建国",
            "phone": "13812345678",
            "email": "Wang@HuaDong.cn",
            "grade": "A",
            "notes": null,
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    const SEARCHED: &[&str] = &["company", "contact_name", "phone", "email", "notes"];

    fn found(typed: &str, searched: &[&str]) -> bool {
        Query::new(typed).matches(&SearchText::new(&lead(), searched))
    }

    #[test]
    fn a_blank_box_matches_everything() {
        assert!(found("  ", SEARCHED));
        assert!(Query::new("").is_empty());
    }

    #[test]
    fn words_match_anywhere_in_any_searched_field_ignoring_case() {
        assert!(found("精密", SEARCHED));
        assert!(found("华东 王", SEARCHED));
        assert!(found("1234", SEARCHED));
        assert!(found("wang@huadong", SEARCHED));
    }

    #[test]
    fn every_word_must_match_and_only_searched_fields_count() {
        assert!(!found("华东 李", SEARCHED));
        // The grade is a coded choice, not searched.
        assert!(!found("a", &["company", "phone"]));
        // Words never match across two fields.
        assert!(!found("公司王建国", SEARCHED));
    }
}
