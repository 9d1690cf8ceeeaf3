-- The ownership and privilege matrix (issue 10): every caller × owner × object × operation,
-- each cell run from the same fixture in a subtransaction that is rolled back afterwards.
--
--   caller     superuser; the owner itself; a member of the owning role; a member of it that
--              has CREATE on the schema itself; an unrelated role with CREATE on the schema;
--              an unrelated role without it
--   owner      a role with CREATE on schema mx; a role without it (CREATE revoked after it
--              registered, as on PostgreSQL 15's public schema or after a hand-over)
--   object     a managed view; a managed materialized view (with an index and a grant); a
--              managed view with unmanaged dependents (a view and an indexed materialized
--              view, granted to a reader), all three owned by the owner
--   operation  register (a change done in place: CREATE OR REPLACE, or an index declared),
--              rebuild (register of a change that needs drop and recreate), sync (of such a
--              change registered with apply => false), sync_missing (the view was dropped by
--              hand), run_with_dependents (ALTER COLUMN TYPE of the table read), refresh,
--              refresh_all, unregister, adopt, purge_history
--
-- Each cell asserts its outcome: the result, or the exact SQLSTATE and message. A success
-- then asserts the resulting state (owner as recorded by PostgreSQL and by the registry,
-- columns, rows and who computed them, indexes, grants); a refusal, and an operation that
-- must leave everything alone (refresh_all skipping 'not owner'), assert that nothing changed
-- (registry rows, relations with their oids, row versions, definitions, ACLs, indexes, the
-- history). The rules the expectations encode are README's Safety section.
--
-- Collapsed cells (they make no sense as a full product):
--   purge_history × object: history is per owner, not per object: one cell per caller × owner,
--     over a view of each owner;
--   sync_missing × unmanaged dependents: a managed view cannot be dropped by hand under its
--     dependents without dropping them too;
--   refresh × managed view and × unmanaged dependents: one refusal each (not a materialized
--     view; not managed), the same for every caller.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;

SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------------------
-- Roles and schemas

CREATE ROLE mx_su SUPERUSER NOLOGIN;
CREATE ROLE mx_own_c NOLOGIN;        -- an owner with CREATE on mx
CREATE ROLE mx_own_n NOLOGIN;        -- an owner without it
CREATE ROLE mx_mem_c NOLOGIN IN ROLE mx_own_c;
CREATE ROLE mx_mem_n NOLOGIN IN ROLE mx_own_n;
CREATE ROLE mx_memcr_c NOLOGIN IN ROLE mx_own_c;
CREATE ROLE mx_memcr_n NOLOGIN IN ROLE mx_own_n;
CREATE ROLE mx_str_c NOLOGIN;        -- unrelated, with CREATE on mx
CREATE ROLE mx_str_n NOLOGIN;        -- unrelated, without it
CREATE ROLE mx_both NOLOGIN IN ROLE mx_own_c, mx_own_n;  -- a member of both owners
CREATE ROLE mx_reader NOLOGIN;       -- only ever granted SELECT
-- The table's owner. Every caller may alter the table (run_with_dependents): what decides
-- is who may rebuild what reads it. No CREATE on mx comes with it.
CREATE ROLE mx_tab NOLOGIN;
GRANT mx_tab TO mx_own_c, mx_own_n, mx_mem_c, mx_mem_n, mx_memcr_c, mx_memcr_n, mx_str_c, mx_str_n, mx_both;

CREATE SCHEMA mx;
GRANT USAGE ON SCHEMA mx TO PUBLIC;
GRANT CREATE ON SCHEMA mx TO mx_own_c, mx_memcr_c, mx_memcr_n, mx_str_c;
CREATE SCHEMA mxt AUTHORIZATION mx_tab;
GRANT USAGE ON SCHEMA mxt TO PUBLIC;
CREATE TABLE mxt.t (a int PRIMARY KEY, b int);
ALTER TABLE mxt.t OWNER TO mx_tab;
GRANT SELECT ON mxt.t TO PUBLIC;
INSERT INTO mxt.t VALUES (1, 10), (2, 20);

-- ---------------------------------------------------------------------------------------
-- The cells

CREATE TABLE mx.callers (kind text PRIMARY KEY, ord int, role_c text, role_n text);
INSERT INTO mx.callers VALUES
  ('superuser',            1, 'mx_su',      'mx_su'),
  ('owner',                2, 'mx_own_c',   'mx_own_n'),
  ('member',               3, 'mx_mem_c',   'mx_mem_n'),
  ('member with CREATE',   4, 'mx_memcr_c', 'mx_memcr_n'),
  ('stranger with CREATE', 5, 'mx_str_c',   'mx_str_c'),
  ('stranger',             6, 'mx_str_n',   'mx_str_n');

CREATE TABLE mx.ops (op text PRIMARY KEY, ord int);
INSERT INTO mx.ops VALUES ('register', 1), ('rebuild', 2), ('sync', 3), ('sync_missing', 4),
  ('run_with_dependents', 5), ('refresh', 6), ('refresh_all', 7), ('unregister', 8),
  ('adopt', 9), ('purge_history', 10);

CREATE TABLE mx.objects (object text PRIMARY KEY, ord int, target text);
INSERT INTO mx.objects VALUES ('managed view', 1, 'mx.v'), ('managed materialized view', 2, 'mx.m'),
  ('unmanaged dependents', 3, 'mx.b'), ('history', 4, NULL),
  -- finding 1's case: a managed view of the owner with CREATE, read by hand-made views a
  -- superuser handed over to the owner without CREATE
  ('dependents of another owner', 5, 'mx.b');

-- What each operation runs, per object; its one-line result.
CREATE FUNCTION mx.op_sql(op text, object text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE op
    WHEN 'register' THEN CASE object
      WHEN 'managed view' THEN $$SELECT viewmgr.register('mx.v', 'SELECT a, b, a + 1 AS c FROM mxt.t')$$
      WHEN 'managed materialized view' THEN $$SELECT viewmgr.register('mx.m', 'SELECT a, b, current_user::text AS who FROM mxt.t', materialized => true, indexes => '{"UNIQUE (a)", "(b)"}')$$
      ELSE $$SELECT viewmgr.register('mx.b', 'SELECT a, b, a + 1 AS c FROM mxt.t')$$ END
    WHEN 'rebuild' THEN CASE object
      WHEN 'managed view' THEN $$SELECT viewmgr.register('mx.v', 'SELECT a, b::bigint AS b FROM mxt.t')$$
      WHEN 'managed materialized view' THEN $$SELECT viewmgr.register('mx.m', 'SELECT a, b::bigint AS b, current_user::text AS who FROM mxt.t', materialized => true, indexes => '{"UNIQUE (a)"}')$$
      ELSE $$SELECT viewmgr.register('mx.b', 'SELECT a, b::bigint AS b FROM mxt.t')$$ END
    WHEN 'sync' THEN $$SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync() WHERE action <> 'unchanged'$$
    WHEN 'sync_missing' THEN $$SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.sync() WHERE action <> 'unchanged'$$
    WHEN 'run_with_dependents' THEN $$SELECT string_agg(view_name || ':' || action, ',' ORDER BY view_name) FROM viewmgr.run_with_dependents('ALTER TABLE mxt.t ALTER COLUMN b TYPE bigint')$$
    WHEN 'refresh' THEN format($$SELECT string_agg(view_name || ':' || action, ',') FROM viewmgr.refresh(%L)$$,
                               CASE object WHEN 'managed view' THEN 'mx.v' WHEN 'managed materialized view' THEN 'mx.m' ELSE 'mx.hm' END)
    WHEN 'refresh_all' THEN $$SELECT string_agg(view_name || ':' || action || ':' || coalesce(detail, ''), ',' ORDER BY view_name) FROM viewmgr.refresh_all()$$
    WHEN 'unregister' THEN format($$SELECT viewmgr.unregister(%L)::text$$,
                                  CASE object WHEN 'managed view' THEN 'mx.v' WHEN 'managed materialized view' THEN 'mx.m' ELSE 'mx.b' END)
    WHEN 'adopt' THEN format($$SELECT viewmgr.adopt(%L)::text$$,
                             CASE object WHEN 'managed view' THEN 'mx.v' WHEN 'managed materialized view' THEN 'mx.m' ELSE 'mx.hv' END)
    WHEN 'purge_history' THEN $$SELECT viewmgr.purge_history('30 minutes')::text$$
  END
$f$;

-- One relation as a line of facts: owner, columns, rows and who computed them, indexes,
-- the reader's grant, and the owner the registry records (or "none").
CREATE FUNCTION mx.rel_facts(rel text, short text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  c pg_class;
  facts text;
  rows_who text;
BEGIN
  SELECT * INTO c FROM pg_class WHERE oid = to_regclass(rel);
  IF NOT FOUND THEN
    facts := short || ' missing';
  ELSE
    facts := short || ' ' || c.relowner::regrole::text || ' ' ||
             (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
                FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped);
    IF c.relkind = 'm' THEN
      IF c.relispopulated THEN
        EXECUTE format('SELECT '' rows='' || count(*) || '' who='' || coalesce(string_agg(DISTINCT who, ''+''), ''-'') FROM %s', rel)
          INTO rows_who;
      ELSE
        rows_who := ' unpopulated';
      END IF;
      facts := facts || rows_who || ' idx=' || (SELECT count(*) FROM pg_index WHERE indrelid = c.oid);
    END IF;
    facts := facts || CASE WHEN has_table_privilege('mx_reader', c.oid, 'SELECT') THEN ' granted' ELSE ' not granted' END;
  END IF;
  RETURN facts || ' reg=' || coalesce((SELECT owner::text FROM viewmgr.managed_view
                                        WHERE schema_name = 'mx' AND relation_name = split_part(rel, '.', 2)), 'none');
END
$f$;

CREATE FUNCTION mx.facts(object text) RETURNS text LANGUAGE sql AS $f$
  SELECT CASE object
    WHEN 'managed view' THEN mx.rel_facts('mx.v', 'v')
    WHEN 'managed materialized view' THEN mx.rel_facts('mx.m', 'm')
    WHEN 'unmanaged dependents' THEN concat_ws('; ', mx.rel_facts('mx.b', 'b'), mx.rel_facts('mx.hv', 'hv'),
                                              mx.rel_facts('mx.hm', 'hm'))
    WHEN 'dependents of another owner' THEN concat_ws('; ', mx.rel_facts('mx.b', 'b'), mx.rel_facts('mx.hv', 'hv'),
                                                     mx.rel_facts('mx.hm', 'hm'))
    ELSE (SELECT format('history c=%s n=%s', count(*) FILTER (WHERE owner = 'mx_own_c'::regrole),
                        count(*) FILTER (WHERE owner = 'mx_own_n'::regrole)) FROM viewmgr.history)
  END
$f$;

-- Everything a refusal must leave as it was: the registry rows, every relation outside the
-- system schemas (oid, row version, owner, ACL, populated, definition, index definition),
-- the table's columns, the materialized views' rows, and the history.
CREATE FUNCTION mx.state() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  s text;
  m record;
  n bigint;
BEGIN
  s := concat_ws(E'\n',
    (SELECT string_agg(r::text, E'\n' ORDER BY r.relation_name) FROM viewmgr.managed_view r),
    (SELECT string_agg(concat_ws(' | ', c.oid::regclass::text, c.relkind, c.oid, c.xmin, c.relowner::regrole,
                                 c.relispopulated, c.relacl,
                                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                                 CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END),
                       E'\n' ORDER BY c.oid::regclass::text)
       FROM pg_class c WHERE c.relnamespace IN ('mx'::regnamespace, 'mxt'::regnamespace)),
    (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
       FROM pg_attribute WHERE attrelid = 'mxt.t'::regclass AND attnum > 0),
    (SELECT string_agg(h::text, E'\n' ORDER BY h.id) FROM viewmgr.history h));
  FOR m IN SELECT oid::regclass::text AS rel FROM pg_class
            WHERE relnamespace = 'mx'::regnamespace AND relkind = 'm' AND relispopulated ORDER BY 1 LOOP
    EXECUTE format('SELECT count(*) FROM %s', m.rel) INTO n;
    s := s || E'\n' || m.rel || ' rows: ' || n;
  END LOOP;
  RETURN s;
END
$f$;

-- The fixture of one cell, built as the superuser: the object, owned by `owner` (who had
-- CREATE when it registered; the owner without CREATE loses it afterwards), and what the
-- operation needs before it runs.
CREATE FUNCTION mx.setup(owner text, object text, op text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format('GRANT CREATE ON SCHEMA mx TO %I', owner);
  EXECUTE format('SET ROLE %I', owner);
  IF object = 'managed view' THEN
    PERFORM viewmgr.register('mx.v', 'SELECT a, b FROM mxt.t');
    GRANT SELECT ON mx.v TO mx_reader;
  ELSIF object = 'managed materialized view' THEN
    PERFORM viewmgr.register('mx.m', 'SELECT a, b, current_user::text AS who FROM mxt.t',
                             materialized => true, indexes => '{"UNIQUE (a)"}');
    GRANT SELECT ON mx.m TO mx_reader;
  ELSIF object = 'unmanaged dependents' THEN
    PERFORM viewmgr.register('mx.b', 'SELECT a, b FROM mxt.t');
    CREATE VIEW mx.hv AS SELECT a, b FROM mx.b;
    CREATE MATERIALIZED VIEW mx.hm AS SELECT a, current_user::text AS who FROM mx.b;
    CREATE INDEX hm_a ON mx.hm (a);
    GRANT SELECT ON mx.hv, mx.hm TO mx_reader;
  ELSIF object = 'dependents of another owner' THEN
    PERFORM viewmgr.register('mx.b', 'SELECT a, b FROM mxt.t');
    GRANT SELECT ON mx.b TO mx_own_n;
    RESET ROLE;
    -- A DBA makes the reports and hands them over; their data is the owner's.
    CREATE VIEW mx.hv AS SELECT a, b FROM mx.b;
    CREATE MATERIALIZED VIEW mx.hm AS SELECT a, current_user::text AS who FROM mx.b WITH NO DATA;
    CREATE INDEX hm_a ON mx.hm (a);
    GRANT SELECT ON mx.hv, mx.hm TO mx_reader;
    ALTER VIEW mx.hv OWNER TO mx_own_n;
    ALTER MATERIALIZED VIEW mx.hm OWNER TO mx_own_n;
    SET ROLE mx_own_n;
    REFRESH MATERIALIZED VIEW mx.hm;
    EXECUTE format('SET ROLE %I', owner);
  END IF;
  IF op = 'sync' THEN
    -- The owner's change, declared to be applied by a later sync().
    IF object = 'managed view' THEN
      PERFORM viewmgr.register('mx.v', 'SELECT a, b::bigint AS b FROM mxt.t', apply => false);
    ELSIF object = 'managed materialized view' THEN
      PERFORM viewmgr.register('mx.m', 'SELECT a, b::bigint AS b, current_user::text AS who FROM mxt.t',
                               materialized => true, indexes => '{"UNIQUE (a)"}', apply => false);
    ELSE
      PERFORM viewmgr.register('mx.b', 'SELECT a, b::bigint AS b FROM mxt.t', apply => false);
    END IF;
  END IF;
  RESET ROLE;
  IF owner = 'mx_own_n' THEN
    REVOKE CREATE ON SCHEMA mx FROM mx_own_n;
  END IF;
  IF op = 'sync_missing' THEN
    IF object = 'managed view' THEN DROP VIEW mx.v; ELSE DROP MATERIALIZED VIEW mx.m; END IF;
  ELSIF op = 'adopt' AND object <> 'unmanaged dependents' THEN
    PERFORM viewmgr.unregister(CASE object WHEN 'managed view' THEN 'mx.v' ELSE 'mx.m' END, drop_view => false);
  ELSIF op IN ('refresh', 'refresh_all') THEN
    INSERT INTO mxt.t VALUES (3, 30);
  ELSIF op = 'purge_history' THEN
    -- A view of each owner, with a history row each, made an hour old (purge_history()
    -- compares with the transaction's start).
    GRANT CREATE ON SCHEMA mx TO mx_own_n;
    SET ROLE mx_own_c;
    PERFORM viewmgr.register('mx.pc', 'SELECT a FROM mxt.t');
    SET ROLE mx_own_n;
    PERFORM viewmgr.register('mx.pn', 'SELECT a FROM mxt.t');
    RESET ROLE;
    REVOKE CREATE ON SCHEMA mx FROM mx_own_n;
    UPDATE viewmgr.history SET started_at = started_at - interval '1 hour',
                               finished_at = finished_at - interval '1 hour';
  END IF;
END
$f$;

-- The expected outcome of a cell ('ok: <result>' or '<SQLSTATE>: <message>') and, for a
-- success, the facts it leaves (NULL: nothing may change at all). These are the rules.
CREATE FUNCTION mx.expected(kind text, caller text, owner text, object text, op text,
                            OUT outcome text, OUT facts text) LANGUAGE plpgsql AS $f$
DECLARE
  may_act boolean := kind IN ('superuser', 'owner', 'member', 'member with CREATE');
  owner_creates boolean := owner = 'mx_own_c';
  -- may run DDL that needs CREATE on mx (in-place changes: CREATE OR REPLACE, indexes)
  in_place boolean := owner_creates OR kind IN ('superuser', 'member with CREATE');
  -- may make a new relation for the owner: as the owner, or created by a superuser and
  -- handed over (ALTER ... OWNER TO needs a superuser when the new owner lacks CREATE)
  new_relation boolean := owner_creates OR kind = 'superuser';
  target text := (SELECT o.target FROM mx.objects o WHERE o.object = expected.object);
  kind_word text := CASE object WHEN 'managed materialized view' THEN 'materialized view' ELSE 'view' END;
  base text;
  not_owner text;
  no_create text;
BEGIN
  base := CASE object
    WHEN 'managed view' THEN 'v {o} a:integer,b:integer granted reg={o}'
    WHEN 'managed materialized view' THEN 'm {o} a:integer,b:integer,who:text rows=2 who={o} idx=1 granted reg={o}'
    WHEN 'unmanaged dependents' THEN 'b {o} a:integer,b:integer not granted reg={o}; hv {o} a:integer,b:integer granted reg=none; hm {o} a:integer,who:text rows=2 who={o} idx=1 granted reg=none'
  END;
  IF object = 'dependents of another owner' THEN
    base := 'b mx_own_c a:integer,b:integer not granted reg=mx_own_c; hv mx_own_n a:integer,b:integer granted reg=none; hm mx_own_n a:integer,who:text rows=2 who=mx_own_n idx=1 granted reg=none';
    IF op = 'register' THEN
      outcome := 'ok: replaced';
      facts := replace(base, 'b mx_own_c a:integer,b:integer ', 'b mx_own_c a:integer,b:integer,c:integer ') || ' | history: replace:mx_own_c';
    ELSIF kind = 'superuser' THEN
      outcome := CASE op WHEN 'rebuild' THEN 'ok: rebuilt' WHEN 'sync' THEN 'ok: mx.b:rebuilt'
                         ELSE 'ok: mx.b:rebuilt,mx.hm:rebuilt,mx.hv:rebuilt' END;
      facts := replace(replace(base, 'a:integer,b:integer ', 'a:integer,b:bigint ') , 'a:integer,b:integer ', 'a:integer,b:bigint ')
               || ' | history: rebuild:mx_own_c,rebuild:mx_own_n';
    ELSIF kind = 'owner of the base' THEN
      outcome := '42501: permission denied to rebuild mx.hm: role "mx_own_c" does not have the privileges of its owner, role "mx_own_n"';
    ELSE
      outcome := '42501: permission denied to rebuild mx.hm: its owner, role "mx_own_n", has no CREATE privilege on schema mx';
    END IF;
    RETURN;
  END IF;
  not_owner := format('42501: permission denied to %%s %s: role "%s" does not have the privileges of its owner, role "%s"',
                      target, caller, owner);
  no_create := format('42501: permission denied to %%s %s: its owner, role "%s", has no CREATE privilege on schema mx',
                      target, owner);
  IF op = 'purge_history' THEN
    IF kind = 'superuser' THEN
      outcome := 'ok: 2'; facts := 'history c=0 n=0';
    ELSIF may_act THEN
      outcome := 'ok: 1'; facts := CASE owner WHEN 'mx_own_c' THEN 'history c=0 n=1' ELSE 'history c=1 n=0' END;
    ELSE
      outcome := 'ok: 0'; facts := NULL;
    END IF;
  ELSIF op IN ('register', 'rebuild') THEN
    IF NOT may_act THEN
      outcome := format('42501: must be owner of %s %s', kind_word, target);
    ELSIF op = 'register' AND NOT in_place THEN
      outcome := format('42501: cannot build %s: permission denied for schema mx', target);
    ELSIF op = 'rebuild' AND NOT new_relation THEN
      outcome := format(no_create, 'rebuild');
    ELSE
      outcome := CASE WHEN op = 'register' THEN 'ok: replaced' ELSE 'ok: rebuilt' END;
      IF op = 'register' THEN
        facts := CASE object
          WHEN 'managed view' THEN 'v {o} a:integer,b:integer,c:integer granted reg={o}'
          WHEN 'managed materialized view' THEN 'm {o} a:integer,b:integer,who:text rows=2 who={o} idx=2 granted reg={o}'
          ELSE replace(base, 'b {o} a:integer,b:integer ', 'b {o} a:integer,b:integer,c:integer ') END;
      END IF;
    END IF;
  ELSIF op IN ('sync', 'sync_missing', 'run_with_dependents') THEN
    IF NOT may_act THEN
      outcome := format(not_owner, CASE op WHEN 'sync_missing' THEN 'create' ELSE 'rebuild' END);
    ELSIF NOT new_relation THEN
      outcome := format(no_create, CASE op WHEN 'sync_missing' THEN 'create' ELSE 'rebuild' END);
    ELSIF op = 'sync_missing' THEN
      outcome := format('ok: %s:created', target);
      facts := replace(base, ' granted', ' not granted');
    ELSIF op = 'run_with_dependents' AND object = 'unmanaged dependents' THEN
      outcome := 'ok: mx.b:rebuilt,mx.hm:rebuilt,mx.hv:rebuilt';
    ELSE
      outcome := format('ok: %s:rebuilt', target);
    END IF;
  ELSIF op = 'refresh' THEN
    IF object = 'managed view' THEN
      outcome := '42809: mx.v is not a materialized view';
    ELSIF object = 'unmanaged dependents' THEN
      outcome := '42704: "mx.hm" is not a managed view';
    ELSIF NOT may_act THEN
      -- REFRESH's own refusal: PostgreSQL 17 made REFRESH need the MAINTAIN privilege
      -- (owners have it) instead of ownership, and words the refusal as a privilege.
      outcome := CASE WHEN current_setting('server_version_num')::int >= 170000
                      THEN '42501: permission denied for materialized view m'
                      ELSE '42501: must be owner of materialized view m' END;
    ELSE
      outcome := 'ok: mx.m:refreshed';
      facts := replace(base, 'rows=2', 'rows=3');
    END IF;
  ELSIF op = 'refresh_all' THEN
    IF object <> 'managed materialized view' THEN
      outcome := 'ok: -';
    ELSIF NOT may_act THEN
      outcome := 'ok: mx.m:skipped:not owner';
    ELSE
      outcome := 'ok: mx.m:refreshed:mxt.t changed; concurrently';
      facts := replace(base, 'rows=2', 'rows=3');
    END IF;
  ELSIF op = 'unregister' THEN
    IF NOT may_act THEN
      outcome := format('42501: permission denied to unregister %s', target);
    ELSIF object = 'unmanaged dependents' THEN
      outcome := '2BP01: cannot drop mx.b: mx.hv depends on it';
    ELSE
      outcome := 'ok: ';
      facts := split_part(base, ' ', 1) || ' missing reg=none';
    END IF;
  ELSIF op = 'adopt' THEN
    IF NOT may_act THEN
      outcome := format('42501: must be owner of view "%s"', CASE object WHEN 'managed view' THEN 'v'
                                                             WHEN 'managed materialized view' THEN 'm' ELSE 'hv' END);
    ELSE
      outcome := 'ok: 1';
      facts := CASE WHEN object = 'unmanaged dependents'
                    THEN replace(base, 'hv {o} a:integer,b:integer granted reg=none', 'hv {o} a:integer,b:integer granted reg={o}')
                    ELSE base END;
    END IF;
  END IF;
  -- A success whose facts are not set above leaves the rebuilt state: b became bigint.
  IF outcome LIKE 'ok:%' AND facts IS NULL AND op IN ('rebuild', 'sync', 'run_with_dependents') THEN
    facts := replace(replace(base, 'a:integer,b:integer ', 'a:integer,b:bigint '), 'a:integer,b:integer,', 'a:integer,b:bigint,');
  END IF;
  -- What a success writes to the history: operation and owner of each new row (the owner
  -- decides who sees them), the same for a superuser's build as for the owner's.
  IF facts IS NOT NULL AND op <> 'purge_history' THEN
    facts := facts || ' | history: ' || CASE
      WHEN op = 'register' THEN 'replace:{o}'
      WHEN op IN ('rebuild', 'sync', 'run_with_dependents') THEN 'rebuild:{o}'
      WHEN op = 'sync_missing' THEN 'create:{o}'
      WHEN op IN ('refresh', 'refresh_all') THEN 'refresh:{o}'
      WHEN op = 'unregister' THEN 'drop:{o}'
      ELSE 'none' END;
  END IF;
  facts := replace(facts, '{o}', owner);
END
$f$;

CREATE TABLE mx.cells AS
  SELECT row_number() OVER (ORDER BY p.ord, o.ord, w.owner, c.ord) AS id,
         c.kind, CASE w.owner WHEN 'mx_own_c' THEN c.role_c ELSE c.role_n END AS caller,
         w.owner, o.object, p.op
    FROM mx.callers c
   CROSS JOIN (VALUES ('mx_own_c'), ('mx_own_n')) AS w(owner)
   CROSS JOIN mx.objects o
   CROSS JOIN mx.ops p
   WHERE (p.op = 'purge_history') = (o.object = 'history')
     AND NOT (p.op = 'sync_missing' AND o.object = 'unmanaged dependents')
     -- refresh of what is no materialized view: one cell, the same for everyone
     AND NOT (p.op = 'refresh' AND o.object <> 'managed materialized view'
              AND (c.kind <> 'superuser' OR w.owner <> 'mx_own_c'))
     AND o.object <> 'dependents of another owner'
  UNION ALL
  SELECT 1000 + row_number() OVER (ORDER BY p.ord, c.ord), c.kind, c.caller, 'mx_own_c', 'dependents of another owner', p.op
    FROM (VALUES ('superuser', 'mx_su', 1), ('owner of the base', 'mx_own_c', 2),
                 ('member of both owners', 'mx_both', 3)) AS c(kind, caller, ord)
   CROSS JOIN mx.ops p
   WHERE p.op IN ('register', 'rebuild', 'sync', 'run_with_dependents');

SELECT plan((SELECT count(*)::int * 2 FROM mx.cells));

-- Runs every cell: the fixture, the operation as the caller, what it left; then rolls the
-- cell back (by raising MXRB0) and asserts, outside the rolled-back part.
CREATE FUNCTION mx.run_cells() RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
  c record;
  e record;
  result text;
  outcome text;
  before text;
  after text;
  facts text;
  code text;
  message text;
  label text;
  last_history bigint;
BEGIN
  FOR c IN SELECT * FROM mx.cells ORDER BY id LOOP
    e := mx.expected(c.kind, c.caller, c.owner, c.object, c.op);
    label := format('%s · %s · owner %s CREATE · caller: %s', c.op, c.object,
                    CASE c.owner WHEN 'mx_own_c' THEN 'with' ELSE 'without' END, c.kind);
    BEGIN
      PERFORM mx.setup(c.owner, c.object, c.op);
      before := mx.state();
      last_history := (SELECT coalesce(max(id), 0) FROM viewmgr.history);
      BEGIN
        EXECUTE format('SET ROLE %I', c.caller);
        EXECUTE mx.op_sql(c.op, c.object) INTO result;
        RESET ROLE;
        outcome := 'ok: ' || coalesce(result, '-');
      EXCEPTION WHEN OTHERS THEN
        -- (the failed block's SET ROLE is undone with it)
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        outcome := code || ': ' || message;
      END;
      after := mx.state();
      facts := mx.facts(c.object);
      IF c.op <> 'purge_history' THEN
        facts := facts || ' | history: ' ||
                 (SELECT coalesce(string_agg(DISTINCT operation || ':' || owner::regrole::text, ','), 'none')
                    FROM viewmgr.history WHERE id > last_history);
      END IF;
      RAISE EXCEPTION 'roll the cell back' USING ERRCODE = 'MXRB0';
    EXCEPTION WHEN SQLSTATE 'MXRB0' THEN
      NULL;
    END;
    RETURN NEXT is(outcome, e.outcome, label);
    IF e.outcome LIKE 'ok:%' AND e.facts IS NOT NULL THEN
      RETURN NEXT is(facts, e.facts, label || ': what it left');
    ELSE
      RETURN NEXT is(after, before, label || ': nothing changed');
    END IF;
  END LOOP;
END
$f$;

SELECT * FROM mx.run_cells();

SELECT * FROM finish();
ROLLBACK;
