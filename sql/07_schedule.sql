-- Scheduling with pg_cron: the test cluster preloads pg_cron with cron.database_name =
-- postgres, so from this database the job is created across databases. The test waits for
-- a real run (pg_cron's finest schedule is one minute) and finds it in viewmgr.history.
\set VERBOSITY terse
CREATE EXTENSION pg_viewmgr;
CREATE SCHEMA vm_cron;
CREATE TABLE vm_cron.readings (id int PRIMARY KEY, value int);
INSERT INTO vm_cron.readings SELECT g, g FROM generate_series(1, 50) g;
SELECT viewmgr.register('vm_cron.totals', 'SELECT sum(value) AS total FROM vm_cron.readings',
                        materialized => true);

-- Scheduling again under the same name updates the same job.
SELECT viewmgr.schedule('* * * * *') AS first_id \gset
SELECT viewmgr.schedule('* * * * *') = :first_id AS same_job;
SELECT viewmgr.schedule('*/5 * * * *', job_name => 'vm_cron_nightly', only_stale => false) <> :first_id
  AS other_job;
SELECT viewmgr.unschedule('vm_cron_nightly') AS removed, viewmgr.unschedule('vm_cron_nightly') AS removed_again;

-- Make the view stale, then wait for pg_cron to run refresh_all() here.
UPDATE vm_cron.readings SET value = value + 1 WHERE id = 1;
SELECT state FROM viewmgr.status WHERE view_name = 'vm_cron.totals';
DO $$
BEGIN
  FOR i IN 1 .. 150 LOOP
    PERFORM 1 FROM viewmgr.history
     WHERE view_name = 'vm_cron.totals' AND operation = 'refresh' AND outcome = 'succeeded';
    EXIT WHEN FOUND;
    PERFORM pg_sleep(1);
  END LOOP;
END $$;
SELECT view_name, operation, outcome, detail FROM viewmgr.history
 WHERE view_name = 'vm_cron.totals' AND operation = 'refresh' ORDER BY id LIMIT 1;
SELECT state, last_refreshed_at IS NOT NULL AS refreshed FROM viewmgr.status
 WHERE view_name = 'vm_cron.totals';
SELECT total FROM vm_cron.totals;

SELECT viewmgr.unschedule() AS removed;
SELECT viewmgr.schedule(NULL);
DROP EXTENSION pg_viewmgr;
DROP SCHEMA vm_cron CASCADE;
