"""Check the CyberTipline settings against the API: credentials (GET /status) and the schema (GET /xsd)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from abuse_app.cybertipline.client import RefusedError, TransientApiError
from abuse_app.services import cybertipline


class Command(BaseCommand):
    help = "Ask the configured CyberTipline API who we are (GET /status) and fetch its schema (GET /xsd)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PORTAL_CYBERTIPLINE_URL:
            raise CommandError("PORTAL_CYBERTIPLINE_URL is not set: CyberTipline reporting is off.")
        api = cybertipline.client()
        try:
            answer = api.status()
            schema = api.xsd()
        except RefusedError as exc:
            raise CommandError(f"{exc}. Check PORTAL_CYBERTIPLINE_USERNAME and PORTAL_CYBERTIPLINE_PASSWORD.")
        except TransientApiError as exc:
            raise CommandError(f"{settings.PORTAL_CYBERTIPLINE_URL} did not answer properly ({exc}); try again.")
        self.stdout.write(
            f"{settings.PORTAL_CYBERTIPLINE_URL} ({settings.PORTAL_CYBERTIPLINE_ENVIRONMENT}): "
            f"{answer.description}; schema {len(schema)} characters."
        )
