"""This app's /metrics figures (registered in ``RequestsAppConfig.ready``; read at scrape time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from portal import metrics
from requests_app import health
from requests_app.models import PrivacyRequest

DEADLINE_WINDOW = timedelta(days=7)


def requests_by_state() -> Iterator[Any]:
    by_state = GaugeMetricFamily(
        "portal_privacy_requests", "Privacy requests by state and kind.", labels=["state", "kind"]
    )
    counts = {
        (row["status"], row["kind"]): row["n"]
        for row in PrivacyRequest.objects.values("status", "kind").annotate(n=Count("id")).order_by()
    }
    for state in PrivacyRequest.Status.values:
        for kind in PrivacyRequest.Kind.values:
            by_state.add_metric([state, kind], counts.get((state, kind), 0))
    yield by_state


def deadlines() -> Iterator[Any]:
    due = GaugeMetricFamily(
        "portal_privacy_requests_due_within_7_days",
        "Open privacy requests whose deadline (extended if extended) is within 7 days or past.",
        labels=["kind"],
    )
    overdue = GaugeMetricFamily(
        "portal_privacy_requests_overdue", "Open privacy requests past their deadline.", labels=["kind"]
    )
    now = timezone.now()
    open_requests = PrivacyRequest.objects.filter(status__in=PrivacyRequest.OPEN_STATUSES).annotate(
        deadline=Coalesce("extended_due_at", "due_at")
    )
    soon = dict(open_requests.filter(deadline__lte=now + DEADLINE_WINDOW).values_list("kind").annotate(n=Count("id")))
    late = dict(open_requests.filter(deadline__lt=now).values_list("kind").annotate(n=Count("id")))
    for kind in PrivacyRequest.Kind.values:
        due.add_metric([kind], soon.get(kind, 0))
        overdue.add_metric([kind], late.get(kind, 0))
    yield due
    yield overdue


def oldest_running() -> Iterator[Any]:
    oldest = GaugeMetricFamily(
        "portal_oldest_running_request_seconds", "Age of the oldest running privacy request (0: none)."
    )
    oldest.add_metric([], float(health.oldest_running_seconds() or 0))
    yield oldest


def register() -> None:
    metrics.register_collector(requests_by_state)
    metrics.register_collector(deadlines)
    metrics.register_collector(oldest_running)
    metrics.register_failure_check("store_task_failures")
