//! The search box and the filters over a list on the device: they look
//! through the records already in the local store, so they work the same
//! online and offline.

use crate::sync::Fields;
use serde_json::Value;
use uuid::Uuid;

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
    pub fn new<'a>(fields: &Fields, searched: impl IntoIterator<Item = &'a str>) -> Self {
        let texts: Vec<String> = searched
            .into_iter()
            .filter_map(|name| fields.get(name).and_then(Value::as_str))
            .map(str::to_lowercase)
            .collect();
        // A newline between fields: a query word has no whitespace, so it
        // never matches across two fields.
        Self(texts.join("\n"))
    }
}

/// What a list of visits or tickets is narrowed to: a value for some of its
/// choice fields, and an owner. Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldFilter {
    chosen: Vec<(&'static str, String)>,
    pub owner: Option<Uuid>,
}

impl FieldFilter {
    /// Keeps only records whose `field` is `value`; an empty value (the
    /// select's "all") lifts the field's filter.
    pub fn choose(&mut self, field: &'static str, value: &str) {
        self.chosen.retain(|(name, _)| *name != field);
        if !value.is_empty() {
            self.chosen.push((field, value.to_owned()));
        }
    }

    pub fn chosen(&self, field: &str) -> Option<&str> {
        self.chosen
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty() && self.owner.is_none()
    }

    pub fn matches(&self, fields: &Fields, owner: Uuid) -> bool {
        self.owner.is_none_or(|wanted| wanted == owner)
            && self
                .chosen
                .iter()
                .all(|(name, value)| fields.get(*name).and_then(Value::as_str) == Some(value.as_str()))
    }
}

/// The owners of a list's records, each once, by name: an owner filter's
/// choices.
pub fn owners<'a>(records: impl IntoIterator<Item = (Uuid, &'a str)>) -> Vec<(Uuid, String)> {
    let mut owners: Vec<(Uuid, String)> = records
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
        .into_iter()
        .map(|(id, name)| (id, name.to_owned()))
        .collect();
    owners.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    owners
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
        Query::new(typed).matches(&SearchText::new(&lead(), searched.iter().copied()))
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

    #[test]
    fn a_field_filter_keeps_records_with_every_chosen_value_and_owner() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let ticket = |channel: &str, kind: &str| {
            json!({"channel": channel, "ticket_type": kind})
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        let tickets = [
            (ticket("hotline", "repair"), me),
            (ticket("hotline", "complaint"), other),
            (ticket("web", "repair"), me),
        ];
        let kept = |filter: &FieldFilter| tickets.iter().filter(|(f, o)| filter.matches(f, *o)).count();
        let mut filter = FieldFilter::default();
        assert!(filter.is_empty());
        assert_eq!(kept(&filter), 3);
        filter.choose("channel", "hotline");
        assert_eq!(kept(&filter), 2);
        assert_eq!(filter.chosen("channel"), Some("hotline"));
        filter.choose("ticket_type", "repair");
        assert_eq!(kept(&filter), 1);
        // Choosing again replaces the value; "all" lifts the field's filter.
        filter.choose("channel", "web");
        assert_eq!(kept(&filter), 1);
        filter.choose("channel", "");
        assert_eq!(filter.chosen("channel"), None);
        assert_eq!(kept(&filter), 2);
        filter.owner = Some(other);
        assert_eq!(kept(&filter), 0);
        filter.choose("ticket_type", "");
        assert_eq!(kept(&filter), 1);
        // A record without the field never matches a chosen value.
        filter = FieldFilter::default();
        filter.choose("urgent", "yes");
        assert_eq!(kept(&filter), 0);
    }

    #[test]
    fn owners_are_listed_once_each_by_name() {
        let (wang, li) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(
            owners([(wang, "王芳"), (li, "李雷"), (wang, "王芳")]),
            vec![(li, "李雷".to_owned()), (wang, "王芳".to_owned())]
        );
        assert!(owners([]).is_empty());
    }
}
