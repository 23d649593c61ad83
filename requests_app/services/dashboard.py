"""Selectors for the figures on the privacy dashboard (admin index): read only, a few aggregates."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from requests_app.models import PrivacyRequest

Status = PrivacyRequest.Status


@dataclass
class Dashboard:
    open_by_status: list[tuple[str, str, int]]
    overdue: int
    due_this_week: int
    median_days_30: float | None
    median_days_90: float | None
    completed_30: int
    completed_90: int
    weeks: list[tuple[datetime, int]]


def _median_days(since: datetime) -> tuple[float | None, int]:
    """Median days from confirmation (or receipt) to completion of requests completed since ``since``.

    PostgreSQL computes it in the database (percentile_cont), so a busy quarter
    is one aggregate; elsewhere the durations are fetched and taken in Python.
    """
    if connection.vendor == "postgresql":
        table = PrivacyRequest._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - "
                f"COALESCE(verified_at, received_at))), COUNT(*) FROM {connection.ops.quote_name(table)} "
                "WHERE status = %s AND completed_at >= %s",
                [Status.COMPLETED.value, since],
            )
            median_seconds, count = cursor.fetchone()
        return (round(median_seconds / 86400, 1) if count else None), count
    completed = PrivacyRequest.objects.filter(completed_at__gte=since, status=Status.COMPLETED)
    rows = completed.values_list("received_at", "verified_at", "completed_at")
    days = [
        (done - (verified or received)).total_seconds() / 86400 for received, verified, done in rows if done is not None
    ]
    return (round(statistics.median(days), 1) if days else None), len(days)


def _open_by_status() -> list[tuple[str, str, int]]:
    counts = dict(
        PrivacyRequest.objects.open().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return [
        (s.value, str(s.label), counts.get(s.value, 0))
        for s in Status
        if s.value in counts or s in PrivacyRequest.OPEN_STATUSES
    ]


def _received_per_week(now: datetime, weeks: int) -> list[tuple[datetime, int]]:
    local_now = timezone.localtime(now)
    this_week = (local_now - timedelta(days=local_now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first_week = this_week - timedelta(weeks=weeks - 1)
    per_week = {
        timezone.localtime(week).date(): n
        for week, n in PrivacyRequest.objects.filter(received_at__gte=first_week)
        .annotate(week=TruncWeek("received_at"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    }
    series = []
    for i in range(weeks):
        start = first_week + timedelta(weeks=i)
        series.append((start, per_week.get(start.date(), 0)))
    return series


def dashboard_figures(*, now: datetime | None = None, weeks: int = 12) -> Dashboard:
    now = now or timezone.now()
    overdue = PrivacyRequest.objects.overdue(now=now).count()
    due_week = PrivacyRequest.objects.due_within(timedelta(days=7), now=now).count() - overdue  # not yet overdue
    median_30, completed_30 = _median_days(now - timedelta(days=30))
    median_90, completed_90 = _median_days(now - timedelta(days=90))
    return Dashboard(
        _open_by_status(),
        overdue,
        due_week,
        median_30,
        median_90,
        completed_30,
        completed_90,
        _received_per_week(now, weeks),
    )
