"""Beat entries of this app (registered with portal.schedule in AppConfig.ready).

Kept free of model imports (beat entries only).
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
}
