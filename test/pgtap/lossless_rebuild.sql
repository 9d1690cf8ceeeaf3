-- Lossless rebuild (SPEC §4 "Rebuild guarantees"): when a managed view is dropped and
-- recreated, every view that depends on it, managed or not and at any depth, is rebuilt in
-- the same transaction and keeps its owner, privileges (table and column level, grant
-- options included), comments (view and column), view options, and for materialized views
-- their indexes (declared and hand-made, with their names and comments) and their data
-- (repopulated if it was populated, left empty if it was not).
--
-- One test per kept property; each asserts concrete values, so it fails if a rebuild drops
-- that property.
--
-- Tablespaces are not covered: CREATE TABLESPACE cannot run inside a transaction block, and
-- this file runs in one. Every materialized view here lives in the default tablespace.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(41);

SET LOCAL client_min_messages = warning;
SET LOCAL search_path = public;

-- ---------------------------------------------------------------------------------------
-- Roles and helpers

CREATE ROLE lossless_owner;     -- owns views it did not create
CREATE ROLE lossless_reader;    -- holds grants, some of them with grant option
CREATE ROLE lossless_reader2;   -- holds column grants, and a grant given by lossless_reader

CREATE SCHEMA lr;
GRANT USAGE, CREATE ON SCHEMA lr TO lossless_owner;
GRANT USAGE ON SCHEMA lr TO lossless_reader, lossless_reader2;

-- A relation's table privileges, one entry per grantee, privilege and grantor, in a fixed
-- order: grantee=privilege[*]/grantor (* = with grant option). The owner's own MAINTAIN,
-- which PostgreSQL 17 added to an owner's default privileges, is left out so that the
-- expected lists are the same on every version; MAINTAIN granted to others is shown.
CREATE FUNCTION lr.acl(rel regclass) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(e, ',' ORDER BY e COLLATE "C")
    FROM (SELECT format('%s=%s%s/%s',
                        CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             WHEN a.grantee::regrole::text = current_user THEN 'caller'
                             ELSE a.grantee::regrole::text END,
                        a.privilege_type, CASE WHEN a.is_grantable THEN '*' ELSE '' END,
                        CASE WHEN a.grantor::regrole::text = current_user THEN 'caller'
                             ELSE a.grantor::regrole::text END) AS e
            FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.oid = rel
             AND NOT (a.privilege_type = 'MAINTAIN' AND a.grantee = c.relowner
                      AND a.grantor = c.relowner)) s;
$f$;

-- A column's privileges, in the same form.
CREATE FUNCTION lr.column_acl(rel regclass, col text) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(e, ',' ORDER BY e COLLATE "C")
    FROM (SELECT format('%s=%s%s/%s',
                        CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             WHEN a.grantee::regrole::text = current_user THEN 'caller'
                             ELSE a.grantee::regrole::text END,
                        a.privilege_type, CASE WHEN a.is_grantable THEN '*' ELSE '' END,
                        CASE WHEN a.grantor::regrole::text = current_user THEN 'caller'
                             ELSE a.grantor::regrole::text END) AS e
            FROM pg_attribute att, aclexplode(att.attacl) a
           WHERE att.attrelid = rel AND att.attname = col) s;
$f$;

-- The indexes of a relation: name and definition.
CREATE FUNCTION lr.indexes(rel regclass) RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT string_agg(c.relname || ': ' || pg_get_indexdef(i.indexrelid), E'\n' ORDER BY c.relname)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE i.indrelid = rel;
$f$;

-- ---------------------------------------------------------------------------------------
-- A. A managed base view with managed and unmanaged dependents at depths 1 and 2
--
--   lr.t (table)
--    └ b  (managed view)
--       ├ u1      unmanaged view, security_barrier          └ u2  unmanaged view
--       ├ u1_chk  unmanaged updatable view, LOCAL CHECK OPTION
--       ├ u1_inv  unmanaged view, security_invoker
--       ├ um1     unmanaged matview, hand-made index         └ um2 unmanaged matview
--       ├ um1_empty unmanaged matview WITH NO DATA
--       ├ m1      managed view, registered security_barrier  ├ m2  managed view
--       │                                                    └ u2m unmanaged view
--       ├ mm1     managed matview, declared + hand-made index └ mm2 managed matview
--       └ mm1_empty managed matview, with_data => false

CREATE TABLE lr.t (id int PRIMARY KEY, amount numeric, label text);
INSERT INTO lr.t SELECT g, g * 1.5, 'l' || g FROM generate_series(1, 10) g;
GRANT SELECT, INSERT ON lr.t TO lossless_owner;

SELECT is(viewmgr.register('lr.b', 'SELECT id, amount, label FROM lr.t'), 'created',
          'the base view is created');

CREATE VIEW lr.u1 WITH (security_barrier = true) AS SELECT id, amount, label FROM lr.b;
CREATE VIEW lr.u1_chk AS SELECT id, amount, label FROM lr.b WHERE id > 0 WITH LOCAL CHECK OPTION;
CREATE VIEW lr.u1_inv WITH (security_invoker = true) AS SELECT id, label FROM lr.b;
CREATE MATERIALIZED VIEW lr.um1 AS SELECT id, amount, label FROM lr.b;
CREATE MATERIALIZED VIEW lr.um1_empty AS SELECT id, amount FROM lr.b WITH NO DATA;
CREATE VIEW lr.u2 AS SELECT id, label FROM lr.u1 WHERE id < 100;
CREATE MATERIALIZED VIEW lr.um2 AS SELECT id, amount FROM lr.um1 WHERE id > 2;

SELECT results_eq(
  $$SELECT viewmgr.register('lr.m1', 'SELECT id, amount, label FROM lr.b',
                            view_options => ARRAY['security_barrier=true'])
    UNION ALL SELECT viewmgr.register('lr.m2', 'SELECT id, amount FROM lr.m1')
    UNION ALL SELECT viewmgr.register('lr.mm1', 'SELECT id, amount, label FROM lr.b',
                                      materialized => true, indexes => ARRAY['UNIQUE (id)'],
                                      comment => 'registered comment')
    UNION ALL SELECT viewmgr.register('lr.mm1_empty', 'SELECT id, amount FROM lr.b',
                                      materialized => true, with_data => false)
    UNION ALL SELECT viewmgr.register('lr.mm2', 'SELECT id, label FROM lr.mm1 WHERE id > 5',
                                      materialized => true)$$,
  $$VALUES ('created'), ('created'), ('created'), ('created'), ('created')$$,
  'the managed dependents are created');

CREATE VIEW lr.u2m AS SELECT id FROM lr.m1;

-- What people did to them by hand.
-- owners: a role other than the caller
ALTER VIEW lr.b OWNER TO lossless_owner;
ALTER VIEW lr.u1 OWNER TO lossless_owner;
ALTER MATERIALIZED VIEW lr.um1 OWNER TO lossless_owner;
ALTER MATERIALIZED VIEW lr.um2 OWNER TO lossless_owner;
ALTER VIEW lr.m1 OWNER TO lossless_owner;
ALTER MATERIALIZED VIEW lr.mm1 OWNER TO lossless_owner;
ALTER VIEW lr.u2m OWNER TO lossless_owner;
-- table privileges, with and without grant option, and one given on by a grantee
GRANT SELECT ON lr.b TO lossless_reader WITH GRANT OPTION;
GRANT SELECT ON lr.u1 TO lossless_reader WITH GRANT OPTION;
GRANT INSERT ON lr.u1 TO lossless_reader;
GRANT SELECT ON lr.u2 TO PUBLIC;
GRANT SELECT ON lr.um1 TO lossless_reader;
GRANT SELECT ON lr.um2 TO lossless_reader WITH GRANT OPTION;
GRANT SELECT, UPDATE ON lr.m1 TO lossless_reader;
GRANT SELECT ON lr.m2 TO lossless_reader WITH GRANT OPTION;
GRANT SELECT ON lr.mm1 TO lossless_reader;
GRANT SELECT ON lr.mm2 TO lossless_reader2;
SET LOCAL ROLE lossless_reader;
GRANT SELECT ON lr.u1 TO lossless_reader2;
RESET ROLE;
-- column privileges
GRANT SELECT (label), UPDATE (label) ON lr.u1 TO lossless_reader2;
GRANT SELECT (amount) ON lr.um1 TO lossless_reader2 WITH GRANT OPTION;
GRANT SELECT (id) ON lr.m1 TO lossless_reader2;
-- comments
COMMENT ON VIEW lr.b IS 'base view';
COMMENT ON VIEW lr.u1 IS 'u1 comment';
COMMENT ON VIEW lr.u2 IS 'u2 comment';
COMMENT ON MATERIALIZED VIEW lr.um1 IS 'um1 comment';
COMMENT ON MATERIALIZED VIEW lr.um2 IS 'um2 comment';
COMMENT ON VIEW lr.m1 IS 'm1 comment set by hand';
COMMENT ON MATERIALIZED VIEW lr.mm2 IS 'mm2 comment set by hand';
COMMENT ON COLUMN lr.b.label IS 'b.label comment';
COMMENT ON COLUMN lr.u1.label IS 'u1.label comment';
COMMENT ON COLUMN lr.u2.id IS 'u2.id comment';
COMMENT ON COLUMN lr.um1.amount IS 'um1.amount comment';
COMMENT ON COLUMN lr.m2.amount IS 'm2.amount comment';
COMMENT ON COLUMN lr.mm1.label IS 'mm1.label comment';
-- a view option set by hand on a managed view registered without options
ALTER VIEW lr.m2 SET (security_barrier = true);
-- hand-made indexes, with comments
CREATE INDEX um1_label_hand ON lr.um1 (label);
CREATE INDEX um2_amount_hand ON lr.um2 (amount);
CREATE INDEX mm1_label_hand ON lr.mm1 (label);
CREATE UNIQUE INDEX mm2_id_hand ON lr.mm2 (id);
COMMENT ON INDEX lr.um1_label_hand IS 'um1 index comment';
COMMENT ON INDEX lr.mm1_label_hand IS 'mm1 index comment';

-- What existed before the rebuild, by name.
CREATE TEMP TABLE before_rebuild AS
  SELECT c.relname, c.oid
    FROM pg_class c
   WHERE c.relnamespace = 'lr'::regnamespace AND c.relkind IN ('v', 'm');

-- The rebuild: amount numeric -> integer cannot be done by CREATE OR REPLACE VIEW.
SELECT is(viewmgr.register('lr.b', 'SELECT id, amount::int AS amount, label FROM lr.t'),
          'rebuilt', 're-registering the base view with a column type change rebuilds it');

SELECT is(
  (SELECT string_agg(b.relname, ',' ORDER BY b.relname)
     FROM before_rebuild b JOIN pg_class c ON c.relname = b.relname
                          AND c.relnamespace = 'lr'::regnamespace
    WHERE c.oid <> b.oid),
  'b,m1,m2,mm1,mm1_empty,mm2,u1,u1_chk,u1_inv,u2,u2m,um1,um1_empty,um2',
  'every view of the chain was dropped and recreated (new oids)');

SELECT is(
  (SELECT string_agg(relname, ',' ORDER BY relname) FROM before_rebuild
    WHERE to_regclass('lr.' || quote_ident(relname)) IS NULL),
  NULL, 'no dependent is lost: every view that existed before exists after');

SELECT is(format_type(atttypid, atttypmod), 'integer',
          'the new column type reached an unmanaged dependent at depth 2')
  FROM pg_attribute WHERE attrelid = 'lr.um2'::regclass AND attname = 'amount';

-- ---------------------------------------------------------------------------------------
-- Owner

SELECT results_eq(
  $$SELECT relname::text COLLATE "default",
           CASE WHEN relowner::regrole::text = current_user THEN 'caller'
                ELSE relowner::regrole::text END
      FROM pg_class
     WHERE relnamespace = 'lr'::regnamespace AND relkind IN ('v', 'm') ORDER BY relname$$,
  $$VALUES ('b', 'lossless_owner'), ('m1', 'lossless_owner'), ('m2', 'caller'),
           ('mm1', 'lossless_owner'), ('mm1_empty', 'caller'), ('mm2', 'caller'),
           ('u1', 'lossless_owner'), ('u1_chk', 'caller'), ('u1_inv', 'caller'),
           ('u2', 'caller'), ('u2m', 'lossless_owner'), ('um1', 'lossless_owner'),
           ('um1_empty', 'caller'), ('um2', 'lossless_owner')$$,
  'owner: every rebuilt view keeps its owner');

-- ---------------------------------------------------------------------------------------
-- Table privileges

SELECT results_eq(
  $$SELECT v, lr.acl(('lr.' || v)::regclass)
      FROM unnest(ARRAY['b', 'm1', 'm2', 'mm1', 'mm2', 'u2', 'um1']) v ORDER BY v$$,
  $$VALUES
    ('b',   'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader=SELECT*/lossless_owner'),
    ('m1',  'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader=SELECT/lossless_owner,lossless_reader=UPDATE/lossless_owner'),
    ('m2',  'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,lossless_reader=SELECT*/caller'),
    ('mm1', 'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader=SELECT/lossless_owner'),
    ('mm2', 'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,lossless_reader2=SELECT/caller'),
    ('u2',  'PUBLIC=SELECT/caller,caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller'),
    ('um1', 'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader=SELECT/lossless_owner')$$,
  'table privileges: grants to other roles (and PUBLIC) are kept on managed and unmanaged views');

SELECT ok(has_table_privilege('lossless_reader', 'lr.um2', 'SELECT WITH GRANT OPTION')
          AND has_table_privilege('lossless_reader', 'lr.b', 'SELECT WITH GRANT OPTION')
          AND has_table_privilege('lossless_reader', 'lr.m2', 'SELECT WITH GRANT OPTION')
          AND has_table_privilege('lossless_reader', 'lr.u1', 'SELECT WITH GRANT OPTION')
          AND NOT has_table_privilege('lossless_reader', 'lr.u1', 'INSERT WITH GRANT OPTION')
          AND has_table_privilege('lossless_reader', 'lr.u1', 'INSERT'),
          'table privileges: grant options are kept, and not given where there were none');

SELECT is(lr.acl('lr.u1'),
          'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader2=SELECT/lossless_reader,lossless_reader=INSERT/lossless_owner,lossless_reader=SELECT*/lossless_owner',
          'table privileges: a grant given on by a grantee keeps its grantor');

-- ---------------------------------------------------------------------------------------
-- Column privileges

SELECT results_eq(
  $$SELECT lr.column_acl('lr.u1', 'label') UNION ALL
    SELECT lr.column_acl('lr.um1', 'amount') UNION ALL
    SELECT lr.column_acl('lr.m1', 'id')$$,
  $$VALUES ('lossless_reader2=SELECT/lossless_owner,lossless_reader2=UPDATE/lossless_owner'),
           ('lossless_reader2=SELECT*/lossless_owner'),
           ('lossless_reader2=SELECT/lossless_owner')$$,
  'column privileges are kept (grant option included)');

-- ---------------------------------------------------------------------------------------
-- Comments

SELECT results_eq(
  $$SELECT v, obj_description(('lr.' || v)::regclass, 'pg_class') COLLATE "default"
      FROM unnest(ARRAY['b', 'm1', 'mm1', 'mm2', 'u1', 'u2', 'um1', 'um2']) v ORDER BY v$$,
  $$VALUES ('b', 'base view'), ('m1', 'm1 comment set by hand'), ('mm1', 'registered comment'),
           ('mm2', 'mm2 comment set by hand'), ('u1', 'u1 comment'), ('u2', 'u2 comment'),
           ('um1', 'um1 comment'), ('um2', 'um2 comment')$$,
  'view comments are kept (set by hand or registered)');

SELECT results_eq(
  $$SELECT col_description('lr.b'::regclass, 3) UNION ALL
    SELECT col_description('lr.u1'::regclass, 3) UNION ALL
    SELECT col_description('lr.u2'::regclass, 1) UNION ALL
    SELECT col_description('lr.um1'::regclass, 2) UNION ALL
    SELECT col_description('lr.m2'::regclass, 2) UNION ALL
    SELECT col_description('lr.mm1'::regclass, 3)$$,
  $$VALUES ('b.label comment'), ('u1.label comment'), ('u2.id comment'),
           ('um1.amount comment'), ('m2.amount comment'), ('mm1.label comment')$$,
  'column comments are kept');

-- ---------------------------------------------------------------------------------------
-- View options

SELECT results_eq(
  $$SELECT v, (SELECT reloptions COLLATE "default" FROM pg_class WHERE oid = ('lr.' || v)::regclass)
      FROM unnest(ARRAY['m1', 'm2', 'u1']) v ORDER BY v$$,
  $$VALUES ('m1', '{security_barrier=true}'::text[]), ('m2', '{security_barrier=true}'),
           ('u1', '{security_barrier=true}')$$,
  'view options: security_barrier is kept (registered, or set by hand)');

SELECT is((SELECT reloptions COLLATE "default" FROM pg_class WHERE oid = 'lr.u1_chk'::regclass),
          '{check_option=local}'::text[], 'view options: check_option is kept');

SELECT is((SELECT reloptions COLLATE "default" FROM pg_class WHERE oid = 'lr.u1_inv'::regclass),
          '{security_invoker=true}'::text[], 'view options: security_invoker is kept');

-- ---------------------------------------------------------------------------------------
-- Materialized views: indexes, data

SELECT is(lr.indexes('lr.mm1'),
          E'mm1_id_idx: CREATE UNIQUE INDEX mm1_id_idx ON lr.mm1 USING btree (id)\n'
          'mm1_label_hand: CREATE INDEX mm1_label_hand ON lr.mm1 USING btree (label)',
          'indexes: a managed materialized view keeps its declared and hand-made indexes');

SELECT results_eq(
  $$SELECT lr.indexes('lr.um1') UNION ALL SELECT lr.indexes('lr.um2') UNION ALL
    SELECT lr.indexes('lr.mm2')$$,
  $$VALUES ('um1_label_hand: CREATE INDEX um1_label_hand ON lr.um1 USING btree (label)'),
           ('um2_amount_hand: CREATE INDEX um2_amount_hand ON lr.um2 USING btree (amount)'),
           ('mm2_id_hand: CREATE UNIQUE INDEX mm2_id_hand ON lr.mm2 USING btree (id)')$$,
  'indexes: hand-made indexes are kept with their names, at depth 1 and 2');

SELECT results_eq(
  $$SELECT obj_description('lr.um1_label_hand'::regclass, 'pg_class') COLLATE "default" UNION ALL
    SELECT obj_description('lr.mm1_label_hand'::regclass, 'pg_class') COLLATE "default"$$,
  $$VALUES ('um1 index comment'), ('mm1 index comment')$$,
  'indexes: index comments are kept');

SELECT is(
  (SELECT viewmgr.managed_view.built_indexes FROM viewmgr.managed_view
    WHERE schema_name = 'lr' AND relation_name = 'mm1'),
  ARRAY['CREATE UNIQUE INDEX mm1_id_idx ON lr.mm1 USING btree (id)'],
  'indexes: the registry records the declared index of the rebuilt view (not the hand-made one)');

SELECT results_eq(
  $$SELECT v, c.relispopulated FROM unnest(ARRAY['mm1', 'mm2', 'um1', 'um2']) v
      JOIN pg_class c ON c.oid = ('lr.' || v)::regclass ORDER BY v$$,
  $$VALUES ('mm1', true), ('mm2', true), ('um1', true), ('um2', true)$$,
  'data: populated materialized views are populated again');

SELECT results_eq(
  $$SELECT (SELECT count(*) FROM lr.mm1) UNION ALL SELECT (SELECT count(*) FROM lr.mm2)
    UNION ALL SELECT (SELECT count(*) FROM lr.um1) UNION ALL SELECT (SELECT count(*) FROM lr.um2)$$,
  $$VALUES (10::bigint), (5::bigint), (10::bigint), (8::bigint)$$,
  'data: the repopulated materialized views hold every row');

SELECT results_eq(
  $$SELECT v, c.relispopulated FROM unnest(ARRAY['mm1_empty', 'um1_empty']) v
      JOIN pg_class c ON c.oid = ('lr.' || v)::regclass ORDER BY v$$,
  $$VALUES ('mm1_empty', false), ('um1_empty', false)$$,
  'data: unpopulated materialized views stay unpopulated');

SELECT is((SELECT reltablespace FROM pg_class WHERE oid = 'lr.um1'::regclass), 0::oid,
          'tablespace: the default tablespace stays the default');

-- ---------------------------------------------------------------------------------------
-- Depth 2 and the registry afterwards

SELECT results_eq(
  $$SELECT (SELECT count(*) FROM lr.u2) UNION ALL SELECT (SELECT count(*) FROM lr.u2m)$$,
  $$VALUES (10::bigint), (10::bigint)$$,
  'unmanaged dependents at depth 2 exist and read the rebuilt chain');

SELECT results_eq(
  $$SELECT view_name, action FROM viewmgr.sync() ORDER BY view_name$$,
  $$VALUES ('lr.b', 'unchanged'), ('lr.m1', 'unchanged'), ('lr.m2', 'unchanged'),
           ('lr.mm1', 'unchanged'), ('lr.mm1_empty', 'unchanged'), ('lr.mm2', 'unchanged')$$,
  'sync() after the rebuild reports every managed view unchanged');

SELECT is((SELECT count(*) FROM viewmgr.drift()), 0::bigint,
          'drift() after the rebuild reports nothing');

-- ---------------------------------------------------------------------------------------
-- B. A managed materialized view whose definition changes while its sources do not: it is
-- rebuilt side by side, and keeps the same properties.

CREATE TABLE lr.s (id int PRIMARY KEY, label text);
INSERT INTO lr.s SELECT g, 's' || g FROM generate_series(1, 10) g;
GRANT SELECT ON lr.s TO lossless_owner;

SELECT is(viewmgr.register('lr.sbs', 'SELECT id, label FROM lr.s', materialized => true,
                           indexes => ARRAY['UNIQUE (id)']),
          'created', 'side by side: the materialized view is created');
CREATE VIEW lr.sbs_reader AS SELECT id FROM lr.sbs;
CREATE INDEX sbs_label_hand ON lr.sbs (label);
COMMENT ON INDEX lr.sbs_label_hand IS 'sbs index comment';
COMMENT ON MATERIALIZED VIEW lr.sbs IS 'sbs comment';
COMMENT ON COLUMN lr.sbs.label IS 'sbs.label comment';
GRANT SELECT ON lr.sbs TO lossless_reader WITH GRANT OPTION;
GRANT SELECT (label) ON lr.sbs TO lossless_reader2;
ALTER MATERIALIZED VIEW lr.sbs OWNER TO lossless_owner;
GRANT SELECT ON lr.sbs_reader TO lossless_reader;

CREATE TEMP TABLE sbs_before AS SELECT 'lr.sbs'::regclass::oid AS oid;

SELECT is(viewmgr.register('lr.sbs', 'SELECT id, label FROM lr.s WHERE id > 2',
                           materialized => true, indexes => ARRAY['UNIQUE (id)']),
          'rebuilt', 'side by side: a definition change rebuilds the materialized view');

SELECT isnt('lr.sbs'::regclass::oid, (SELECT oid FROM sbs_before),
            'side by side: it is a new relation');

SELECT is(lr.indexes('lr.sbs'),
          E'sbs_id_idx: CREATE UNIQUE INDEX sbs_id_idx ON lr.sbs USING btree (id)\n'
          'sbs_label_hand: CREATE INDEX sbs_label_hand ON lr.sbs USING btree (label)',
          'side by side: declared and hand-made indexes are kept with their names');

SELECT is(obj_description('lr.sbs_label_hand'::regclass, 'pg_class'), 'sbs index comment',
          'side by side: the hand-made index keeps its comment');

SELECT is(lr.acl('lr.sbs'),
          'lossless_owner=DELETE/lossless_owner,lossless_owner=INSERT/lossless_owner,lossless_owner=REFERENCES/lossless_owner,lossless_owner=SELECT/lossless_owner,lossless_owner=TRIGGER/lossless_owner,lossless_owner=TRUNCATE/lossless_owner,lossless_owner=UPDATE/lossless_owner,lossless_reader=SELECT*/lossless_owner',
          'side by side: table privileges (and the grant option) are kept');

SELECT is(lr.column_acl('lr.sbs', 'label'), 'lossless_reader2=SELECT/lossless_owner',
          'side by side: column privileges are kept');

SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = 'lr.sbs'::regclass),
          'lossless_owner', 'side by side: the owner is kept');

SELECT results_eq(
  $$SELECT obj_description('lr.sbs'::regclass, 'pg_class') COLLATE "default" UNION ALL
    SELECT col_description('lr.sbs'::regclass, 2)$$,
  $$VALUES ('sbs comment'), ('sbs.label comment')$$,
  'side by side: view and column comments are kept');

SELECT is((SELECT count(*) FROM lr.sbs), 8::bigint,
          'side by side: the new materialized view holds the new data');

SELECT is(lr.acl('lr.sbs_reader'),
          'caller=DELETE/caller,caller=INSERT/caller,caller=REFERENCES/caller,caller=SELECT/caller,caller=TRIGGER/caller,caller=TRUNCATE/caller,caller=UPDATE/caller,lossless_reader=SELECT/caller',
          'side by side: the unmanaged dependent is back with its grants');

SELECT is(
  (SELECT string_agg(relname, ',') FROM pg_class WHERE relname LIKE 'pg\_viewmgr\_new%'),
  NULL, 'side by side: no temporary relation (pg_viewmgr_new%) is left behind');

SELECT results_eq(
  $$SELECT action FROM viewmgr.sync() WHERE view_name = 'lr.sbs'$$,
  $$VALUES ('unchanged')$$,
  'side by side: sync() afterwards reports it unchanged');

-- ---------------------------------------------------------------------------------------
-- Last, because it would change data if it failed: the check option still refuses rows
-- its view cannot see.

SELECT throws_ok($$INSERT INTO lr.u1_chk (id, label) VALUES (-1, 'outside')$$, '44000', NULL,
                 'view options: the kept check option is enforced');

SELECT * FROM finish();
ROLLBACK;
