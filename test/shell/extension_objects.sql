-- Every object of the pg_viewmgr extension (pg_depend deptype 'e') with the catalog facts
-- that make it what it is, one line per fact, in an order that does not depend on oids or
-- on the order the objects were created in. test/shell/upgrade.sh runs it in a database
-- updated from an old release and in a fresh install of the current version: the two
-- outputs must be identical. Oids, xids and attribute numbers are left out (they differ
-- between the two by construction); column order is kept, as the position among the
-- columns that are not dropped. The Debian builds here put a "pg_attver=<position in the
-- WAL>" entry of their own into every column's attoptions: it says when the column was
-- made, not what it is, and is left out.
--
-- Kinds of member this file does not describe show up as "unhandled", so a new kind fails
-- the comparison loudly instead of being skipped in silence.
\pset format unaligned
\pset tuples_only on
\pset null '<null>'

WITH ext AS (
  SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_viewmgr'
), member AS (
  SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d, ext
   WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid
     AND d.deptype = 'e'
), member_rel AS (
  SELECT c.* FROM pg_catalog.pg_class c JOIN member m
      ON m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
), facts(object, fact) AS (
  -- the extension itself
  SELECT 'extension pg_viewmgr',
         concat_ws(' ', 'version', e.extversion, 'schema', e.extnamespace::regnamespace,
                   'relocatable', e.extrelocatable)
    FROM pg_catalog.pg_extension e, ext WHERE e.oid = ext.oid
  UNION ALL
  -- its configuration tables (dumped with their data) and their filters
  SELECT 'extension pg_viewmgr',
         'config ' || cfg.rel::regclass::text || ' filter ' || coalesce(cfg.cond, '')
    FROM pg_catalog.pg_extension e, ext,
         unnest(e.extconfig, e.extcondition) AS cfg(rel, cond)
   WHERE e.oid = ext.oid
  UNION ALL
  -- every member, by kind and identity
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0), 'member'
    FROM member m
  UNION ALL
  -- members of a kind not described below
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0),
         'unhandled catalog ' || m.classid::regclass::text
    FROM member m
   WHERE m.classid NOT IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_class'::regclass,
                           'pg_catalog.pg_namespace'::regclass, 'pg_catalog.pg_type'::regclass,
                           'pg_catalog.pg_event_trigger'::regclass)
  UNION ALL
  -- comments and initial privileges (what pg_dump compares ACLs against) of any member,
  -- its columns included
  SELECT pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), 'comment ' || d.description
    FROM pg_catalog.pg_description d JOIN member m ON m.classid = d.classoid AND m.objid = d.objoid
  UNION ALL
  SELECT pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid),
         concat_ws(' ', 'init privileges', i.privtype, i.initprivs::text)
    FROM pg_catalog.pg_init_privs i JOIN member m ON m.classid = i.classoid AND m.objid = i.objoid
  UNION ALL
  -- functions: the whole CREATE statement (arguments, result, language, volatility,
  -- strictness, parallel safety, cost, SECURITY DEFINER, SET clauses, body), and the rest
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0), f.fact
    FROM member m JOIN pg_catalog.pg_proc p ON m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = p.oid,
         LATERAL (VALUES
           ('definition ' || pg_catalog.pg_get_functiondef(p.oid)),
           (concat_ws(' ', 'owner', p.proowner::regrole, 'acl', p.proacl::text,
                      'security definer', p.prosecdef, 'volatility', p.provolatile,
                      'leakproof', p.proleakproof, 'config', p.proconfig::text,
                      'kind', p.prokind))
         ) AS f(fact)
  UNION ALL
  -- relations
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'kind', c.relkind, 'persistence', c.relpersistence,
                   'owner', c.relowner::regrole, 'acl', c.relacl::text, 'options', c.reloptions::text,
                   'row security', c.relrowsecurity, 'forced', c.relforcerowsecurity,
                   'replica identity', c.relreplident, 'access method', c.relam::regclass)
    FROM member_rel c
  UNION ALL
  -- columns, in their order
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'column', lpad((row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::text, 3, '0'),
                   quote_ident(a.attname), pg_catalog.format_type(a.atttypid, a.atttypmod),
                   'not null', a.attnotnull, 'default', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
                   'identity', nullif(a.attidentity, ''), 'generated', nullif(a.attgenerated, ''),
                   'collation', nullif(a.attcollation, 0)::regcollation, 'storage', a.attstorage,
                   'compression', nullif(a.attcompression, ''), 'statistics', a.attstattarget,
                   'options', (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) o
                                WHERE o NOT LIKE 'pg\_attver=%')::text,
                   'acl', a.attacl::text)
    FROM member_rel c
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  UNION ALL
  -- constraints (primary keys, unique, checks, foreign keys, exclusions)
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'constraint', quote_ident(k.conname), pg_catalog.pg_get_constraintdef(k.oid),
                   'deferrable', k.condeferrable, 'deferred', k.condeferred, 'validated', k.convalidated)
    FROM member_rel c JOIN pg_catalog.pg_constraint k ON k.conrelid = c.oid
  UNION ALL
  -- indexes (those of constraints too), by name and definition
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'index', pg_catalog.pg_get_indexdef(i.indexrelid),
                   'clustered', i.indisclustered, 'replica identity', i.indisreplident,
                   'options', ic.reloptions::text)
    FROM member_rel c
    JOIN pg_catalog.pg_index i ON i.indrelid = c.oid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  UNION ALL
  -- row-level security policies
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'policy', quote_ident(p.polname), 'command', p.polcmd,
                   'permissive', p.polpermissive,
                   'roles', (SELECT string_agg(CASE r WHEN 0 THEN 'public' ELSE r::regrole::text END,
                                               ',' ORDER BY 1)
                               FROM unnest(p.polroles) r),
                   'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                   'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
    FROM member_rel c JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid
  UNION ALL
  -- triggers written by hand (not those of constraints)
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'trigger', pg_catalog.pg_get_triggerdef(t.oid), 'enabled', t.tgenabled)
    FROM member_rel c JOIN pg_catalog.pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
  UNION ALL
  -- rules other than a view's own
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'rule', pg_catalog.pg_get_ruledef(r.oid), 'enabled', r.ev_enabled)
    FROM member_rel c JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid AND r.rulename <> '_RETURN'
  UNION ALL
  -- views: their query
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         'view definition ' || pg_catalog.pg_get_viewdef(c.oid)
    FROM member_rel c WHERE c.relkind IN ('v', 'm')
  UNION ALL
  -- sequences: their parameters and owning column (not their current value: that is data)
  SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass, c.oid, 0),
         concat_ws(' ', 'sequence', pg_catalog.format_type(s.seqtypid, NULL), 'start', s.seqstart,
                   'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax,
                   'cache', s.seqcache, 'cycle', s.seqcycle,
                   'owned by', (SELECT pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                  FROM pg_catalog.pg_depend d
                                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                                   AND d.deptype IN ('a', 'i')
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass))
    FROM member_rel c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
  UNION ALL
  -- schemas
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0),
         concat_ws(' ', 'owner', n.nspowner::regrole, 'acl', n.nspacl::text)
    FROM member m JOIN pg_catalog.pg_namespace n
      ON m.classid = 'pg_catalog.pg_namespace'::regclass AND m.objid = n.oid
  UNION ALL
  -- types of their own (not the row types of tables and views, which are not members)
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0),
         concat_ws(' ', 'type', t.typtype, 'owner', t.typowner::regrole, 'acl', t.typacl::text,
                   'labels', (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
                   'base', nullif(t.typbasetype, 0)::regtype,
                   'attributes', (SELECT string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                    ', ' ORDER BY a.attnum)
                                    FROM pg_catalog.pg_attribute a
                                   WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
    FROM member m JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
  UNION ALL
  -- event triggers
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0),
         concat_ws(' ', 'event', e.evtevent, 'function', e.evtfoid::regprocedure, 'enabled', e.evtenabled,
                   'tags', e.evttags::text, 'owner', e.evtowner::regrole)
    FROM member m JOIN pg_catalog.pg_event_trigger e
      ON m.classid = 'pg_catalog.pg_event_trigger'::regclass AND m.objid = e.oid
  UNION ALL
  -- what the members depend on among themselves and on the rest of the database, other
  -- than through the extension (a view on a function, a default on a sequence, a trigger
  -- on its function)
  SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
         'depends (' || d.deptype::text || ') on ' || pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
    FROM pg_catalog.pg_depend d
   WHERE d.deptype <> 'e'
     AND (EXISTS (SELECT 1 FROM member m WHERE m.classid = d.classid AND m.objid = d.objid)
          OR (d.classid = 'pg_catalog.pg_class'::regclass
              AND d.objid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i JOIN member_rel c ON i.indrelid = c.oid))
          OR (d.classid = 'pg_catalog.pg_rewrite'::regclass
              AND d.objid IN (SELECT r.oid FROM pg_catalog.pg_rewrite r JOIN member_rel c ON r.ev_class = c.oid))
          OR (d.classid = 'pg_catalog.pg_attrdef'::regclass
              AND d.objid IN (SELECT ad.oid FROM pg_catalog.pg_attrdef ad JOIN member_rel c ON ad.adrelid = c.oid))
          OR (d.classid = 'pg_catalog.pg_trigger'::regclass
              AND d.objid IN (SELECT t.oid FROM pg_catalog.pg_trigger t JOIN member_rel c ON t.tgrelid = c.oid))
          OR (d.classid = 'pg_catalog.pg_policy'::regclass
              AND d.objid IN (SELECT p.oid FROM pg_catalog.pg_policy p JOIN member_rel c ON p.polrelid = c.oid))
          OR (d.classid = 'pg_catalog.pg_constraint'::regclass
              AND d.objid IN (SELECT k.oid FROM pg_catalog.pg_constraint k JOIN member_rel c ON k.conrelid = c.oid)))
)
-- A fact of several lines (a function's definition) is indented after its first line.
SELECT object || ' | ' || replace(fact, E'\n', E'\n    ') FROM facts
 ORDER BY object COLLATE "C", fact COLLATE "C";
