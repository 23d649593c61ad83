"""Prometheus metrics: GET /metrics, protected by ``PORTAL_METRICS_TOKEN`` (bearer token).

Works with any number of gunicorn and Celery processes on any number of hosts:
- gauges (requests by state, deadlines, queue depth, heartbeat ages) are
  computed from the database and the broker when Prometheus scrapes;
- counters (store-task durations and retries, Azure calls and 429s) are added
  up in the database (``MetricCounter``) by whichever process did the work.

Recording never breaks the work it measures: a failed write is logged and dropped.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from portal import ratelimit
from portal.celery import QUEUES, queue_depth
from portal.health import all_checks
from portal.models import Heartbeat, MetricCounter

logger = logging.getLogger(__name__)

# Upper bounds (seconds) of the store-task duration histogram.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


# --- recording (any process) --------------------------------------------------------------
def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={str(v).replace(',', '_').replace('=', '_')}" for k, v in sorted(labels.items()))[:200]


def add(name: str, amount: float = 1.0, **labels: str) -> None:
    """Add ``amount`` to a counter (created on first use). Safe to call from any process."""
    key = _labels(labels)
    try:
        if not MetricCounter.objects.filter(name=name, labels=key).update(value=F("value") + amount):
            try:
                with transaction.atomic():
                    MetricCounter.objects.create(name=name, labels=key, value=amount)
            except IntegrityError:  # another process created it first
                MetricCounter.objects.filter(name=name, labels=key).update(value=F("value") + amount)
    except Exception:
        logger.warning("metric %s not recorded", name, exc_info=True)


def observe_store_task(store: str, phase: str, seconds: float, outcome: str) -> None:
    """One store-task run: its duration (histogram by store and phase); a retry if it will run again."""
    bucket = next((str(b) for b in DURATION_BUCKETS if seconds <= b), "+Inf")
    add("store_task_seconds_bucket", 1, store=store, phase=phase, le=bucket)
    add("store_task_seconds_sum", seconds, store=store, phase=phase)
    if outcome == "retrying":
        add("store_task_retries", 1, store=store)


def azure_call(service: str, status: int | None) -> None:
    """One HTTP attempt to an Azure service (counted per attempt, retries included)."""
    add("azure_calls", 1, service=service)
    if status == 429:
        add("azure_throttled", 1, service=service)


# --- reading (at scrape time) ---------------------------------------------------------------
# What the apps add from their AppConfig.ready() (the kernel imports no app):
# - a collector yields metric families at scrape time (it must not raise for lack of data);
# - a failure check is a /healthz check whose result lists ``failing`` groups, counted in
#   ``portal_repeated_task_failures``.
Collector = Callable[[], Iterator[Any]]
COLLECTORS: list[Collector] = []
FAILURE_CHECKS: list[str] = []


def register_collector(collect: Collector) -> None:
    if collect not in COLLECTORS:
        COLLECTORS.append(collect)


def register_failure_check(check_name: str) -> None:
    if check_name not in FAILURE_CHECKS:
        FAILURE_CHECKS.append(check_name)


def _parse(labels: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in labels.split(",") if "=" in pair)


class PortalCollector:
    """Reads every figure from the database and the broker when Prometheus scrapes."""

    def collect(self) -> Iterator[Any]:
        for collect in COLLECTORS:
            yield from collect()
        yield from self._counters()
        yield from self._queues()
        yield from self._heartbeats()
        yield from self._health()

    def _counters(self) -> Iterator[Any]:
        rows = [
            (name, _parse(labels), value)
            for name, labels, value in MetricCounter.objects.values_list("name", "labels", "value")
        ]
        retries = CounterMetricFamily(
            "portal_store_task_retries", "Store-task runs that will be retried (transient errors).", labels=["store"]
        )
        calls = CounterMetricFamily(
            "portal_azure_calls", "HTTP attempts to Azure services, retries included.", labels=["service"]
        )
        throttled = CounterMetricFamily("portal_azure_throttled", "Azure answers 429 (throttled).", labels=["service"])
        simple = {
            "store_task_retries": (retries, "store"),
            "azure_calls": (calls, "service"),
            "azure_throttled": (throttled, "service"),
        }
        buckets: dict[tuple[str, str], dict[str, float]] = {}
        sums: dict[tuple[str, str], float] = {}
        for name, labels, value in rows:
            if name in simple:
                family, label = simple[name]
                family.add_metric([labels.get(label, "")], value)
            elif name == "store_task_seconds_bucket":
                key = (labels.get("store", ""), labels.get("phase", ""))
                buckets.setdefault(key, {})[labels.get("le", "+Inf")] = value
            elif name == "store_task_seconds_sum":
                sums[(labels.get("store", ""), labels.get("phase", ""))] = value
        durations = HistogramMetricFamily(
            "portal_store_task_duration_seconds",
            "How long one run of a store task took.",
            labels=["store", "phase"],
        )
        for key in sorted(set(buckets) | set(sums)):
            counts, cumulative, series = buckets.get(key, {}), 0.0, []
            for bound in [*map(str, DURATION_BUCKETS), "+Inf"]:
                cumulative += counts.get(bound, 0)
                series.append((bound, cumulative))
            durations.add_metric(list(key), series, sums.get(key, 0.0))
        yield from (durations, retries, calls, throttled)

    def _queues(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "portal_queue_depth",
            "Messages waiting in each Celery queue (-1: the broker did not answer).",
            labels=["queue"],
        )
        for queue in QUEUES:
            found = queue_depth(queue)
            depth.add_metric([queue], -1 if found is None else found)
        yield depth

    def _heartbeats(self) -> Iterator[Any]:
        age = GaugeMetricFamily(
            "portal_heartbeat_age_seconds",
            "Seconds since beat / a worker last proved alive (+Inf: never).",
            labels=["process"],
        )
        seen = dict(Heartbeat.objects.values_list("name", "at"))
        now = timezone.now()
        for name in ("beat", "worker"):
            at = seen.get(name)
            age.add_metric([name], (now - at).total_seconds() if at else float("inf"))
        yield age

    def _health(self) -> Iterator[Any]:
        """The /healthz checks as gauges, so an alert can fire on the same truth the page tells."""
        checks = all_checks()
        ok = GaugeMetricFamily("portal_health_check_ok", "1 if the /healthz check passes, else 0.", labels=["check"])
        for name, result in sorted(checks.items()):
            ok.add_metric([name], 1 if result.get("ok") else 0)
        yield ok
        repeated = GaugeMetricFamily(
            "portal_repeated_task_failures",
            "Groups of identical failures in the last hour at or above PORTAL_HEALTH_REPEATED_FAILURES.",
            labels=["check"],
        )
        for name in ("repeated_failures", *FAILURE_CHECKS):
            repeated.add_metric([name], len(checks.get(name, {}).get("failing", [])))
        yield repeated


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return generate_latest(registry)


def _token_ok(request: HttpRequest, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. 404 while ``PORTAL_METRICS_TOKEN`` is unset; 401 without the token.

    An address that keeps sending wrong tokens is refused (429) for the rest of the window.
    """
    expected = getattr(settings, "PORTAL_METRICS_TOKEN", "")
    if not expected:
        return HttpResponse(
            "Metrics are off: set PORTAL_METRICS_TOKEN to turn them on.\n",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    ip = ratelimit.client_ip(request) or "-"
    guessing = ratelimit.peek("tokenfail:metrics", ip, ratelimit.TOKEN_FAILURE_RATE)
    if not guessing.allowed:
        return ratelimit.too_many(request, guessing.retry_after)
    if not _token_ok(request, expected):
        ratelimit.hit("tokenfail:metrics", ip, ratelimit.TOKEN_FAILURE_RATE)
        response = HttpResponse(
            "Send the metrics token: Authorization: Bearer <PORTAL_METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        return HttpResponse("Use GET.\n", status=405, content_type="text/plain; charset=utf-8")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


metrics_view.portal_rate_limited = True  # type: ignore[attr-defined]
