"""Beat entries of this app (registered with portal.schedule in AppConfig.ready).

Kept free of model imports (beat entries only).
"""

from typing import Any

from celery.schedules import crontab

from portal.config import env_float

# How often the beat job looks for statements of reasons left unsent (shortened by tests).
DSA_TDB_SWEEP_SECONDS = env_float("PORTAL_DSA_TDB_SWEEP_SECONDS", 300.0, minimum=1.0)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "abuse-purge-evidence": {"task": "abuse.purge_evidence", "schedule": crontab(hour=3, minute=17)},
    "abuse-purge-reporters": {"task": "abuse.purge_reporters", "schedule": crontab(hour=3, minute=37)},
    "abuse-redeliver-webhooks": {
        "task": "abuse.redeliver_webhooks",
        "schedule": 15 * 60.0,
        "options": {"expires": 10 * 60},
    },
    # Statements of reasons a lost message or a killed worker left behind (the row is the truth).
    "abuse-send-statements": {
        "task": "abuse.send_statements",
        "schedule": DSA_TDB_SWEEP_SECONDS,
        "options": {"expires": DSA_TDB_SWEEP_SECONDS * 0.8},
    },
    # Reports whose backoff is over, whose message was lost or whose worker died (lease lapsed).
    "abuse-cybertipline-sweep": {
        "task": "abuse.cybertipline_sweep",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}
