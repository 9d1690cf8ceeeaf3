"""django_viewmgr: django-pgviews-redux's model API (View, MaterializedView, ...) with
pg_viewmgr doing the work in the database: one viewmgr.declare() per migrate, in whatever
order pg_viewmgr finds the views depend on each other, and no DDL when nothing changed."""
