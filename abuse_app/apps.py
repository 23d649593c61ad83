from django.apps import AppConfig

from abuse_app.schedule import BEAT_SCHEDULE
from portal import schedule


class AbuseAppConfig(AppConfig):
    name = "abuse_app"
    verbose_name = "Abuse reports"

    def ready(self) -> None:
        # In ready(): the tasks module imports models, which need the app registry filled. Importing
        # it registers the tasks that services send by name (portal.celery.enqueue) in every process.
        from abuse_app import tasks  # noqa: F401

        schedule.register(BEAT_SCHEDULE)
