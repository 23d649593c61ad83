"""Transparency figures (DSA Art. 15) and the statements of reasons of a period."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet

from abuse_app.models import (
    Appeal,
    Decision,
    Notice,
    ReporterStanding,
)


def _count_by(queryset: QuerySet[Any], field_name: str) -> dict[str, int]:
    rows = queryset.values(field_name).annotate(n=Count("id")).order_by(field_name)
    return {row[field_name]: row["n"] for row in rows}


def transparency_figures(start: datetime, end: datetime) -> dict[str, Any]:
    notices = Notice.objects.filter(received_at__gte=start, received_at__lt=end)
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    appeals = Appeal.objects.filter(filed_at__gte=start, filed_at__lt=end)
    hours = [
        (decided - first).total_seconds() / 3600
        for decided, first in decisions.values_list("decided_at", "case__first_received_at")
    ]
    total_decisions = decisions.count()
    automated = decisions.filter(automated=True).count()
    return {
        "period": {"from": start.date().isoformat(), "to": (end - timedelta(seconds=1)).date().isoformat()},
        "notices": {
            "total": notices.count(),
            "by_category": _count_by(notices, "category"),
            "by_channel": _count_by(notices, "channel"),
        },
        "decisions": {
            "total": total_decisions,
            "by_action": _count_by(decisions, "action"),
            "by_ground": {(k or "none"): v for k, v in _count_by(decisions, "ground").items()},
            "automated_share": round(automated / total_decisions, 4) if total_decisions else None,
            "median_hours_to_decision": round(statistics.median(hours), 1) if hours else None,
        },
        "appeals": {
            "total": appeals.count(),
            "by_outcome": _count_by(appeals, "status"),
            "by_appellant": _count_by(appeals, "appellant"),
        },
        # People, not keys: a suspension is by e-mail; an address only ever gets a cooldown.
        "reporters_suspended": ReporterStanding.objects.suspended_between(start, end).count(),
    }


# One JSON answer stays a reasonable size; a busy service narrows the period to get the rest.
MAX_STATEMENTS = 1000


def transparency_statements(start: datetime, end: datetime) -> dict[str, Any]:
    """The statements of reasons of the period (oldest first, at most ``MAX_STATEMENTS``),
    each with its case's reference and category and nothing about anyone's identity."""
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    total = decisions.count()
    items = [
        {"case": d.case.reference, "category": d.case.category, **d.statement()}
        for d in decisions.select_related("case").order_by("decided_at", "id")[:MAX_STATEMENTS]
    ]
    return {"total": total, "truncated": total > len(items), "items": items}


def transparency_rows(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Flatten the figures to (section, key, value) rows for the CSV export."""
    rows: list[tuple[str, str, Any]] = []
    for section in ("notices", "decisions", "appeals"):
        for key, value in figures[section].items():
            if isinstance(value, dict):
                rows.extend((f"{section}.{key}", sub, count) for sub, count in value.items())
            else:
                rows.append((section, key, value))
    rows.append(("reporters", "suspended", figures["reporters_suspended"]))
    return rows
