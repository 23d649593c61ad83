"""Legal deadlines, computed once in the configured time zone and stored.

GDPR (Art. 12(3)): one month from receipt of a verified request, extendable by
two further months. CCPA (Cal. Civ. Code 1798.130): 45 days, extendable once by
45 more. "Other" uses the GDPR periods as the stricter common rule.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.utils import timezone


def add_months(moment: datetime, months: int) -> datetime:
    local = timezone.localtime(moment)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def first_due(jurisdiction: str, verified_at: datetime) -> datetime:
    if jurisdiction == "ccpa":
        return timezone.localtime(verified_at) + timedelta(days=45)
    return add_months(verified_at, 1)


def extended_due(jurisdiction: str, due_at: datetime) -> datetime:
    if jurisdiction == "ccpa":
        return timezone.localtime(due_at) + timedelta(days=45)
    return add_months(due_at, 2)


def extension_text(jurisdiction: str) -> str:
    return "45 days" if jurisdiction == "ccpa" else "two months"
