-- pg_viewmgr 0.2.0 -> 0.3.0. Every change to the objects of pg_viewmgr--0.3.0.sql is made
-- here too, in the same order, so that an updated database matches a fresh install object
-- for object (test/shell/upgrade.sh compares their dumps).
\echo Use "ALTER EXTENSION pg_viewmgr UPDATE TO '0.3.0'" to load this file. \quit
