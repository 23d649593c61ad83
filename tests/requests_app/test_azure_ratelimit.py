"""The per-service token bucket shared by all workers: in-process, and in Redis across processes."""

from __future__ import annotations

import os
import uuid

import pytest

from requests_app.stores.azure import ratelimit
from tests.conftest import TEST_REDIS_URL, service_unavailable


def redis_limiters(count: int):
    import redis

    url = TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        service_unavailable(f"Redis at {url} ({type(exc).__name__})")
    return [ratelimit._RedisLimiter(url) for _ in range(count)]  # one per "worker process"


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_reservations_are_spaced_by_the_rate_across_workers(backend):
    limiters = redis_limiters(2) if backend == "redis" else [ratelimit._LocalLimiter()] * 2
    bucket = ratelimit.Bucket(key=f"test:{uuid.uuid4().hex}", rate=10)
    waits = [limiters[i % 2].reserve(bucket, max_wait=60) for i in range(12)]
    # each reservation is 1/rate after the previous one, whichever worker asks
    assert waits[0] == pytest.approx(0, abs=0.05)
    assert waits[11] == pytest.approx(1.1, abs=0.1)
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False))


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_too_long_a_wait_is_refused_with_retry_after(backend):
    limiter = redis_limiters(1)[0] if backend == "redis" else ratelimit._LocalLimiter()
    bucket = ratelimit.Bucket(key=f"test:{uuid.uuid4().hex}", rate=1)
    for _ in range(3):
        limiter.reserve(bucket, max_wait=5)
    assert limiter.reserve(bucket, max_wait=0.5) < 0


def test_acquire_raises_rate_limited_instead_of_parking_the_worker():
    ratelimit.reset_for_tests(local=True)
    bucket = ratelimit.Bucket(key=f"test:{uuid.uuid4().hex}", rate=0.5)
    ratelimit.acquire(bucket)
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.acquire(bucket, max_wait=0.1)
    assert info.value.retry_after > 1
    ratelimit.reset_for_tests()


def test_bucket_keeps_headroom_below_the_published_limit():
    assert ratelimit.bucket_for("azure_face", "x", 10).rate == pytest.approx(9.5)


def test_redis_keys_carry_the_test_runs_prefix(settings):
    """Concurrent suites on one Redis never share (or reset) each other's buckets and counters."""
    import redis

    assert settings.PORTAL_REDIS_KEY_PREFIX.startswith("t") and os.environ["PORTAL_TEST_RUN_ID"] in (
        settings.PORTAL_REDIS_KEY_PREFIX
    )
    limiter = redis_limiters(1)[0]
    bucket = ratelimit.Bucket(key=f"test:{uuid.uuid4().hex}", rate=10)
    limiter.reserve(bucket, max_wait=5)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    assert client.exists(f"{settings.PORTAL_REDIS_KEY_PREFIX}:azure-rl:{bucket.key}")
    assert not client.exists(f"portal:azure-rl:{bucket.key}")
