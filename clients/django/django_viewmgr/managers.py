from django.db import models


class ReadOnlyViewQuerySet(models.QuerySet):
    """A queryset over a view that refuses every write (as django-pgviews-redux's does)."""

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError("Not allowed: this model is a read-only view")

    delete = update = _update = create = update_or_create = get_or_create = bulk_create = bulk_update = _refuse

    def _raw_delete(self, *args, **kwargs):
        return 0


class ReadOnlyViewManager(models.Manager.from_queryset(ReadOnlyViewQuerySet)):
    pass
