class SQLNotDefinedError(Exception):
    """A view class has neither `sql` nor a `get_sql()` of its own."""


class ConcurrentIndexNotDefinedError(Exception):
    """refresh(concurrently=True, strict=True) on a materialized view without a unique index."""


class ExtensionMissingError(Exception):
    """The database has no pg_viewmgr extension (CREATE EXTENSION pg_viewmgr)."""
