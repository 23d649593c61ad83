"""Abuse reports (abuse_app; docs/abuse.md): limits, DSA Transparency Database, CyberTipline, hash matching."""

from __future__ import annotations

from portal.config import ConfigError, env_bool, env_choice, env_float, env_int, env_list, env_rate, env_str, env_url
from portal.settings.portal import PORTAL_OPERATOR_CONTACT

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
