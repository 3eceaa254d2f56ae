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
    fn every_entity_declares_distinct_fields_and_its_workflow_among_them() {
        for spec in ENTITIES.iter() {
            let mut names = spec.fields.to_vec();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), spec.fields.len(), "{}", spec.name);
            for field in spec.workflow {
                assert!(spec.fields.contains(field), "{}.{field}", spec.name);
            }
            for searched in spec.searched {
                assert!(spec.fields.contains(searched), "{}.{searched}", spec.name);
            }
        }
        // Every entity a notification may be about opens somewhere.
        for spec in ENTITIES.iter().filter(|s| s.clocks.is_some()) {
            assert!(
                crate::records::record_page(spec.name, uuid::Uuid::nil()).is_some(),
                "{}",
                spec.name
            );
        }
        // Every field a person may read (on a page, in a history, on the
        // conflict screen) has a label in both languages.
        let mut unlabelled = Vec::new();
        for spec in ENTITIES
            .iter()
            .filter(|s| s.name != crate::notifications::NOTIFICATION.name)
        {
            for field in spec.fields {
                for locale in [crate::i18n::Locale::ZhCn, crate::i18n::Locale::En] {
                    if locale.field_label(field).is_empty() {
                        unlabelled.push(format!("{}.{field} {locale:?}", spec.name));
                    }
                }
            }
        }
        assert!(unlabelled.is_empty(), "{unlabelled:?}");
        // A merge points every record naming the absorbed one at the one
        // kept, found through the naming entity's projection.
        for target in ENTITIES.iter().filter(|s| s.merged_into.is_some()) {
            for spec in ENTITIES.iter() {
                for reference in spec
                    .references
                    .iter()
                    .filter(|r| r.entity == target.name && spec.fields.contains(&r.field))
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
            assert!(target.workflow.contains(&target.merged_into.unwrap_or_default()));
        }
        let mut names: Vec<&str> = ENTITIES.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), ENTITIES.0.len());
    }
}
