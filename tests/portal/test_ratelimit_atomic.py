""" "20/hour" means 20, with parallel clients and across the hour boundary (portal/ratelimit_store.py).

Before: with 4 parallel clients the public API throttle let 21-25 calls through and token_guard
21-23 (read, then write); fixed windows let 2x the limit through across a boundary. Each backend
is hammered by threads, and by processes where the store is shared between processes (the file
cache of ``make run``, Redis).
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotFound
from rest_framework.test import APIRequestFactory

from portal import ratelimit, ratelimit_store
from tests.conftest import TEST_REDIS_URL, service_unavailable

REDIS_URL = TEST_REDIS_URL
CLIENTS = 4
TRIES = 12  # per client: 48 tries against a limit of 20


def _redis_cache(settings) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        service_unavailable(f"Redis at {REDIS_URL} ({type(exc).__name__})")
    settings.CACHES = {
        "default": {
            "BACKEND": "tests.cache.RunRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"t-atomic-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(params=["locmem", "file", pytest.param("redis", marks=pytest.mark.services)])
def backend(request, settings, tmp_path):
    if request.param == "file":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    elif request.param == "redis":
        _redis_cache(settings)
    settings.VAR_DIR = tmp_path
    cache.clear()
    yield request.param
    cache.clear()


def _in_parallel(call, clients: int = CLIENTS, tries: int = TRIES) -> list:
    barrier = threading.Barrier(clients)

    def client(_n: int) -> list:
        barrier.wait()
        return [call() for _ in range(tries)]

    with ThreadPoolExecutor(clients) as pool:
        return [result for batch in pool.map(client, range(clients)) for result in batch]


def test_parallel_hits_admit_exactly_the_limit(backend):
    name = f"atomic-{uuid.uuid4().hex}"
    results = _in_parallel(lambda: ratelimit.hit(name, "203.0.113.7", "20/hour").allowed)
    assert results.count(True) == 20


def _process_hits(args: tuple[str, int]) -> int:
    name, tries = args
    return sum(ratelimit.hit(name, "203.0.113.8", "20/hour").allowed for _ in range(tries))


@pytest.mark.parametrize("backend", ["file", pytest.param("redis", marks=pytest.mark.services)], indirect=True)
def test_parallel_processes_admit_exactly_the_limit(backend):
    """gunicorn's two workers share the file cache (make run) or Redis: the count holds across processes."""
    name = f"atomic-proc-{uuid.uuid4().hex}"
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        admitted = pool.map(_process_hits, [(name, TRIES)] * CLIENTS)
    assert sum(admitted) == 20


def test_public_api_throttle_admits_exactly_twenty_per_hour(backend, settings):
    from requests_app.api.privacy_requests import PublicThrottle

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public": "20/hour"},
    }
    factory = APIRequestFactory()

    def call() -> bool:
        throttle = PublicThrottle()
        throttle.rate, (throttle.num_requests, throttle.duration) = "20/hour", (20, 3600)
        from rest_framework.request import Request

        request = Request(factory.post("/api/v1/privacy-requests/", REMOTE_ADDR="198.51.100.4"))
        return bool(throttle.allow_request(request, None))

    results = _in_parallel(call)
    assert results.count(True) == 20


def test_token_guard_counts_exactly_the_failure_limit(backend, rf):
    limit, _period = ratelimit.parse_rate(ratelimit.TOKEN_FAILURE_RATE)

    @ratelimit.token_guard(f"atomic-{uuid.uuid4().hex}")
    def view(request, token):
        return HttpResponseNotFound("no such token")

    statuses = _in_parallel(lambda: view(rf.get("/x/", REMOTE_ADDR="198.51.100.9"), token="guess").status_code)
    assert statuses.count(404) == limit
    assert statuses.count(429) == CLIENTS * TRIES - limit


def test_a_good_token_does_not_count_as_a_failure(backend, rf):
    @ratelimit.token_guard(f"atomic-{uuid.uuid4().hex}")
    def view(request, token):
        return HttpResponseNotFound() if token == "bad" else HttpResponse("ok")

    limit, _period = ratelimit.parse_rate(ratelimit.TOKEN_FAILURE_RATE)
    for _ in range(limit * 2):
        assert view(rf.get("/x/", REMOTE_ADDR="198.51.100.10"), token="good").status_code == 200
    assert view(rf.get("/x/", REMOTE_ADDR="198.51.100.10"), token="bad").status_code == 404


def test_window_slides_no_double_burst_across_the_hour(backend):
    """20 at 10:59:30 and none more at 11:00:30 (a fixed window would start afresh at 11:00)."""
    name = f"slide-{uuid.uuid4().hex}"
    start = datetime(2026, 3, 2, 10, 59, 30, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        assert [ratelimit.hit(name, "ip", "20/hour").allowed for _ in range(21)].count(True) == 20
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        refused = ratelimit.hit(name, "ip", "20/hour")
        assert not refused.allowed
        assert refused.retry_after == 3600 - 60
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        assert ratelimit.hit(name, "ip", "20/hour").allowed


def test_cost_over_the_rest_is_refused_whole(backend):
    key = f"cost-{uuid.uuid4().hex}"
    assert ratelimit_store.hit(key, 5, 60, cost=3).allowed
    assert not ratelimit_store.hit(key, 5, 60, cost=3).allowed
    assert ratelimit_store.hit(key, 5, 60, cost=2).allowed
    assert ratelimit_store.count(key, 60)[0] == 5


def test_parallel_hits_on_two_limits_admit_exactly_the_tighter_one(backend):
    """``hit_all`` (two limits in one step): each limit still admits exactly its count under parallel load."""
    ip, email = f"ip-{uuid.uuid4().hex}", f"email-{uuid.uuid4().hex}"

    def both() -> int:
        index, decision = ratelimit.hit_all([(ip, "203.0.113.9", "30/hour"), (email, "a@example.com", "20/hour")])
        return index if not decision.allowed else -1

    results = _in_parallel(both)  # 48 tries: the address admits 30, of which the e-mail admits 20
    assert (results.count(-1), results.count(1), results.count(0)) == (20, 10, 18)
    assert ratelimit.peek(ip, "203.0.113.9", "30/hour").allowed is False
    assert ratelimit.peek(email, "a@example.com", "20/hour").allowed is False


def test_two_limits_count_as_one_hit_after_the_other(backend):
    """The first limit that refuses stops the rest; those before it keep their hit (as two decorators did)."""
    first, second = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    limits = [(first, "x", "3/hour"), (second, "y", "1/hour")]
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        assert ratelimit.hit_all(limits)[1].allowed
        index, refused = ratelimit.hit_all(limits)  # the second refuses; the first has counted it
        assert (index, refused.allowed, refused.retry_after) == (1, False, 3600)
        assert ratelimit.hit_all(limits)[0] == 1
        index, refused = ratelimit.hit_all(limits)  # the first is full now: the second is not counted
        assert (index, refused.allowed) == (0, False)
        assert ratelimit_store.count(ratelimit._key(first, "x"), 3600)[0] == 3
        assert ratelimit_store.count(ratelimit._key(second, "y"), 3600)[0] == 1
