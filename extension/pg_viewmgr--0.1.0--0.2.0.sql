-- pg_viewmgr 0.1.0 -> 0.2.0: the registry records the declaration it last built, field by
-- field, instead of SHA-256 fingerprints of it and a stored canonical form of the
-- registered definition (which was derivable: it is analysed when needed now).
\echo Use "ALTER EXTENSION pg_viewmgr UPDATE TO '0.2.0'" to load this file. \quit

ALTER TABLE viewmgr.managed_view
    ADD COLUMN built_definition  text,
    ADD COLUMN built_search_path text[],
    ADD COLUMN built_index_specs text[],
    ADD COLUMN built_with_data   boolean,
    ADD COLUMN built_comment     text;

-- For every view that was built, the declaration as built is the registered one where the
-- 0.1.0 registry shows it applied. Where it cannot tell, the built field is left so that
-- it differs, and the next sync() applies that part again (harmless: a CREATE OR REPLACE
-- after analysis finds the same query, indexes made again, a comment set again).
UPDATE viewmgr.managed_view m SET
    -- 0.1.0 kept the analysed form of the registration; equal to what was built means the
    -- registered text is what was built. Otherwise NULL: the text is analysed and compared.
    built_definition  = CASE WHEN m.canonical_definition IS NOT DISTINCT FROM m.built_viewdef
                             THEN m.definition END,
    built_search_path = m.search_path,
    -- The declared indexes were applied when the last build made as many.
    built_index_specs = CASE WHEN pg_catalog.cardinality(m.indexes)
                                  = pg_catalog.cardinality(COALESCE(m.built_indexes, '{}'))
                             THEN m.indexes ELSE '{}' END,
    built_with_data   = m.with_data,
    -- A declared comment was applied when the view carries it.
    built_comment     = CASE WHEN m.comment IS NULL
                               OR m.comment IS NOT DISTINCT FROM pg_catalog.obj_description(
                                      pg_catalog.to_regclass(pg_catalog.quote_ident(m.schema_name)
                                          || '.' || pg_catalog.quote_ident(m.relation_name)),
                                      'pg_class')
                             THEN m.comment END
  WHERE m.built_viewdef IS NOT NULL;

ALTER TABLE viewmgr.managed_view
    DROP COLUMN canonical_definition,
    DROP COLUMN built_fingerprint,
    DROP COLUMN built_definition_fingerprint;
