"""Turning the project's view classes into one viewmgr.declare() call, and the refresh,
clear and status operations the management commands run."""

import json
import logging

from django.apps import apps
from django.db import transaction

from .exceptions import ExtensionMissingError
from .signals import all_views_synced, view_synced
from .view import MaterializedView, View

logger = logging.getLogger("django_viewmgr.sync_pgviews")

# declare()'s actions in the status vocabulary of django-pgviews-redux's view_synced signal
_STATUS_OF_ACTION = {
    "created": "CREATED",
    "replaced": "UPDATED",
    "rebuilt": "UPDATED",
    "unchanged": "EXISTS",
}


def view_classes():
    """Every concrete view class of every installed app."""
    return [m for m in apps.get_models() if isinstance(m, type) and issubclass(m, View)]


def python_name(view_cls):
    return f"{view_cls._meta.app_label}.{view_cls.__name__}"


def sql_name(view_cls, connection):
    """The view's name as pg_viewmgr should parse it. `db_table` is what the ORM quotes as
    one identifier, so a plain name is passed quoted (mixed case stays mixed case); a
    'schema.name' with no quotes in it is django-pgviews-redux's schema-qualified form, and
    'schema"."name' the ORM-compatible one (quoted it reads "schema"."name")."""
    table = view_cls._meta.db_table
    if "." in table and '"' not in table:
        return table
    return connection.ops.quote_name(table)


def _resolve_dependency(label):
    app_label, _, model_name = label.partition(".")
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        raise LookupError(f"unknown view dependency {label!r} (expected 'app_label.ModelName')")


def _definition(view_cls, connection):
    query, params = view_cls.get_sql()
    query = query.strip()
    while query.endswith(";"):
        query = query[:-1].rstrip()
    if params:
        # pg_viewmgr stores a definition, not a statement with parameters: bind them here,
        # the way psycopg2 would have sent them.
        with connection.cursor() as cursor:
            query = cursor.cursor.mogrify(query, params).decode("utf-8")
    return query


def _index_specs(view_cls, connection):
    """concurrent_index and Meta.indexes as pg_viewmgr index specifications ('UNIQUE (id)',
    'USING gin (tsv)', '(day) WHERE ...'): what follows the table name in CREATE INDEX."""
    specs = []
    if view_cls._concurrent_index is not None:
        spec = f"UNIQUE ({view_cls._concurrent_index})"
        if view_cls._concurrent_index_tablespace:
            spec += f" TABLESPACE {view_cls._concurrent_index_tablespace}"
        specs.append(spec)
    if view_cls._meta.indexes:
        editor = connection.schema_editor(collect_sql=True, atomic=False)
        quoted_table = connection.ops.quote_name(view_cls._meta.db_table)
        for index in view_cls._meta.indexes:
            statement = str(index.create_sql(view_cls, editor))
            marker = f" ON {quoted_table}"
            if marker not in statement:
                raise ValueError(f"cannot turn index {index.name!r} of {python_name(view_cls)} into a"
                                 f" pg_viewmgr index specification: {statement}")
            specs.append(statement.split(marker, 1)[1].strip())
    return specs


def declarations(classes, connection):
    """The JSON array declare() takes, one object per view class."""
    by_label = {python_name(c): c for c in classes}
    views = []
    for view_cls in classes:
        materialized = issubclass(view_cls, MaterializedView)
        depends_on = []
        for label in view_cls._dependencies:
            dependency = by_label.get(label) or _resolve_dependency(label)
            # pg_viewmgr reads the dependencies off the definition; a declared one it also
            # sees is harmless, and one it cannot see (a view read through a function) is
            # exactly what depends_on is for.
            depends_on.append(sql_name(dependency, connection))
        entry = {
            "view_name": sql_name(view_cls, connection),
            "definition": _definition(view_cls, connection),
            "materialized": materialized,
            "depends_on": depends_on,
        }
        if materialized:
            entry["indexes"] = _index_specs(view_cls, connection)
            entry["with_data"] = bool(view_cls.with_data)
        views.append(entry)
    return views


def _classes_for(using):
    return [c for c in view_classes() if c.get_view_connection(using=using, restricted_mode=True)]


def _require_extension(cursor):
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_viewmgr'")
    if cursor.fetchone() is None:
        raise ExtensionMissingError(
            "the pg_viewmgr extension is not installed in this database: run migrate (the "
            "django_viewmgr app's first migration creates it) or CREATE EXTENSION pg_viewmgr")


def _display_names(cursor, classes, connection):
    """Each class's name as pg_viewmgr reports it (schema-qualified, quoted where needed)."""
    names = [sql_name(c, connection) for c in classes]
    cursor.execute(
        "SELECT n, (SELECT pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
        "             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace"
        "            WHERE c.oid = pg_catalog.to_regclass(n))"
        "  FROM unnest(%s::text[]) AS n", [names])
    display = dict(cursor.fetchall())
    return {c: display.get(sql_name(c, connection)) for c in classes}


def _adopt_existing(cursor, classes, connection):
    """Takes over, as they are, the views of these classes that exist but are not managed
    yet: the ones django-pgviews-redux built before the switch. Without this, declare()
    would take a materialized view over by rebuilding it (recomputing its rows); adopted, it
    keeps its rows and the declare that follows changes only what differs (its indexes, or
    its definition if that changed too)."""
    kinds = [("m" if issubclass(c, MaterializedView) else "v") for c in classes]
    cursor.execute(
        "SELECT n FROM unnest(%s::text[], %s::text[]) AS w(n, kind)"
        "  JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(w.n) AND c.relkind::text = w.kind"
        "  JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace"
        " WHERE NOT EXISTS (SELECT FROM viewmgr.managed_view m"
        "                    WHERE m.schema_name = ns.nspname AND m.relation_name = c.relname)",
        [[sql_name(c, connection) for c in classes], kinds])
    for (name,) in cursor.fetchall():
        cursor.execute("SELECT viewmgr.adopt(%s)", [name])
        logger.info("pgview %s existed unmanaged: taken over as it is", name)


def sync_views(using="default", force=False, update=True):
    """One declare() with every view class that belongs on `using`; sends view_synced for each
    and all_views_synced at the end. Returns {class: action}."""
    classes = _classes_for(using)
    from django.db import connections
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _require_extension(cursor)
        _adopt_existing(cursor, classes, connection)
        payload = json.dumps(declarations(classes, connection))
        cursor.execute("SELECT view_name, action, reason FROM viewmgr.declare(%s::jsonb)", [payload])
        rows = cursor.fetchall()
        action_of = {name: (action, reason) for name, action, reason in rows}
        display = _display_names(cursor, classes, connection)
    results = {}
    for view_cls in classes:
        action, reason = action_of.get(display[view_cls], ("unchanged", None))
        status = _STATUS_OF_ACTION.get(action, action.upper())
        results[view_cls] = action
        (logger.debug if action == "unchanged" else logger.info)(
            "pgview %s %s%s", python_name(view_cls), action, f" ({reason})" if reason else "")
        view_synced.send(sender=view_cls, update=update, force=force, status=status,
                         has_changed=status != "EXISTS", using=using)
    all_views_synced.send(sender=None, using=using)
    return results


def _in_dependency_order(cursor, classes, connection):
    display = _display_names(cursor, classes, connection)
    cursor.execute("SELECT view_name FROM viewmgr.dependency_order() ORDER BY step")
    step = {name: i for i, (name,) in enumerate(cursor.fetchall())}
    return sorted(classes, key=lambda c: step.get(display[c], len(step)))


def refresh_views(using="default", concurrently=False, strict=False):
    """Refreshes every materialized view class on `using`, sources before readers."""
    from django.db import connections
    connection = connections[using]
    classes = [c for c in _classes_for(using) if issubclass(c, MaterializedView)]
    with connection.cursor() as cursor:
        _require_extension(cursor)
        ordered = _in_dependency_order(cursor, classes, connection)
    for view_cls in ordered:
        view_cls.refresh(concurrently=concurrently, strict=strict)
        logger.info("pgview %s refreshed", python_name(view_cls))
    return ordered


def clear_views(using="default"):
    """Unregisters and drops every view class on `using`, readers first. Views something
    unmanaged depends on are refused (pg_viewmgr never drops what it does not manage)."""
    from django.db import connections
    connection = connections[using]
    classes = _classes_for(using)
    dropped = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _require_extension(cursor)
        ordered = _in_dependency_order(cursor, classes, connection)
        cursor.execute("SELECT pg_catalog.quote_ident(schema_name) || '.' || pg_catalog.quote_ident(relation_name)"
                       "  FROM viewmgr.managed_view")
        managed = {name for (name,) in cursor.fetchall()}
        display = _display_names(cursor, classes, connection)
        for view_cls in reversed(ordered):
            if display[view_cls] not in managed:
                continue
            cursor.execute("SELECT viewmgr.unregister(%s, drop_view => true)", [display[view_cls]])
            dropped.append(view_cls)
            logger.info("%s (%s): dropped", python_name(view_cls), view_cls._meta.db_table)
    return dropped


def status_rows(using="default"):
    from django.db import connections
    with connections[using].cursor() as cursor:
        _require_extension(cursor)
        cursor.execute("SELECT view_name, kind, state, last_refreshed_at, last_error FROM viewmgr.status"
                       " ORDER BY view_name")
        return cursor.fetchall()
