from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from django_viewmgr.sync import status_rows


class Command(BaseCommand):
    help = "Print viewmgr.status: every managed view with its state (fresh, stale, missing, ...)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help='The database to report on (default: "default").')

    def handle(self, *args, database, **options):
        rows = status_rows(using=database)
        header = ("view_name", "kind", "state", "last_refreshed_at", "last_error")
        table = [header] + [tuple("" if v is None else str(v) for v in row) for row in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
