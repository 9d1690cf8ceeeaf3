from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from django_viewmgr.sync import clear_views


class Command(BaseCommand):
    help = "Unregister and drop every view class of the installed apps (readers first)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help='The database to clear (default: "default").')

    def handle(self, *args, database, **options):
        for view_cls in clear_views(using=database):
            self.stdout.write(f"{view_cls._meta.app_label}.{view_cls.__name__} ({view_cls._meta.db_table}): dropped")
