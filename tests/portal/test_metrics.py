"""GET /metrics: off without a token, 401 with a wrong one, and every figure read from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from portal import metrics
from portal.models import Heartbeat, MetricCounter
from requests_app.models import PrivacyRequest

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOKEN = "s3cret-metrics-token"


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}


def value(samples, name: str, **labels) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


@pytest.fixture
def token(settings):
    settings.PORTAL_METRICS_TOKEN = TOKEN


def test_metrics_are_off_without_a_token_setting(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"PORTAL_METRICS_TOKEN" in response.content


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"])
def test_metrics_without_the_right_token_are_401(client, token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


def test_an_address_guessing_tokens_is_refused_even_with_the_right_one_later(client, token):
    from django.core.cache import cache

    cache.clear()
    codes = [client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer guess{i}").status_code for i in range(40)]
    assert codes[0] == 401 and codes[-1] == 429
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 429
    cache.clear()


def test_requests_by_state_and_kind_and_deadlines(client, token):
    with time_machine.travel(NOW, tick=False):
        PrivacyRequest.objects.create(
            kind="deletion", status="running", email="a@example.com", due_at=NOW + timedelta(days=3)
        )
        PrivacyRequest.objects.create(
            kind="deletion", status="needs_attention", email="b@example.com", due_at=NOW - timedelta(days=1)
        )
        PrivacyRequest.objects.create(
            kind="access",
            status="verified",
            email="c@example.com",
            due_at=NOW + timedelta(days=2),
            extended_due_at=NOW + timedelta(days=60),
        )
        PrivacyRequest.objects.create(
            kind="access", status="completed", email="d@example.com", due_at=NOW - timedelta(days=9)
        )
        families = scrape(client)
    states = families["portal_privacy_requests"]
    assert value(states, "portal_privacy_requests", state="running", kind="deletion") == 1
    assert value(states, "portal_privacy_requests", state="needs_attention", kind="deletion") == 1
    assert value(states, "portal_privacy_requests", state="completed", kind="access") == 1
    assert value(states, "portal_privacy_requests", state="running", kind="access") == 0
    due = families["portal_privacy_requests_due_within_7_days"]
    # the extended access request is not due soon; the completed one is closed
    assert value(due, "portal_privacy_requests_due_within_7_days", kind="deletion") == 2
    assert value(due, "portal_privacy_requests_due_within_7_days", kind="access") == 0
    overdue = families["portal_privacy_requests_overdue"]
    assert value(overdue, "portal_privacy_requests_overdue", kind="deletion") == 1


def test_heartbeat_ages_and_never_seen(client, token):
    with time_machine.travel(NOW, tick=False):
        Heartbeat.objects.create(name="beat", at=NOW - timedelta(seconds=42))
        families = scrape(client)
    ages = families["portal_heartbeat_age_seconds"]
    assert value(ages, "portal_heartbeat_age_seconds", process="beat") == 42
    assert value(ages, "portal_heartbeat_age_seconds", process="worker") == float("inf")


def test_queue_depth_is_reported_per_queue(client, token):
    families = scrape(client)
    depths = {s.labels["queue"]: s.value for s in families["portal_queue_depth"]}
    assert set(depths) == {"default", "stores", "azure"}
    assert all(d >= 0 for d in depths.values())


def test_store_task_histogram_is_cumulative_and_retries_counted(client, token):
    metrics.observe_store_task("app-db", "erase", 0.3, "succeeded")
    metrics.observe_store_task("app-db", "erase", 0.05, "succeeded")
    metrics.observe_store_task("app-db", "erase", 70, "retrying")
    metrics.observe_store_task("face", "discover", 2, "retrying")
    samples = scrape(client)["portal_store_task_duration_seconds"]
    labels = {"store": "app-db", "phase": "erase"}
    assert value(samples, "portal_store_task_duration_seconds_bucket", le="0.1", **labels) == 1
    assert value(samples, "portal_store_task_duration_seconds_bucket", le="0.5", **labels) == 2
    assert value(samples, "portal_store_task_duration_seconds_bucket", le="60.0", **labels) == 2
    assert value(samples, "portal_store_task_duration_seconds_bucket", le="300.0", **labels) == 3
    assert value(samples, "portal_store_task_duration_seconds_bucket", le="+Inf", **labels) == 3
    assert value(samples, "portal_store_task_duration_seconds_count", **labels) == 3
    assert value(samples, "portal_store_task_duration_seconds_sum", **labels) == pytest.approx(70.35)
    retries = scrape(client)["portal_store_task_retries"]
    assert value(retries, "portal_store_task_retries_total", store="app-db") == 1
    assert value(retries, "portal_store_task_retries_total", store="face") == 1


def test_counters_add_up_across_calls_without_losing_any(token):
    for _ in range(5):
        metrics.azure_call("face", 200)
    metrics.azure_call("face", 429)
    metrics.azure_call("speech", 429)
    counters = {(n, labels): v for n, labels, v in MetricCounter.objects.values_list("name", "labels", "value")}
    assert counters[("azure_calls", "service=face")] == 6
    assert counters[("azure_throttled", "service=face")] == 1
    assert counters[("azure_throttled", "service=speech")] == 1


def test_a_metrics_write_that_fails_never_breaks_the_work(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(MetricCounter.objects, "filter", broken)
    metrics.azure_call("face", 200)  # logged, not raised
