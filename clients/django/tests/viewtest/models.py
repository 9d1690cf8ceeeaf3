from django.db import models

from django_viewmgr import view as pg


class Event(models.Model):
    event = models.CharField(max_length=100)
    count = models.IntegerField()

    class Meta:
        db_table = "foo_events"


# The seed article's example (made valid: it groups by event). EventMatView reads
# EventView and says so in `dependencies`, as django-pgviews-redux requires.
class EventView(pg.View):
    event = models.CharField(max_length=100, primary_key=True)
    total = models.IntegerField()

    sql = """
      SELECT foo_events.event, sum(foo_events.count) AS total
      FROM foo_events
      GROUP BY foo_events.event;
    """

    class Meta:
        db_table = "foo_view"
        managed = False


class EventMatView(pg.MaterializedView):
    dependencies = ["viewtest.EventView"]
    concurrent_index = "event"
    event = models.CharField(max_length=100, primary_key=True)
    total = models.IntegerField()

    sql = """SELECT * from foo_view;"""

    class Meta:
        db_table = "foo_mat_view"
        managed = False
        indexes = [models.Index(fields=["total"], name="foo_mat_view_total")]


# Declared before the view it reads and without `dependencies`: pg_viewmgr finds the order.
class BigEventsView(pg.ReadOnlyView):
    event = models.CharField(max_length=100, primary_key=True)
    total = models.IntegerField()

    sql = "SELECT event, total FROM reports.event_totals WHERE total >= 10"

    class Meta:
        db_table = "big_events"
        managed = False


# A view over a view, in a schema of its own; the db_table form the ORM can query.
class EventTotalsView(pg.View):
    event = models.CharField(max_length=100, primary_key=True)
    total = models.IntegerField()

    sql = "SELECT event, total FROM foo_view"

    class Meta:
        db_table = 'reports"."event_totals'
        managed = False


class EmptyMatView(pg.ReadOnlyMaterializedView):
    with_data = False
    event = models.CharField(max_length=100, primary_key=True)

    sql = "SELECT DISTINCT event FROM foo_events"

    class Meta:
        db_table = "empty_mat_view"
        managed = False


# get_sql() with parameters, and fields projected from another model.
class FrequentEventsView(pg.View):
    projection = ["viewtest.Event.event", "viewtest.Event.count"]

    @classmethod
    def get_sql(cls):
        return pg.ViewSQL("SELECT id, event, count FROM foo_events WHERE count > %s", [5])

    class Meta:
        db_table = "frequent_events"
        managed = False
