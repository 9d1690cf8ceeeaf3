-- Errors read as the user wrote things (issue 14, finding 6): an error in the DDL given to
-- run_with_dependents points into that DDL, not at the call around it, and every error of
-- that DDL starts the same way; an error in a definition is positioned in the definition as
-- registered ("LINE 1" is its first line), not in the CREATE VIEW pg_viewmgr wraps it in.
CREATE EXTENSION IF NOT EXISTS pg_viewmgr;
CREATE SCHEMA msg;
CREATE TABLE msg.items (id int PRIMARY KEY, sku text, qty int);
SELECT viewmgr.register('msg.v', 'SELECT id, sku FROM msg.items');

-- The syntax error is in the DDL: its position is in the DDL.
SELECT viewmgr.run_with_dependents('ALTR TABLE msg.items ADD COLUMN c int');
SELECT viewmgr.run_with_dependents('ALTER TABLE msg.items ADD COLUMN c int; ALTER TABLE msg.items ALTR COLUMN c TYPE bigint');
-- An error PostgreSQL raises running it: the same prefix.
SELECT viewmgr.run_with_dependents('ALTER TABLE msg.items ADD COLUMN c intt');

-- A definition on one line: LINE 1.
SELECT viewmgr.register('msg.bad', 'SELECT nope FROM msg.items');
-- On several lines: the line of the definition it is on.
SELECT viewmgr.register('msg.bad', 'SELECT id,
       sku
  FROM msg.items WHERE nope', materialized => true);

-- Nothing of it was registered.
SELECT view_name FROM viewmgr.status WHERE view_name LIKE 'msg.%' ORDER BY 1;
SELECT viewmgr.unregister('msg.v');
DROP SCHEMA msg CASCADE;
