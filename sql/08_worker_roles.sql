--
-- 08_worker_roles: refresh_all(parallel => 2) when the session user is a role without LOGIN
-- (what a superuser's SET SESSION AUTHORIZATION gives, or a pg_cron job of such a role run
-- in a background worker). Since PostgreSQL 17 the refresh workers connect as that role
-- (BGWORKER_BYPASS_ROLELOGINCHECK); before 17 they could not, and the views are refreshed
-- in the session instead (with a NOTICE, silenced here). The outcome is the same.
--
SET client_min_messages = warning;
CREATE EXTENSION pg_viewmgr;
CREATE ROLE regress_viewmgr_nologin NOLOGIN;
CREATE SCHEMA vm_roles AUTHORIZATION regress_viewmgr_nologin;
SET ROLE regress_viewmgr_nologin;
CREATE TABLE vm_roles.t (id int PRIMARY KEY, v int);
INSERT INTO vm_roles.t VALUES (1, 10), (2, 20);
SELECT viewmgr.register('vm_roles.a', 'SELECT id, v FROM vm_roles.t', materialized => true);
SELECT viewmgr.register('vm_roles.b', 'SELECT sum(v) AS total FROM vm_roles.t',
                        materialized => true);
SELECT viewmgr.register('vm_roles.c', 'SELECT total * 2 AS twice FROM vm_roles.b',
                        materialized => true);
RESET ROLE;

SET SESSION AUTHORIZATION regress_viewmgr_nologin;
SELECT session_user, current_user;
UPDATE vm_roles.t SET v = v + 1;
SELECT view_name, action, detail FROM viewmgr.refresh_all(parallel => 2) ORDER BY view_name;
SELECT * FROM vm_roles.c;
RESET SESSION AUTHORIZATION;
SELECT session_user;

--
-- Clean up.
--
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_roles CASCADE;
DROP ROLE regress_viewmgr_nologin;
