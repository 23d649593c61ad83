"""Beat entries of this app (merged into CELERY_BEAT_SCHEDULE in settings).

Kept free of model imports: settings import it before apps are ready.
"""

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "abuse-purge-evidence": {"task": "abuse.purge_evidence", "schedule": crontab(hour=3, minute=17)},
    "abuse-purge-reporters": {"task": "abuse.purge_reporters", "schedule": crontab(hour=3, minute=37)},
    "abuse-redeliver-webhooks": {
        "task": "abuse.redeliver_webhooks",
        "schedule": 15 * 60.0,
        "options": {"expires": 10 * 60},
    },
    # Reports whose backoff is over, whose message was lost or whose worker died (lease lapsed).
    "abuse-cybertipline-sweep": {
        "task": "abuse.cybertipline_sweep",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}
