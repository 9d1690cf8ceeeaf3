"""django_viewmgr against a real pg_viewmgr: the test database is built by Django's own
test runner (migrate, hence one viewmgr.declare() on post_migrate); every test runs in a
transaction that is rolled back, DDL included."""

import io

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import signals
from django.test import TestCase, override_settings

from django_viewmgr import signals as viewmgr_signals
from django_viewmgr.exceptions import ConcurrentIndexNotDefinedError
from django_viewmgr.sync import declarations, sync_views

from . import models as m


def query(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def relkind(name):
    rows = query("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [name])
    return rows[0][0] if rows else None


def add_events():
    m.Event.objects.bulk_create([
        m.Event(event="login", count=7), m.Event(event="login", count=5),
        m.Event(event="logout", count=3),
    ])


class ChangedSQL:
    """Gives a view class another definition for the duration of a with block."""

    def __init__(self, view_cls, sql):
        self.view_cls, self.sql = view_cls, sql

    def __enter__(self):
        self.saved = self.view_cls.__dict__["sql"]
        self.view_cls.sql = self.sql

    def __exit__(self, *exc):
        self.view_cls.sql = self.saved


class MigrateBuildsEveryView(TestCase):
    def test_every_view_class_exists_with_its_kind(self):
        self.assertEqual(relkind("foo_view"), "v")
        self.assertEqual(relkind("foo_mat_view"), "m")
        self.assertEqual(relkind("reports.event_totals"), "v")
        self.assertEqual(relkind("big_events"), "v")
        self.assertEqual(relkind("empty_mat_view"), "m")
        self.assertEqual(relkind("frequent_events"), "v")

    def test_every_view_class_is_managed(self):
        managed = {name for (name,) in query(
            "SELECT quote_ident(schema_name) || '.' || quote_ident(relation_name) FROM viewmgr.managed_view")}
        self.assertEqual(managed, {"public.foo_view", "public.foo_mat_view", "reports.event_totals",
                                   "public.big_events", "public.empty_mat_view", "public.frequent_events"})

    def test_seed_article_event_counts(self):
        add_events()
        self.assertEqual({(v.event, v.total) for v in m.EventView.objects.all()},
                         {("login", 12), ("logout", 3)})
        self.assertEqual(m.EventMatView.objects.count(), 0)  # not refreshed yet
        m.EventMatView.refresh()
        self.assertEqual(m.EventMatView.objects.get(event="login").total, 12)

    def test_dependencies_in_any_order(self):
        # BigEventsView is declared before the view it reads, and names no dependency.
        add_events()
        self.assertEqual([v.event for v in m.BigEventsView.objects.all()], ["login"])
        (deps,) = query("SELECT depends_on FROM viewmgr.status WHERE view_name = 'public.big_events'")[0]
        self.assertEqual(deps, ["reports.event_totals"])

    def test_view_over_a_view_in_another_schema(self):
        add_events()
        self.assertEqual(m.EventTotalsView.objects.get(event="logout").total, 3)

    def test_with_data_false_is_unpopulated(self):
        self.assertEqual(query("SELECT ispopulated FROM pg_matviews WHERE matviewname = 'empty_mat_view'"),
                         [(False,)])
        add_events()
        m.EmptyMatView.refresh()
        self.assertEqual(sorted(v.event for v in m.EmptyMatView.objects.all()), ["login", "logout"])

    def test_concurrent_index_and_meta_indexes(self):
        indexes = {d for (d,) in query("SELECT indexdef FROM pg_indexes WHERE tablename = 'foo_mat_view'")}
        self.assertIn("CREATE UNIQUE INDEX foo_mat_view_event_idx ON public.foo_mat_view USING btree (event)",
                      indexes)
        self.assertTrue(any("USING btree (total)" in d and "UNIQUE" not in d for d in indexes), indexes)

    def test_get_sql_with_parameters_and_projection(self):
        add_events()
        self.assertEqual(sorted(v.count for v in m.FrequentEventsView.objects.all()), [7])
        self.assertEqual({f.name for f in m.FrequentEventsView._meta.fields}, {"id", "event", "count"})

    def test_read_only_view_refuses_writes(self):
        with self.assertRaises(NotImplementedError):
            m.BigEventsView.objects.create(event="x", total=1)
        with self.assertRaises(NotImplementedError):
            m.BigEventsView.objects.all().update(total=2)


class Refresh(TestCase):
    def test_refresh_concurrently_with_a_unique_index(self):
        add_events()
        m.EventMatView.refresh()
        m.Event.objects.create(event="logout", count=10)
        m.EventMatView.refresh(concurrently=True)
        self.assertEqual(m.EventMatView.objects.get(event="logout").total, 13)
        self.assertEqual(query("SELECT operation, outcome, detail FROM viewmgr.history"
                               " WHERE view_name = 'public.foo_mat_view' ORDER BY id DESC LIMIT 1"),
                         [("refresh", "succeeded", "concurrently")])

    def test_concurrently_without_an_index(self):
        with self.assertRaises(ConcurrentIndexNotDefinedError):
            m.EmptyMatView.refresh(concurrently=True, strict=True)
        with self.assertLogs("django_viewmgr.view", "WARNING") as logged:
            m.EmptyMatView.refresh(concurrently=True)  # falls back to a plain refresh, as before
        self.assertIn("Cannot refresh concurrently without concurrent index on EmptyMatView", logged.output[0])
        self.assertEqual(query("SELECT ispopulated FROM pg_matviews WHERE matviewname = 'empty_mat_view'"),
                         [(True,)])

    def test_refresh_pgviews_refreshes_every_materialized_view(self):
        add_events()
        out = io.StringIO()
        with self.assertLogs("django_viewmgr.view", "WARNING"):  # EmptyMatView has no unique index
            call_command("refresh_pgviews", "--concurrently", stdout=out)
        self.assertIn("viewtest.EventMatView: refreshed", out.getvalue())
        self.assertIn("viewtest.EmptyMatView: refreshed", out.getvalue())
        self.assertEqual(m.EventMatView.objects.count(), 2)
        self.assertEqual(m.EmptyMatView.objects.count(), 2)

    def test_viewmgr_status_prints_every_view(self):
        out = io.StringIO()
        call_command("viewmgr_status", stdout=out)
        for name in ("public.foo_view", "public.foo_mat_view", "reports.event_totals"):
            self.assertIn(name, out.getvalue())


class Sync(TestCase):
    def ddl_log(self):
        """An event trigger that records every DDL command from here on."""
        query("CREATE TEMP TABLE ddl_seen (tag text)")
        query("""CREATE FUNCTION public.record_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
                 $$BEGIN INSERT INTO ddl_seen VALUES (tg_tag); END$$""")
        query("CREATE EVENT TRIGGER record_ddl ON ddl_command_start EXECUTE FUNCTION public.record_ddl()")

    def test_second_migrate_runs_no_ddl(self):
        self.ddl_log()
        (history_before,) = query("SELECT count(*) FROM viewmgr.history")[0]
        call_command("migrate", verbosity=0)
        self.assertEqual(query("SELECT tag FROM ddl_seen"), [])
        self.assertEqual(query("SELECT count(*) FROM viewmgr.history"), [(history_before,)])
        # the trigger does see what a migrate with a changed view runs
        with ChangedSQL(m.EventTotalsView, "SELECT event, total FROM foo_view WHERE total > 1"):
            call_command("migrate", verbosity=0)
        self.assertEqual(query("SELECT DISTINCT tag FROM ddl_seen"), [("CREATE VIEW",)])

    def test_sync_pgviews_reports_unchanged_and_sends_the_signals(self):
        seen, done = [], []

        def on_view(sender, status, has_changed, using, **kwargs):
            seen.append((sender, status, has_changed, using))

        def on_all(sender, using, **kwargs):
            done.append(using)

        viewmgr_signals.view_synced.connect(on_view)
        viewmgr_signals.all_views_synced.connect(on_all)
        try:
            out = io.StringIO()
            call_command("sync_pgviews", "--force", stdout=out)
        finally:
            viewmgr_signals.view_synced.disconnect(on_view)
            viewmgr_signals.all_views_synced.disconnect(on_all)
        self.assertIn("viewtest.EventMatView: unchanged", out.getvalue())
        self.assertEqual(len(seen), 6)
        self.assertTrue(all(status == "EXISTS" and not changed and using == "default"
                            for _, status, changed, using in seen))
        self.assertEqual(done, ["default"])

    def test_changed_definition_rebuilds_dependents_without_losing_them(self):
        add_events()
        m.EventMatView.refresh()
        # a column type change: CREATE OR REPLACE cannot do it, so foo_view is rebuilt, and
        # with it every view that reads it (three, one of them materialized)
        with ChangedSQL(m.EventView, "SELECT event, sum(count)::integer AS total FROM foo_events GROUP BY event"):
            results = sync_views()
        self.assertEqual(results[m.EventView], "rebuilt")
        for name in ("foo_mat_view", "reports.event_totals", "big_events"):
            self.assertIsNotNone(relkind(name), name)
        self.assertEqual(m.BigEventsView.objects.get().total, 12)
        # the materialized view keeps its indexes and is populated again
        self.assertEqual(m.EventMatView.objects.get(event="login").total, 12)
        self.assertEqual(query("SELECT count(*) FROM pg_indexes WHERE tablename = 'foo_mat_view'"), [(2,)])

    def test_a_filter_added_replaces_the_view(self):
        with ChangedSQL(m.EventTotalsView, "SELECT event, total FROM foo_view WHERE total > 0"):
            results = sync_views()
        self.assertIn(results[m.EventTotalsView], ("replaced", "rebuilt"))
        self.assertEqual(results[m.EventView], "unchanged")

    def test_redundant_dependencies_are_accepted(self):
        # EventMatView's dependency is one pg_viewmgr sees in its definition too.
        entry = next(d for d in declarations([m.EventView, m.EventMatView], connection)
                     if d["view_name"] == '"foo_mat_view"')
        self.assertEqual(entry["depends_on"], ['"foo_view"'])
        self.assertEqual(entry["indexes"], ['UNIQUE (event)', '("total")'])

    def test_clear_pgviews_drops_and_unregisters_every_view(self):
        out = io.StringIO()
        call_command("clear_pgviews", stdout=out)
        for name in ("foo_view", "foo_mat_view", "reports.event_totals", "big_events", "empty_mat_view",
                     "frequent_events"):
            self.assertIsNone(relkind(name), name)
        self.assertEqual(query("SELECT count(*) FROM viewmgr.managed_view"), [(0,)])
        self.assertEqual(relkind("foo_events"), "r")  # the table stays
        # and the next migrate builds them again
        call_command("migrate", verbosity=0)
        self.assertEqual(relkind("foo_mat_view"), "m")

    def test_views_built_before_the_switch_are_taken_over_as_they_are(self):
        # what django-pgviews-redux leaves behind: the views exist, pg_viewmgr does not know them
        add_events()
        m.EventMatView.refresh()
        query("SELECT viewmgr.unregister('big_events', drop_view => false)")
        query("SELECT viewmgr.unregister('foo_mat_view', drop_view => false)")
        query("DROP INDEX foo_mat_view_event_idx")
        query("CREATE UNIQUE INDEX foo_mat_view_event_index ON foo_mat_view (event)")
        m.Event.objects.create(event="logout", count=100)  # the materialized rows are now old
        (history_before,) = query("SELECT max(id) FROM viewmgr.history")[0]
        results = sync_views()
        self.assertEqual(results[m.BigEventsView], "unchanged")
        self.assertEqual(results[m.EventMatView], "replaced")  # its unique index, under pg_viewmgr's name
        self.assertEqual(query("SELECT count(*) FROM viewmgr.history WHERE id > %s AND operation = 'rebuild'",
                               [history_before]), [(0,)])
        self.assertEqual(m.EventMatView.objects.get(event="logout").total, 3)  # rows kept, not recomputed
        self.assertEqual(query("SELECT count(*) FROM viewmgr.managed_view"), [(6,)])

    def test_sync_disabled_on_migrate_by_the_setting(self):
        config = apps.get_app_config("django_viewmgr")
        self.assertTrue(signals.post_migrate.disconnect(config.sync_on_migrate, sender=config))
        try:
            with override_settings(MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE=True):
                config.ready()
            self.assertFalse(signals.post_migrate.disconnect(config.sync_on_migrate, sender=config))
        finally:
            config.ready()
        query("SELECT viewmgr.unregister('big_events')")
        with override_settings(MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE=True):
            signals.post_migrate.disconnect(config.sync_on_migrate, sender=config)
            try:
                call_command("migrate", verbosity=0)
                self.assertIsNone(relkind("big_events"))
            finally:
                config.ready()
