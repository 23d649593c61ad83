from django.apps import AppConfig
from django.conf import settings

from abuse_app.dsa import vocabulary
from abuse_app.schedule import BEAT_SCHEDULE
from portal import legal_holds, schedule
from portal.config import ConfigError


class AbuseAppConfig(AppConfig):
    name = "abuse_app"
    verbose_name = "Abuse reports"

    def ready(self) -> None:
        # In ready(): the tasks module imports models, which need the app registry filled. Importing
        # it registers the tasks that services send by name (portal.celery.enqueue) in every process.
        from abuse_app import tasks  # noqa: F401  (tasks import models)
        from abuse_app.cybertipline.models import held_until  # models need the app registry; apps.py loads first

        schedule.register(BEAT_SCHEDULE)
        check_content_types(settings.PORTAL_DSA_TDB_CONTENT_TYPES)
        # Privacy deletions ask portal.legal_holds before erasing; reported accounts answer here.
        legal_holds.register(held_until)


def check_content_types(chosen: list[str]) -> None:
    """A bad PORTAL_DSA_TDB_CONTENT_TYPES stops every process at start-up, naming the variable."""
    unknown = sorted(set(chosen) - set(vocabulary.CONTENT_TYPES))
    if unknown or not chosen:
        raise ConfigError(
            f"PORTAL_DSA_TDB_CONTENT_TYPES: unknown {', '.join(unknown) or '(empty)'}; "
            f"choose from {', '.join(vocabulary.CONTENT_TYPES)}"
        )
