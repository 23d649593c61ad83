"""Test settings: the real settings plus what makes tests fast and isolated.

DATABASE_URL / CELERY_BROKER_URL from the environment are honoured, so CI runs
the same suite on PostgreSQL + Redis.
"""

import os
import tempfile

os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-test-"))
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL"):
    CACHES = {"default": __import__("environ").Env.cache_url_config(os.environ["CACHE_URL"])}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
AXES_ENABLED = False  # turned on by the tests that exercise lockout
PORTAL_BASE_URL = "http://testserver"
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Several test runs may share one PostgreSQL server (parallel developers, CI):
# each run gets its own test database, dropped at the end of the run.
if not DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_portal_{os.getpid()}"}  # noqa: F405
