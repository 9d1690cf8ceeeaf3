from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from django_viewmgr.sync import sync_views


class Command(BaseCommand):
    help = "Declare every view class of the installed apps to pg_viewmgr (one viewmgr.declare())."

    def add_arguments(self, parser):
        # Kept so that existing scripts and deploy steps still run. pg_viewmgr rebuilds a
        # view whose columns changed incompatibly on its own, dependents included, so
        # --force changes nothing; it never rebuilds what did not change, so the
        # check-SQL-changed switches have nothing left to switch.
        parser.add_argument("--force", action="store_true", default=False,
                            help="Accepted for django-pgviews-redux compatibility; pg_viewmgr always "
                                 "rebuilds incompatible changes, keeping dependents.")
        parser.add_argument("--no-update", action="store_false", dest="update", default=True,
                            help="Accepted for compatibility (reported in the view_synced signal).")
        parser.add_argument("-E", "--enable-materialized-views-check-sql-changed", action="store_true",
                            dest="check_sql_changed", default=None,
                            help="Accepted for compatibility: pg_viewmgr always compares definitions.")
        parser.add_argument("-D", "--disable-materialized-views-check-sql-changed", action="store_false",
                            dest="check_sql_changed", default=None,
                            help="Accepted for compatibility: pg_viewmgr always compares definitions.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help='The database to synchronize (default: "default").')

    def handle(self, *args, force, update, database, **options):
        results = sync_views(using=database, force=force, update=update)
        for view_cls, action in results.items():
            self.stdout.write(f"{view_cls._meta.app_label}.{view_cls.__name__}: {action}")
