"""The portal's own settings: operator, privacy requests, execution engine, health, 2FA."""

from __future__ import annotations

import re

from portal.config import ConfigError, env_bool, env_int, env_list, env_rate, env_str
from portal.settings.base import BASE_DIR, DEBUG, VAR_DIR

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
