"""Beat entries of the portal package (merged into CELERY_BEAT_SCHEDULE in settings)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.record_worker_heartbeat", "schedule": 10.0, "options": {"expires": 30}},
    # the audit hash chain: leftovers sealed every 5 minutes; the head sent to the operator daily
    "audit-seal": {"task": "portal.audit_seal", "schedule": 300.0, "options": {"expires": 300}},
    "audit-anchor": {"task": "portal.audit_anchor", "schedule": crontab(hour=4, minute=0),
                     "options": {"expires": 6 * 3600}},
}
