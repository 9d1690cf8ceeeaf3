from django.db import migrations


class Migration(migrations.Migration):
    """The views are declared on post_migrate, which needs the extension: creating it here
    means a fresh database (a test database included) needs nothing done by hand. IF NOT
    EXISTS: where a DBA already created it, this is a no-op that needs no privilege."""

    initial = True
    dependencies = []
    operations = [
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_viewmgr",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
