-- A pull reads, for each entity in turn, the changes after its cursor of
-- records the user owns (or owned). With the owner's changes indexed by
-- `(owner_id, seq)`, the lookup for one entity walked past every later change
-- of the user's other entities: a rep with 90,000 new leads read them all
-- again for each other entity the rep may see, on every page (24.8 million
-- index entries over one run of the sync benchmark; docs/benchmarks.md).
-- With the entity in the key, each entity's changes are one range of the
-- index.
CREATE INDEX changes_owner_entity ON changes (owner_id, entity, seq);
DROP INDEX changes_owner;
CREATE INDEX changes_prev_owner_entity ON changes (prev_owner_id, entity, seq) WHERE prev_owner_id IS NOT NULL;
DROP INDEX changes_prev_owner;
