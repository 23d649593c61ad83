"""Beat entries of this app (registered with portal.schedule in AppConfig.ready).

Kept free of model imports (beat entries only).
``PORTAL_ENGINE_SWEEP_SECONDS`` shortens the dispatcher/sweeper period (tests).
"""

from typing import Any

from celery.schedules import crontab

from portal.config import env_float

_SWEEP = env_float("PORTAL_ENGINE_SWEEP_SECONDS", 2.0, minimum=0.1)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # approved requests whose grace period is over
    "engine-dispatch-due": {
        "task": "requests.engine.dispatch_due",
        "schedule": _SWEEP,
        "options": {"expires": _SWEEP * 2},
    },
    # stale heartbeats, lost messages, requests done but not finished
    "engine-sweep": {"task": "requests.engine.sweep", "schedule": _SWEEP, "options": {"expires": _SWEEP * 2}},
    "engine-expire-packages": {
        "task": "requests.engine.expire_packages",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    "engine-retention": {
        "task": "requests.engine.run_retention",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 3 * 3600},
    },
    # intake: unconfirmed requests expire (and are purged); closed requests lose their PII after retention;
    # staff hear about deadlines once a day (times in CELERY_TIMEZONE = PORTAL_TIME_ZONE)
    "requests-expire-unverified": {
        "task": "requests.expire_unverified",
        "schedule": 900.0,
        "options": {"expires": 900},
    },
    "requests-purge-closed-pii": {
        "task": "requests.purge_closed_pii",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 6 * 3600},
    },
    # Azure resources whose subject the ledger does not cover (read-only; results in the admin)
    "requests-azure-scan": {
        "task": "azure.scan",
        "schedule": crontab(hour=4, minute=15, day_of_week=0),
        "options": {"expires": 12 * 3600},
    },
    # DRP replay records of messages that expired (requests_app/drp): the expiry check refuses them anyway
    "drp-forget-expired-messages": {
        "task": "drp.forget_expired_messages",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    "requests-deadline-reminders": {
        "task": "requests.deadline_reminders",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 6 * 3600},
    },
    # deletions whose data a legal hold withheld are completed once the hold has ended
    "requests-release-withheld": {
        "task": "requests.release_withheld",
        "schedule": crontab(hour=4, minute=45),
        "options": {"expires": 6 * 3600},
    },
}
