"""The view classes: Django models whose table is a view or a materialized view that
pg_viewmgr builds. The class attributes are django-pgviews-redux's."""

__all__ = ["View", "ReadOnlyView", "MaterializedView", "ReadOnlyMaterializedView", "ViewSQL"]

import collections
import copy
import logging
import re
from typing import Any, List, NamedTuple, Optional

from django.apps import apps
from django.core import exceptions
from django.db import connections, models, router

from .exceptions import ConcurrentIndexNotDefinedError, SQLNotDefinedError
from .managers import ReadOnlyViewManager

logger = logging.getLogger("django_viewmgr.view")

# "app_label.ModelName.field" or "app_label.ModelName.*"
_PROJECTION_SPEC = re.compile(r"^([A-Za-z_]\w*)\.([A-Za-z_]\w*)\.(\*|[A-Za-z_]\w*)$")


class ViewSQL(NamedTuple):
    query: str
    params: Optional[List[Any]]


def _has_field(model_cls, name):
    try:
        model_cls._meta.get_field(name)
        return True
    except exceptions.FieldDoesNotExist:
        return False


# Projections waiting for the model they copy fields from to be prepared:
# (app_label, model_name) -> {view class: [field name or "*", ...]}
_pending_projections = collections.defaultdict(lambda: collections.defaultdict(list))


def _project_pending_fields(sender, **kwargs):
    """Copies the projected fields of `sender` onto the views waiting for them."""
    key = (sender._meta.app_label, sender.__name__.lower())
    for view_cls, names in _pending_projections.pop(key, {}).items():
        if "*" in names:
            fields = {field.name: field for field in sender._meta.fields}
        else:
            fields = {name: sender._meta.get_field(name) for name in names}
        for name, field in fields.items():
            # A field or attribute the view declares itself wins over a projected one.
            if hasattr(view_cls, name) or _has_field(view_cls, name):
                continue
            copy.copy(field).contribute_to_class(view_cls, name)


models.signals.class_prepared.connect(_project_pending_fields)


def _project_if_loaded(app_label, model_name):
    try:
        model_cls = apps.get_model(app_label, model_name)
    except (exceptions.AppRegistryNotReady, LookupError):
        return  # class_prepared will do it
    _project_pending_fields(model_cls)


class ViewMeta(models.base.ModelBase):
    """Takes the view-only class attributes out before Django sees the class."""

    def __new__(mcs, name, bases, attrs, **kwargs):
        dependencies = attrs.pop("dependencies", [])
        projection = attrs.pop("projection", [])
        concurrent_index = attrs.pop("concurrent_index", None)
        concurrent_index_tablespace = attrs.pop("concurrent_index_tablespace", None)

        deferred = []
        for spec in projection:
            if isinstance(spec, models.Field):
                attrs[spec.name] = copy.copy(spec)
                continue
            match = _PROJECTION_SPEC.match(spec) if isinstance(spec, str) else None
            if not match:
                raise TypeError(f"Unrecognized field specifier: {spec!r}")
            deferred.append(match.groups())

        view_cls = super().__new__(mcs, name, bases, attrs, **kwargs)
        view_cls._dependencies = list(dependencies)
        view_cls._concurrent_index = concurrent_index
        view_cls._concurrent_index_tablespace = concurrent_index_tablespace
        for app_label, model_name, field_name in deferred:
            _pending_projections[(app_label, model_name.lower())][view_cls].append(field_name)
            _project_if_loaded(app_label, model_name)
        return view_cls

    def add_to_class(cls, name, value):
        # The read-only classes set _base_manager to their own manager as a plain attribute.
        if name == "_base_manager":
            return
        super().add_to_class(name, value)


class _BaseManagerMeta:
    base_manager_name = "objects"


class View(models.Model, metaclass=ViewMeta):
    """A model whose table is a PostgreSQL view defined by `sql` (or `get_sql()`)."""

    sql: Optional[str] = None

    @classmethod
    def get_sql(cls) -> ViewSQL:
        if cls.sql is None:
            raise SQLNotDefinedError(f"View SQL not defined for {cls.__name__}")
        return ViewSQL(cls.sql, None)

    @classmethod
    def get_view_connection(cls, using, restricted_mode=True):
        """The connection `using`; in restricted mode None where the router does not let
        this app migrate on that database (the view does not belong there)."""
        if not restricted_mode or router.allow_migrate(using, cls._meta.app_label):
            return connections[using]
        return None

    class Meta:
        abstract = True
        managed = False


class ReadOnlyView(View):
    """A view whose queryset refuses writes."""

    _base_manager = ReadOnlyViewManager()
    objects = ReadOnlyViewManager()

    class Meta(_BaseManagerMeta):
        abstract = True
        managed = False


class MaterializedView(View):
    """A model whose table is a materialized view; `refresh()` goes through viewmgr.refresh,
    which records the refresh (status, history) and knows when the view is stale."""

    with_data: bool = True

    @classmethod
    def refresh(cls, concurrently: bool = False, strict: bool = False) -> None:
        conn = cls.get_view_connection(using=router.db_for_write(cls), restricted_mode=False)
        if concurrently and cls._concurrent_index is None and not _has_unique_meta_index(cls):
            if strict:
                raise ConcurrentIndexNotDefinedError(
                    f"Cannot refresh concurrently without concurrent index on {cls.__name__}"
                )
            logger.warning("Cannot refresh concurrently without concurrent index on %s", cls.__name__)
            concurrently = False
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT action FROM viewmgr.refresh(%s, concurrently => %s)",
                [cls._meta.db_table, bool(concurrently)],
            )
            cursor.fetchall()

    class Meta:
        abstract = True
        managed = False


class ReadOnlyMaterializedView(MaterializedView):
    """A materialized view whose queryset refuses writes."""

    _base_manager = ReadOnlyViewManager()
    objects = ReadOnlyViewManager()

    class Meta(_BaseManagerMeta):
        abstract = True
        managed = False


def _has_unique_meta_index(view_cls):
    return any(getattr(index, "unique", False) for index in view_cls._meta.indexes)
