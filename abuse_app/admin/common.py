"""What several abuse admin pages share: short dates, the staff user, the evidence session key, previewable types."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html

from abuse_app.services import exposure


def short_time(moment: datetime | None) -> str:
    """A compact local time for narrow list columns; it may wrap between day and time only."""
    if not moment:
        return "—"
    local = timezone.localtime(moment)
    return format_html('<span class="abuse-day">{}</span> {}', local.strftime("%Y-%m-%d"), local.strftime("%H:%M"))


REVEALED_SESSION_KEY = exposure.SESSION_KEY
PREVIEW_TYPES = frozenset(exposure.PREVIEW_TYPES)
