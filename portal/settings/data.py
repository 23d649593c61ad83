"""Database and cache."""

from __future__ import annotations

import environ

from portal.config import ConfigError, env_database, env_int, env_str
from portal.settings.base import VAR_DIR

# --- Database and cache -----------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one SQLite file: wait for locks instead of
    # failing, take the write lock up front, and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Also read by the Azure rate limiter, which shares the portal's Redis (cache first, then broker)
# and names its keys with PORTAL_REDIS_KEY_PREFIX (two portals, or test runs, on one Redis stay apart).
PORTAL_REDIS_KEY_PREFIX = env_str("PORTAL_REDIS_KEY_PREFIX", "portal")
PORTAL_CACHE_URL = env_str("CACHE_URL", "")
PORTAL_REDIS_URL = env_str("REDIS_URL", "")
_CACHE_URL = PORTAL_CACHE_URL or PORTAL_REDIS_URL
if _CACHE_URL:
    try:
        CACHES = {"default": environ.Env.cache_url_config(_CACHE_URL)}
    except Exception as exc:
        raise ConfigError(f"CACHE_URL: cannot parse {_CACHE_URL!r}: {exc}")
else:
    # Shared by web, worker and beat processes on one machine (rate limits, tokens buckets).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
