"""The test project: one app of view classes over a throwaway cluster named by the
libpq environment (PGHOST, PGPORT, PGUSER), as scripts/run_tests.sh sets it."""
import os

SECRET_KEY = "django_viewmgr tests only"
USE_TZ = True
INSTALLED_APPS = ["viewtest", "django_viewmgr"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("VIEWMGR_DJANGO_DB", "viewmgr_django"),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        "USER": os.environ.get("PGUSER", "postgres"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False}
