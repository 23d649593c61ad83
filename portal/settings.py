"""Settings for the Privacy & Abuse Portal.

Everything an operator sets comes from the environment (or an optional `.env`
file next to manage.py) through the helpers in `portal.config`, which stop
start-up with a one-line message naming the variable on a bad value.

The defaults are the *embedded default*: SQLite and Celery's filesystem broker
under `var/`, e-mail written to files in `var/mail/`. Set DATABASE_URL,
CELERY_BROKER_URL and EMAIL_URL to run on PostgreSQL, Redis/RabbitMQ and SMTP.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import environ

from portal.config import (
    ConfigError,
    env_bool,
    env_broker,
    env_choice,
    env_database,
    env_email,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET = "dev-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnopqrstuvwxyz"
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env_str("SECRET_KEY", "")
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET:
        raise ConfigError("SECRET_KEY: production (DJANGO_DEBUG=false) needs a random key of 50+ characters")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ConfigError("ALLOWED_HOSTS: production (DJANGO_DEBUG=false) needs the site's host names, comma-separated")

# Previous SECRET_KEYs, still accepted (sessions, backup codes) while a new one is rolled out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# Keys for HMAC signatures on receipts and webhooks. The first is used to sign;
# all are accepted when verifying, so a key can be rotated without breaking
# receipts already issued.
PORTAL_SIGNING_KEYS = env_list("PORTAL_SIGNING_KEYS", [SECRET_KEY])
# Deletion receipts are signed with Ed25519 keys kept in this file (requests_app/engine/receipt_keys.py).
# The embedded default creates it under var/ on first use; production sets a path that every web and
# worker machine shares, and creates it once with `manage.py rotate_receipt_key`.
PORTAL_RECEIPT_KEY_FILE = env_str("PORTAL_RECEIPT_KEY_FILE", str(VAR_DIR / "receipt-signing-keys.json"))
PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = DEBUG  # never in production: see requests_app/engine/receipt_keys.py

# --- The portal's own settings ------------------------------------------------
PORTAL_APP_NAME = env_str("PORTAL_APP_NAME", "Example App")
PORTAL_OPERATOR_NAME = env_str("PORTAL_OPERATOR_NAME", "Example Ltd")
PORTAL_OPERATOR_CONTACT = env_str("PORTAL_OPERATOR_CONTACT", "privacy@example.com")
# Not derived from PORT: honcho gives every Procfile process its own PORT (web 8000, worker 8100,
# beat 8200), and links in e-mails the worker sends must point at the web. `make run` exports
# PORTAL_BASE_URL=http://127.0.0.1:$(PORT) so every process agrees (issue 19).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
PORTAL_DEFAULT_JURISDICTION = env_str("PORTAL_DEFAULT_JURISDICTION", "gdpr")
if PORTAL_DEFAULT_JURISDICTION not in {"gdpr", "ccpa", "other"}:
    raise ConfigError("PORTAL_DEFAULT_JURISDICTION: must be gdpr, ccpa or other")
# Extra identifiers the request form asks for, e.g. "username,phone".
PORTAL_EXTRA_IDENTIFIERS = env_list("PORTAL_EXTRA_IDENTIFIERS", ["username"])
PORTAL_VERIFY_LINK_HOURS = env_int("PORTAL_VERIFY_LINK_HOURS", 72, minimum=1)
# Approved as soon as verified: access requests, and the erasure a consent withdrawal starts
# (the subject's own act, limited to the data sent under that purpose).
PORTAL_AUTO_APPROVE = env_list("PORTAL_AUTO_APPROVE", ["access", "consent_withdrawal"])
PORTAL_DELETION_GRACE_HOURS = env_int("PORTAL_DELETION_GRACE_HOURS", 0, minimum=0)
PORTAL_PACKAGE_DAYS = env_int("PORTAL_PACKAGE_DAYS", 7, minimum=1)
# A repeat access request this many days after one completed is answered with that package while it is
# still downloadable, instead of running again (0: always run again).
PORTAL_REPEAT_ACCESS_DAYS = env_int("PORTAL_REPEAT_ACCESS_DAYS", 30, minimum=0)
PORTAL_PACKAGE_MAX_DOWNLOADS = env_int("PORTAL_PACKAGE_MAX_DOWNLOADS", 5, minimum=1)
PORTAL_REQUEST_RETENTION_DAYS = env_int("PORTAL_REQUEST_RETENTION_DAYS", 730, minimum=1)
# Data Rights Protocol (requests_app/drp): the business id agents address (empty: DRP endpoints answer 404),
# and whether status callbacks may go to plain http:// (only for a local test agent).
PORTAL_DRP_BUSINESS_ID = env_str("PORTAL_DRP_BUSINESS_ID", "")
PORTAL_DRP_ALLOW_HTTP_CALLBACKS = env_bool("PORTAL_DRP_ALLOW_HTTP_CALLBACKS", DEBUG)
# Global Privacy Control (requests_app/gpc.py): "lastUpdate" of /.well-known/gpc.json, the day the operator
# last changed how the site honours the signal.
PORTAL_GPC_LAST_UPDATE = env_str("PORTAL_GPC_LAST_UPDATE", "2026-12-07")
if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", PORTAL_GPC_LAST_UPDATE):
    raise ConfigError("PORTAL_GPC_LAST_UPDATE: expected a date as YYYY-MM-DD")
# Privacy-request forms (web): submissions per client IP, and per e-mail address entered.
PORTAL_REQUEST_RATE = env_rate("PORTAL_REQUEST_RATE", "10/hour")
PORTAL_REQUEST_EMAIL_RATE = env_rate("PORTAL_REQUEST_EMAIL_RATE", "5/day")
PORTAL_STORES_FILE = env_str("PORTAL_STORES_FILE", str(BASE_DIR / "docs" / "examples" / "stores.toml"))
PORTAL_PRIVATE_ROOT = VAR_DIR / "private"
PORTAL_ONCALL_EMAIL = env_str("PORTAL_ONCALL_EMAIL", "oncall@example.com")
# Where the daily anchor of the audit hash chain goes (portal/audit_chain.py): a mailbox outside the portal.
PORTAL_AUDIT_ANCHOR_EMAIL = env_str("PORTAL_AUDIT_ANCHOR_EMAIL", PORTAL_ONCALL_EMAIL)
# Execution engine (requests_app.engine): a running store task whose heartbeat is
# older than this is taken to be lost (worker killed) and run again; a handed-out
# task whose message nobody picked up within LOST seconds (its queue empty) is sent
# again; transient errors are retried this many times with exponential backoff.
# With the beat sweep every 2 s (PORTAL_ENGINE_SWEEP_SECONDS), lost work re-runs within 10 s.
PORTAL_STORE_TASK_STALE_SECONDS = env_int("PORTAL_STORE_TASK_STALE_SECONDS", 6, minimum=2)
PORTAL_STORE_TASK_LOST_SECONDS = env_int("PORTAL_STORE_TASK_LOST_SECONDS", 5, minimum=1)
PORTAL_STORE_TASK_MAX_ATTEMPTS = env_int("PORTAL_STORE_TASK_MAX_ATTEMPTS", 6, minimum=1)
# Finishing a request (package or receipt) is retried with backoff this many times, then staff decide.
PORTAL_FINISH_MAX_ATTEMPTS = env_int("PORTAL_FINISH_MAX_ATTEMPTS", 5, minimum=1)
# /healthz: red when one task failed the same way this many times in the last hour ...
PORTAL_HEALTH_REPEATED_FAILURES = env_int("PORTAL_HEALTH_REPEATED_FAILURES", 5, minimum=1)
# ... or when a request has been running for longer than this (seconds).
PORTAL_HEALTH_RUNNING_MAX_SECONDS = env_int("PORTAL_HEALTH_RUNNING_MAX_SECONDS", 6 * 3600, minimum=60)
PORTAL_STORE_TASK_BACKOFF_SECONDS = env_int("PORTAL_STORE_TASK_BACKOFF_SECONDS", 10, minimum=1)
# Prometheus /metrics answers only with "Authorization: Bearer <token>"; unset, it is off (404).
PORTAL_METRICS_TOKEN = env_str("PORTAL_METRICS_TOKEN", "")
PORTAL_REQUIRE_2FA = env_bool("PORTAL_REQUIRE_2FA", not DEBUG)
PORTAL_2FA_INVITE_HOURS = env_int("PORTAL_2FA_INVITE_HOURS", 72, minimum=1)  # second-factor enrolment invites
if not DEBUG and not PORTAL_REQUIRE_2FA:
    raise ConfigError("PORTAL_REQUIRE_2FA: may only be turned off when DJANGO_DEBUG=true")

# Abuse reports (abuse_app; docs/abuse.md).
# Empty: the built-in pointer to national hotlines, translated (abuse_app/hotline.py); a text set here is shown as is.
PORTAL_CHILD_SAFETY_HOTLINE_TEXT = env_str("PORTAL_CHILD_SAFETY_HOTLINE_TEXT", "")
PORTAL_CHILD_SAFETY_HOTLINE_URL = env_str(
    "PORTAL_CHILD_SAFETY_HOTLINE_URL", "https://www.inhope.org/EN#hotlineReferral"
)
PORTAL_ABUSE_WEBHOOK_URL = env_str("PORTAL_ABUSE_WEBHOOK_URL", "")
if PORTAL_ABUSE_WEBHOOK_URL and not PORTAL_ABUSE_WEBHOOK_URL.startswith(("https://", "http://")):
    raise ConfigError("PORTAL_ABUSE_WEBHOOK_URL: expected an http(s) URL of the host app's endpoint")
PORTAL_ABUSE_EVIDENCE_MAX_BYTES = env_int("PORTAL_ABUSE_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
PORTAL_ABUSE_EVIDENCE_MAX_FILES = env_int("PORTAL_ABUSE_EVIDENCE_MAX_FILES", 5, minimum=0)
PORTAL_ABUSE_EVIDENCE_TYPES = env_list(
    "PORTAL_ABUSE_EVIDENCE_TYPES",
    [
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    ],
)
_ABUSE_KNOWN_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "video/mp4",
    "video/quicktime",
    "video/webm",
}
_abuse_unknown_types = sorted(set(PORTAL_ABUSE_EVIDENCE_TYPES) - _ABUSE_KNOWN_TYPES)
if _abuse_unknown_types:
    raise ConfigError(
        f"PORTAL_ABUSE_EVIDENCE_TYPES: unknown {', '.join(_abuse_unknown_types)}; "
        f"choose from {', '.join(sorted(_ABUSE_KNOWN_TYPES))}"
    )
PORTAL_ABUSE_IP_RATE = env_rate("PORTAL_ABUSE_IP_RATE", "20/day")  # notices per IP (form and API together)
PORTAL_ABUSE_EMAIL_RATE = env_rate("PORTAL_ABUSE_EMAIL_RATE", "10/day")  # notices per reporter e-mail
PORTAL_ABUSE_APPEAL_DAYS = env_int("PORTAL_ABUSE_APPEAL_DAYS", 184, minimum=183)  # DSA Art. 20: >= 6 months
PORTAL_ABUSE_LEGAL_HOLD_DAYS = env_int("PORTAL_ABUSE_LEGAL_HOLD_DAYS", 365, minimum=365)  # 18 USC 2258A(h)
PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = env_int("PORTAL_ABUSE_UNFOUNDED_WARN_AFTER", 2, minimum=1)
PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = env_int("PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER", 3, minimum=1)
PORTAL_ABUSE_SUSPENSION_DAYS = env_int("PORTAL_ABUSE_SUSPENSION_DAYS", 30, minimum=1)
# Misuse by an address (no e-mail): only a cooldown, never a suspension (NAT, shared networks).
PORTAL_ABUSE_IP_COOLDOWN_HOURS = env_int("PORTAL_ABUSE_IP_COOLDOWN_HOURS", 1, minimum=1)
# Reporters' names and e-mails are purged this many days after the case and its appeal window closed.
PORTAL_ABUSE_REPORTER_RETENTION_DAYS = env_int("PORTAL_ABUSE_REPORTER_RETENTION_DAYS", 90, minimum=0)
# Statement of reasons (DSA Art. 17): the default territorial scope of a restriction (where the
# service is offered) and the redress routes beyond the internal appeal.
PORTAL_ABUSE_TERRITORIAL_SCOPE = env_str("PORTAL_ABUSE_TERRITORIAL_SCOPE", "EU/EEA")
PORTAL_ABUSE_DISPUTE_BODY = env_str("PORTAL_ABUSE_DISPUTE_BODY", "")
PORTAL_ABUSE_DISPUTE_URL = env_str(
    "PORTAL_ABUSE_DISPUTE_URL", "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement"
)
PORTAL_ABUSE_COURTS = env_str("PORTAL_ABUSE_COURTS", "")

# DSA Transparency Database (Art. 24(5); docs/abuse.md, "DSA duties"): statements of reasons are
# sent only when enabled, to the sandbox until the operator switches to production.
PORTAL_DSA_TDB_ENABLED = env_bool("PORTAL_DSA_TDB_ENABLED", False)
PORTAL_DSA_TDB_ENVIRONMENT = env_choice("PORTAL_DSA_TDB_ENVIRONMENT", "sandbox", ("sandbox", "production"))
PORTAL_DSA_TDB_SANDBOX_URL = env_url("PORTAL_DSA_TDB_SANDBOX_URL", "")
PORTAL_DSA_TDB_PRODUCTION_URL = env_url("PORTAL_DSA_TDB_PRODUCTION_URL", "https://transparency.dsa.ec.europa.eu")
PORTAL_DSA_TDB_URL = (
    PORTAL_DSA_TDB_PRODUCTION_URL if PORTAL_DSA_TDB_ENVIRONMENT == "production" else PORTAL_DSA_TDB_SANDBOX_URL
)
PORTAL_DSA_TDB_TOKEN = env_str("PORTAL_DSA_TDB_TOKEN", "")
if PORTAL_DSA_TDB_ENABLED and not (PORTAL_DSA_TDB_URL and PORTAL_DSA_TDB_TOKEN):
    raise ConfigError(
        "PORTAL_DSA_TDB_ENABLED: needs PORTAL_DSA_TDB_TOKEN and the "
        f"PORTAL_DSA_TDB_{PORTAL_DSA_TDB_ENVIRONMENT.upper()}_URL of the database"
    )
PORTAL_DSA_TDB_TIMEOUT = env_float("PORTAL_DSA_TDB_TIMEOUT", 20.0, minimum=1.0)
# Decisions wait this long before the first send, so that busy hours go out in batches of 100.
PORTAL_DSA_TDB_DELAY_SECONDS = env_int("PORTAL_DSA_TDB_DELAY_SECONDS", 60, minimum=0)
# A sender holds the rows of its call this long; a killed sender's rows are sent again after it.
PORTAL_DSA_TDB_CLAIM_SECONDS = env_int("PORTAL_DSA_TDB_CLAIM_SECONDS", 300, minimum=1)
if PORTAL_DSA_TDB_CLAIM_SECONDS <= PORTAL_DSA_TDB_TIMEOUT:
    raise ConfigError(
        "PORTAL_DSA_TDB_CLAIM_SECONDS: must be longer than PORTAL_DSA_TDB_TIMEOUT, or a slow call "
        "would be sent twice at once"
    )
# Checked against the database's vocabulary when abuse_app starts (AbuseAppConfig.ready): the
# kernel imports no app.
PORTAL_DSA_TDB_CONTENT_TYPES = env_list("PORTAL_DSA_TDB_CONTENT_TYPES", ["CONTENT_TYPE_OTHER"])
PORTAL_DSA_TDB_CONTENT_TYPE_OTHER = env_str("PORTAL_DSA_TDB_CONTENT_TYPE_OTHER", "User content in the app")
# NCMEC CyberTipline reports of confirmed child-safety cases (abuse_app/cybertipline; docs/abuse.md).
# Off unless the API's base URL is set: https://exttest.cybertip.org/ispws (test) or .../ispws on
# report.cybertip.org (production, after registering as an ESP with NCMEC).
PORTAL_CYBERTIPLINE_URL = env_str("PORTAL_CYBERTIPLINE_URL", "").rstrip("/")
PORTAL_CYBERTIPLINE_USERNAME = env_str("PORTAL_CYBERTIPLINE_USERNAME", "")
PORTAL_CYBERTIPLINE_PASSWORD = env_str("PORTAL_CYBERTIPLINE_PASSWORD", "")
PORTAL_CYBERTIPLINE_ENVIRONMENT = env_str("PORTAL_CYBERTIPLINE_ENVIRONMENT", "test")
PORTAL_CYBERTIPLINE_REPORTER_EMAIL = env_str("PORTAL_CYBERTIPLINE_REPORTER_EMAIL", PORTAL_OPERATOR_CONTACT)
PORTAL_CYBERTIPLINE_REPORTER_FIRST_NAME = env_str("PORTAL_CYBERTIPLINE_REPORTER_FIRST_NAME", "")
PORTAL_CYBERTIPLINE_REPORTER_LAST_NAME = env_str("PORTAL_CYBERTIPLINE_REPORTER_LAST_NAME", "")
PORTAL_CYBERTIPLINE_LEGAL_URL = env_str("PORTAL_CYBERTIPLINE_LEGAL_URL", "")
PORTAL_CYBERTIPLINE_TERMS = env_str("PORTAL_CYBERTIPLINE_TERMS", "")
PORTAL_CYBERTIPLINE_MAX_TRIES = env_int("PORTAL_CYBERTIPLINE_MAX_TRIES", 9, minimum=1)
PORTAL_CYBERTIPLINE_GIVE_UP_DAYS = env_int("PORTAL_CYBERTIPLINE_GIVE_UP_DAYS", 30, minimum=1)
PORTAL_CYBERTIPLINE_BACKOFF_SECONDS = env_int("PORTAL_CYBERTIPLINE_BACKOFF_SECONDS", 60, minimum=1)
PORTAL_CYBERTIPLINE_LEASE_SECONDS = env_int("PORTAL_CYBERTIPLINE_LEASE_SECONDS", 300, minimum=10)
# The identity kind (stores file) of the host app's account ids: a reported account's id is held
# under it, with its e-mail addresses, so privacy deletions withhold the account's data (legal hold).
PORTAL_CYBERTIPLINE_ACCOUNT_ID_KIND = env_str("PORTAL_CYBERTIPLINE_ACCOUNT_ID_KIND", "user_id")
# Hash matching of media before it goes to Azure (POST /api/v1/media-checks/; docs/abuse.md).
PORTAL_HASH_MATCH_MAX_DISTANCE = env_int("PORTAL_HASH_MATCH_MAX_DISTANCE", 31, minimum=0)
PORTAL_HASH_INDEX_REFRESH_SECONDS = env_int("PORTAL_HASH_INDEX_REFRESH_SECONDS", 30, minimum=1)
if PORTAL_HASH_MATCH_MAX_DISTANCE > 64:
    raise ConfigError("PORTAL_HASH_MATCH_MAX_DISTANCE: at most 64 of PDQ's 256 bits (31 is the usual threshold)")
# Stores whose data a legal hold withholds from privacy deletions (empty: every store).
PORTAL_LEGAL_HOLD_STORES = env_list("PORTAL_LEGAL_HOLD_STORES", [])
if PORTAL_CYBERTIPLINE_URL:
    if not PORTAL_CYBERTIPLINE_URL.startswith(("https://", "http://")):
        raise ConfigError(
            "PORTAL_CYBERTIPLINE_URL: expected the API's https base URL, e.g. https://exttest.cybertip.org/ispws"
        )
    if not (PORTAL_CYBERTIPLINE_USERNAME and PORTAL_CYBERTIPLINE_PASSWORD):
        raise ConfigError(
            "PORTAL_CYBERTIPLINE_USERNAME and PORTAL_CYBERTIPLINE_PASSWORD: required when "
            "PORTAL_CYBERTIPLINE_URL is set (the credentials NCMEC issued)"
        )
if PORTAL_CYBERTIPLINE_ENVIRONMENT not in {"test", "production"}:
    raise ConfigError("PORTAL_CYBERTIPLINE_ENVIRONMENT: must be test or production")
if PORTAL_CYBERTIPLINE_MAX_TRIES > 9:
    raise ConfigError("PORTAL_CYBERTIPLINE_MAX_TRIES: at most 9 (fewer than 10 tries, then staff are told)")
if PORTAL_CYBERTIPLINE_GIVE_UP_DAYS > 30:
    raise ConfigError("PORTAL_CYBERTIPLINE_GIVE_UP_DAYS: at most 30 (report as soon as reasonably possible)")

# --- Django ---------------------------------------------------------------------
INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the 2FA-enforcing site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "portal",
    "requests_app",
    "requests_app.drp",
    "abuse_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Bodies over the route's limit → 413 before a byte is read (portal/body_limits.py).
    "portal.body_limits.BodyLimitMiddleware",
    # NUL/control characters and invalid UTF-8 in path and query → 400/404 (docs/security.md).
    "portal.input_limits.RejectHostileInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The same for form bodies, read only after the CSRF check above (its process_view runs first).
    "portal.input_limits.RejectHostileFormMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

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

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("PORTAL_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PORTAL_PRIVATE_ROOT), "base_url": "/never-served/"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env_bool("PORTAL_PLAIN_STATIC", False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Body limits (portal/body_limits.py), checked on the declared Content-Length before any reading:
# the abuse report form and API take the evidence files (PORTAL_ABUSE_EVIDENCE_MAX_FILES x _MAX_BYTES),
# the rest of the API PORTAL_MAX_JSON_BYTES, every other form PORTAL_MAX_FORM_BYTES. A reverse proxy
# in front enforces the largest of them too (docs/deploy.md).
PORTAL_MAX_FORM_BYTES = env_int("PORTAL_MAX_FORM_BYTES", 1024 * 1024, minimum=16 * 1024)
# Form fields other than files, held in memory (Django's own limit, a 400 over it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Uploaded files up to this size stay in memory; larger ones are spooled to FILE_UPLOAD_TEMP_DIR.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = max(10, PORTAL_ABUSE_EVIDENCE_MAX_FILES + 1)
# JSON bodies of the API (portal/input_limits.py): larger or deeper ones get a 400 that says so.
PORTAL_MAX_JSON_BYTES = env_int("PORTAL_MAX_JSON_BYTES", 5 * 1024 * 1024, minimum=1024)
PORTAL_MAX_JSON_DEPTH = env_int("PORTAL_MAX_JSON_DEPTH", 32, minimum=4)

# --- E-mail ---------------------------------------------------------------------
vars().update(env_email("EMAIL_URL", str(VAR_DIR / "mail")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{PORTAL_APP_NAME} privacy <{PORTAL_OPERATOR_CONTACT}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Staff sessions end after a working day (Django's default is two weeks); log in again with the second factor.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
PORTAL_NUM_PROXIES = env_int("NUM_PROXIES", 1 if env_bool("BEHIND_PROXY", False) else 0, minimum=0)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SILENCED_SYSTEM_CHECKS = ["security.W008"] if not DEBUG and not env_bool("SECURE_SSL_REDIRECT", True) else []

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False  # no "AXES: BEGIN version …" banner on every manage.py command
# One notion of "the client's address" for axes, our rate limits and DRF throttles
# (portal.ratelimit.client_ip): X-Forwarded-For is trusted only for NUM_PROXIES hops.
AXES_CLIENT_IP_CALLABLE = "portal.ratelimit.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.lockout.lockout_response"
OTP_TOTP_ISSUER = PORTAL_APP_NAME + " portal"

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.api_keys.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "portal.input_limits.LimitedJSONParser",  # size, depth, numbers, control characters
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Views that name no throttles of their own get these (see portal/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": ["portal.throttles.HostAppThrottle", "portal.throttles.AnonymousApiThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_anonymous": env_rate("PORTAL_API_ANONYMOUS_RATE", "600/minute", drf=True),
        "public": env_rate("PORTAL_PUBLIC_RATE", "20/hour", drf=True),
        "host_app": env_rate("PORTAL_HOST_APP_RATE", "6000/minute", drf=True),
    },
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    # Never None: DRF would then trust a client-sent X-Forwarded-For for throttling.
    "NUM_PROXIES": PORTAL_NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy & Abuse Portal API",
    "DESCRIPTION": "Privacy requests, consent, the Azure transmission ledger and abuse reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the jurisdiction choices, whichever serializer uses them.
    "ENUM_NAME_OVERRIDES": {"JurisdictionEnum": "requests_app.models.PrivacyRequest.Jurisdiction"},
}

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # A message not acknowledged within this time is delivered again (acks_late
    # means a killed worker's task is re-run). Longer than the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=10)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = ("portal.celery.route_task",)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "portal.celery.HeartbeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False

# No CELERY_BEAT_SCHEDULE here: settings import no app. The kernel's entries and those the apps
# register from AppConfig.ready() live in portal.schedule; HeartbeatScheduler reads them at start.

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "portal.logging.RedactPersonalData"},
        "quiet_routine_tasks": {"()": "portal.logging.QuietRoutineTasks"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_personal_data", "quiet_routine_tasks"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "WARNING"},
        "azure": {"level": "WARNING"},
        # "AXES: BEGIN version …" on every manage.py command (see also AXES_VERBOSE).
        "axes": {"level": "WARNING"},
    },
}
