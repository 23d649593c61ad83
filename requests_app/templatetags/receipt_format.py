"""Times as people read them: ``{{ value|when }}`` for the ISO times stored in receipts and key lists.

``2026-12-07T00:21:44.781855+00:00`` becomes "7 December 2026, 01:21 (CET)" in the active
language and the portal's time zone; no microseconds, no "T". Anything that is not a time
(an empty value, a word) is shown as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

register = template.Library()


@register.filter
def when(value: Any) -> Any:
    moment = value if isinstance(value, datetime) else parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"
