import logging

from django.apps import AppConfig
from django.conf import settings
from django.db.models import signals

logger = logging.getLogger("django_viewmgr.sync_pgviews")


class ViewmgrConfig(AppConfig):
    name = "django_viewmgr"
    label = "django_viewmgr"
    verbose_name = "PostgreSQL views managed by pg_viewmgr"

    def ready(self):
        if getattr(settings, "MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE", False):
            return
        # Django sends post_migrate once per app; listening to this app's alone gives one
        # declare() per migrate. Every app's models are loaded and every migration has run
        # by then, whichever place this app has in INSTALLED_APPS.
        signals.post_migrate.connect(self.sync_on_migrate, sender=self)

    def sync_on_migrate(self, sender, using, plan=None, **kwargs):
        from .sync import sync_views

        logger.info("migrate finished: declaring the views of every app")
        sync_views(using=using, force=True, update=True)
