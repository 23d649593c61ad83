"""Beat entries of this app (merged into CELERY_BEAT_SCHEDULE in settings).

Kept free of model imports: settings import it before apps are ready.
"""

BEAT_SCHEDULE: dict[str, dict] = {}
