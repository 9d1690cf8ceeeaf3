-- The change log viewmgr.source_change is written by C code on every write to a tracked
-- table, tuple and index entry formed by hand. A superuser can still alter the table; the
-- writer must then refuse with an error, never form a tuple of the wrong shape (which
-- crashed the server when a column changed type).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION pg_viewmgr;
SELECT plan(12);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA cls;
CREATE TABLE cls.t (a int);
SELECT viewmgr.register('cls.m', 'SELECT a FROM cls.t', materialized => true);

CREATE FUNCTION cls.log_rows() RETURNS bigint LANGUAGE sql AS
  $$ SELECT count(*) FROM viewmgr.source_change WHERE relid = 'cls.t'::regclass $$;
-- The build logged the table once, when it started tracking it.
SELECT cls.log_rows() AS log_base \gset

-- Each alteration, inside a savepoint: a write to the tracked table is refused with 55000
-- naming the log, and neither the table nor the log changes.
CREATE FUNCTION cls.write_after(alteration text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  state text;
  message text;
BEGIN
  BEGIN
    EXECUTE alteration;
    INSERT INTO cls.t VALUES (1);
    RETURN 'no error';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
  END;
END
$f$;

SELECT is(cls.write_after('ALTER TABLE viewmgr.source_change ALTER COLUMN relid TYPE text'),
          '55000: the change log viewmgr.source_change has been altered: its columns must be (relid oid, xid xid8, cid integer)',
          'a column of another type is refused, not written as an oid');
SELECT is(cls.write_after('ALTER TABLE viewmgr.source_change ADD COLUMN extra text'),
          '55000: the change log viewmgr.source_change has been altered: its columns must be (relid oid, xid xid8, cid integer)',
          'an added column is refused');
SELECT is(cls.write_after('ALTER TABLE viewmgr.source_change DROP COLUMN cid'),
          '55000: the change log viewmgr.source_change has been altered: its columns must be (relid oid, xid xid8, cid integer)',
          'a dropped column is refused');
SELECT is(cls.write_after('ALTER TABLE viewmgr.source_change DROP COLUMN cid; '
                          'ALTER TABLE viewmgr.source_change ADD COLUMN cid integer'),
          '55000: the change log viewmgr.source_change has been altered: its columns must be (relid oid, xid xid8, cid integer)',
          'a column dropped and added again (a dropped attribute left in between) is refused');
SELECT is(cls.write_after('DROP INDEX viewmgr.source_change_relid_xid; '
                          'CREATE INDEX source_change_xid ON viewmgr.source_change (xid)'),
          '55000: the change log viewmgr.source_change has been altered: its one index must be on (relid, xid)',
          'an index on other columns is refused');
SELECT is(cls.write_after('CREATE INDEX source_change_more ON viewmgr.source_change (cid)'),
          '55000: the change log viewmgr.source_change has been altered: its one index must be on (relid, xid)',
          'a second index is refused');
SELECT is(cls.write_after('CREATE INDEX source_change_partial ON viewmgr.source_change (relid, xid) WHERE cid > 0; '
                          'DROP INDEX viewmgr.source_change_relid_xid'),
          '55000: the change log viewmgr.source_change has been altered: its one index must be on (relid, xid)',
          'a partial index is refused');

SELECT is((SELECT count(*) FROM cls.t), 0::bigint, 'no refused write reached the table');
SELECT is(cls.log_rows(), :log_base::bigint, 'no refused write reached the log');
SELECT columns_are('viewmgr', 'source_change', ARRAY['relid', 'xid', 'cid'],
                   'every alteration was rolled back with its write');

-- Unaltered, the log takes the write.
INSERT INTO cls.t VALUES (2);
SELECT is(cls.log_rows(), :log_base::bigint + 1, 'a write to the unaltered log is recorded');
SELECT is((SELECT state FROM viewmgr.status WHERE view_name = 'cls.m'), 'stale',
          'and the view reading the table is stale');

SELECT * FROM finish();
ROLLBACK;
