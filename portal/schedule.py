"""Beat entries of the portal package (merged into CELERY_BEAT_SCHEDULE in settings)."""

BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.record_worker_heartbeat", "schedule": 10.0, "options": {"expires": 30}},
}
