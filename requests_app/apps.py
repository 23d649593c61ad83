from django.apps import AppConfig

from portal import schedule
from requests_app.schedule import BEAT_SCHEDULE


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which need the app registry
        # (Django imports apps.py while it is still being filled). Importing the tasks modules
        # registers the tasks that code sends by name (portal.celery.enqueue) in every process.
        from requests_app import checks, health, ledger, legal_hold_tasks, metrics, tasks  # noqa: F401  (models)
        from requests_app.engine import package  # loads every store: only once apps are loaded

        # The transmission ledger's section of access packages ("what this app sent to Microsoft").
        package.register_section(ledger.section.FOLDER, ledger.sent_to_microsoft)
        health.register()
        checks.register_checks()
        metrics.register()
        schedule.register(BEAT_SCHEDULE)
