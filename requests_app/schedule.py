"""Beat entries of this app (merged into CELERY_BEAT_SCHEDULE in settings).

Kept free of model imports: settings import it before apps are ready.
``PORTAL_ENGINE_SWEEP_SECONDS`` shortens the dispatcher/sweeper period (tests).
"""

import os

from celery.schedules import crontab

_SWEEP = float(os.environ.get("PORTAL_ENGINE_SWEEP_SECONDS", "30"))

BEAT_SCHEDULE: dict[str, dict] = {
    # approved requests whose grace period is over
    "engine-dispatch-due": {"task": "requests.engine.dispatch_due", "schedule": _SWEEP,
                            "options": {"expires": _SWEEP * 2}},
    # stale heartbeats, lost messages, requests done but not finished
    "engine-sweep": {"task": "requests.engine.sweep", "schedule": _SWEEP, "options": {"expires": _SWEEP * 2}},
    "engine-expire-packages": {"task": "requests.engine.expire_packages", "schedule": 3600.0,
                               "options": {"expires": 1800}},
    "engine-retention": {"task": "requests.engine.run_retention", "schedule": crontab(hour=3, minute=30),
                         "options": {"expires": 3 * 3600}},
}
