from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from django_viewmgr.sync import refresh_views


class Command(BaseCommand):
    help = "Refresh every materialized view class of the installed apps, in dependency order."

    def add_arguments(self, parser):
        parser.add_argument("-C", "--concurrently", action="store_true",
                            help="Refresh concurrently where the materialized view has a unique index.")
        parser.add_argument("--strict", action="store_true",
                            help="Fail on a view without a concurrent index instead of refreshing it plainly.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help='The database to refresh (default: "default").')

    def handle(self, *args, concurrently, strict, database, **options):
        for view_cls in refresh_views(using=database, concurrently=concurrently, strict=strict):
            self.stdout.write(f"{view_cls._meta.app_label}.{view_cls.__name__}: refreshed")
