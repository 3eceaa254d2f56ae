//! The one list of synced aggregates. The sync engine names none of them:
//! the server hands it this list, and each aggregate's module declares its
//! own `EntitySpec` (fields, workflow fields, check, commands).

use crate::sync::entity::Entities;

pub const ENTITIES: Entities = Entities(
    &[
        &crate::leads::record::LEAD,
        &crate::visits::VISIT,
        &crate::tickets::TICKET,
        &crate::customers::CUSTOMER,
        &crate::follow_ups::FOLLOW_UP,
        &crate::notifications::NOTIFICATION,
        &crate::settings::SETTINGS,
    ],
    &crate::notifications::NOTICES,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_declares_distinct_fields_with_words_in_both_languages() {
        for spec in ENTITIES.iter() {
            let mut names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), spec.fields.len(), "{}", spec.name);
            for field in spec.fields {
                assert!(
                    !field.label.zh.is_empty() && !field.label.en.is_empty(),
                    "{}.{}",
                    spec.name,
                    field.name
                );
            }
            assert!(spec.has_field(spec.title), "{}.{}", spec.name, spec.title);
            assert!(!spec.plural.zh.is_empty() && !spec.plural.en.is_empty());
        }
        // Every entity a notification may be about opens somewhere.
        for spec in ENTITIES.iter().filter(|s| s.clocks.is_some()) {
            assert!(
                crate::records::record_page(spec.name, uuid::Uuid::nil()).is_some(),
                "{}",
                spec.name
            );
        }
        // A merge points every record naming the absorbed one at the one
        // kept, found through the naming entity's projection.
        for target in ENTITIES.iter().filter(|s| s.merged_into.is_some()) {
            for spec in ENTITIES.iter() {
                for reference in spec
                    .references()
                    .filter(|r| r.entity == target.name && spec.has_field(r.field))
                {
                    assert!(
                        spec.projection
                            .is_some_and(|p| p.columns.contains(&reference.field)),
                        "{}.{} names {} records, which merge, but is not projected",
                        spec.name,
                        reference.field,
                        target.name
                    );
                }
            }
            let merged = target.merged_into.unwrap_or_default();
            assert!(target.field(merged).is_some_and(|f| f.workflow));
        }
        let mut names: Vec<&str> = ENTITIES.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), ENTITIES.0.len());
    }

    #[test]
    fn every_field_a_screen_names_is_declared_by_its_entity() {
        for screen in crate::records::ALL_SCREENS {
            let spec = screen.spec;
            let named = [screen.when, screen.proposal.as_ref().map_or("", |p| p.field)]
                .into_iter()
                .chain(screen.badge)
                .chain(screen.summary.iter().copied())
                .chain(screen.share.as_ref().map(|s| s.field))
                .filter(|name| !name.is_empty());
            for name in named {
                assert!(spec.has_field(name), "{}.{name}", spec.name);
            }
            if let Some(source) = &screen.from {
                for (from, to) in source.copy {
                    assert!(source.spec.has_field(from) && spec.has_field(to), "{from} → {to}");
                }
                assert!(spec.has_field(source.link), "{}", source.link);
            }
            for field in spec.fields {
                if let crate::schema::Input::Reference(link) = field.input {
                    let target = ENTITIES.spec(link.entity);
                    assert!(
                        target.is_some(),
                        "{}.{} links to {}",
                        spec.name,
                        field.name,
                        link.entity
                    );
                    for (from, to) in link.copy {
                        assert!(
                            target.is_some_and(|t| t.has_field(from)) && spec.has_field(to),
                            "{from} → {to}"
                        );
                    }
                }
            }
        }
    }

    /// Commands and coded choices are said in words from `i18n`'s table:
    /// every one an entity declares has them in both languages.
    #[test]
    fn every_command_and_choice_has_words_in_both_languages() {
        use crate::i18n::Locale;
        use crate::schema::{Field, Input};
        fn choices(fields: &'static [Field], out: &mut Vec<(&'static str, &'static str)>) {
            for field in fields {
                match field.input {
                    Input::Choice(values) | Input::TextOr(values) => {
                        out.extend(values.iter().map(|v| (field.name, *v)))
                    }
                    Input::Lines(lines) => choices(lines.fields, out),
                    _ => {}
                }
            }
        }
        let mut missing = Vec::new();
        for screen in crate::records::ALL_SCREENS {
            let mut coded = Vec::new();
            choices(screen.spec.fields, &mut coded);
            for args in screen.args {
                choices(args.fields, &mut coded);
            }
            for locale in [Locale::ZhCn, Locale::En] {
                for command in screen.spec.commands {
                    if locale.word(command).is_empty() {
                        missing.push(format!("{}: command {command} {locale:?}", screen.spec.name));
                    }
                }
                for (field, value) in &coded {
                    if locale.choice(field, value).is_none_or(str::is_empty) {
                        missing.push(format!("{}.{field} = {value} {locale:?}", screen.spec.name));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
