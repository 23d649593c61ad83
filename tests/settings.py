"""Test settings: the real settings plus what makes tests fast and isolated.

DATABASE_URL / CELERY_BROKER_URL from the environment are honoured, so CI runs
the same suite on PostgreSQL + Redis.
"""

import os
import secrets
import tempfile

os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# One name per test run and xdist worker, inherited by the subprocesses a test starts (a Celery
# worker, ``check --deploy``): it keeps runs that share a Redis server or a directory apart.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# The pid alone is not unique where runs on several machines (CI jobs) share one Redis: add a random token.
os.environ.setdefault("PORTAL_TEST_RUN_ID", f"{os.getpid()}-{secrets.token_hex(4)}")
RUN_NAME = f"{os.environ['PORTAL_TEST_RUN_ID']}{_WORKER}"
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-test-"))
if _WORKER and os.path.basename(os.environ["PORTAL_VAR_DIR"]) != _WORKER:
    # xdist workers inherit the controller's directory: each gets its own (files are named by row ids)
    os.environ["PORTAL_VAR_DIR"] = os.path.join(os.environ["PORTAL_VAR_DIR"], _WORKER)
    os.makedirs(os.environ["PORTAL_VAR_DIR"], exist_ok=True)

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL"):
    CACHES = {"default": __import__("environ").Env.cache_url_config(os.environ["CACHE_URL"])}
    if CACHES["default"]["BACKEND"].endswith("RedisCache"):
        CACHES["default"].update(BACKEND="tests.cache.RunRedisCache", KEY_PREFIX=f"t{RUN_NAME}")
# Never FLUSHDB: every key this run writes to a shared Redis carries the run's name (the cache's
# KEY_PREFIX, tests.cache.RunRedisCache.clear deletes only those; the Azure limiter's prefix below).
PORTAL_REDIS_KEY_PREFIX = f"t{RUN_NAME}"
if CELERY_BROKER_URL.startswith(("redis", "rediss")):  # noqa: F405
    # Queues of their own: a worker of another run (or xdist worker) must not take our messages.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "global_keyprefix": f"t{RUN_NAME}:",  # noqa: F405
    }
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
AXES_ENABLED = False  # turned on by the tests that exercise lockout
PORTAL_BASE_URL = "http://testserver"
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Several test runs may share one PostgreSQL server (parallel developers, CI):
# each run gets its own test database, dropped at the end of the run.
if not DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_portal_{os.getpid()}"}  # noqa: F405  (xdist adds _gwN)
