from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        # the schema of the schema-qualified views
        migrations.RunSQL("CREATE SCHEMA IF NOT EXISTS reports", "DROP SCHEMA IF EXISTS reports"),
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("event", models.CharField(max_length=100)),
                ("count", models.IntegerField()),
            ],
            options={"db_table": "foo_events"},
        ),
    ]
