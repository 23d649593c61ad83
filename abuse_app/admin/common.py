"""What several abuse admin pages share: short dates, the staff user, the evidence session key, previewable types."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from abuse_app.services import exposure


def short_time(moment: datetime | None) -> str:
    """A compact local time for narrow list columns; it may wrap between day and time only."""
    if not moment:
        return "—"
    local = timezone.localtime(moment)
    return format_html('<span class="abuse-day">{}</span> {}', local.strftime("%Y-%m-%d"), local.strftime("%H:%M"))


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member behind an admin request, as the services take their actor.

    The admin site lets nobody else in (``AdminSite.admin_view``), so the refusal never happens there.
    """
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


REVEALED_SESSION_KEY = exposure.SESSION_KEY
PREVIEW_TYPES = frozenset(exposure.PREVIEW_TYPES)
