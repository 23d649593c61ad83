"""A token bucket per Azure service, shared by every worker.

Azure throttles per resource (Face S0: 10 transactions per second; Video
Indexer: 10 requests per second). A bulk erasure that simply fires requests
lives on 429s; one that waits for a token before each call stays under the
limit. The bucket must be shared by every worker process and host, so it lives
in Redis when the portal uses Redis (``CACHE_URL`` or the Celery broker), and in
the process otherwise (the embedded default runs one worker).

The Redis bucket is one Lua script (atomic: no lost updates between workers).
It stores the time the next token becomes free ("virtual scheduling", GCRA):
each caller reserves the next slot and sleeps until it. The wait is short
(1/rate seconds per queued caller); a caller that would wait longer than
``max_wait`` gets ``RateLimited`` with the time to come back, so a worker is
never parked for long — the engine retries the task later.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Stay a little below the published limit: network jitter bunches requests
# that left evenly spaced, and the service counts arrivals.
HEADROOM = 0.95


class RateLimited(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"rate limit: retry in {retry_after:.1f}s")
        self.retry_after = retry_after


@dataclass
class Bucket:
    key: str
    rate: float  # requests per second (already with headroom)
    burst: int = 1


_LUA = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', key) or '0')
if tat < now then tat = now end
local start = tat - (burst - 1) * interval
local wait = start - now
if wait < 0 then wait = 0 end
if wait > max_wait then return tostring(-wait) end
redis.call('SET', key, tostring(tat + interval), 'PX', math.ceil((tat + interval - now) * 1000) + 1000)
return tostring(wait)
"""


class _LocalLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, bucket: Bucket, max_wait: float) -> float:
        interval = 1.0 / bucket.rate
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(bucket.key, 0.0), now)
            wait = max(0.0, tat - (bucket.burst - 1) * interval - now)
            if wait > max_wait:
                return -wait
            self._tat[bucket.key] = tat + interval
            return wait


class _RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._script = self._client.register_script(_LUA)

    def reserve(self, bucket: Bucket, max_wait: float) -> float:
        interval = 1.0 / bucket.rate
        from django.conf import settings

        # The prefix keeps portals (and concurrent test runs) that share one Redis apart.
        prefix = getattr(settings, "PORTAL_REDIS_KEY_PREFIX", "portal")
        result = self._script(keys=[f"{prefix}:azure-rl:{bucket.key}"], args=[interval, bucket.burst, max_wait])
        return float(result)


_limiter: _LocalLimiter | _RedisLimiter | None = None
_limiter_lock = threading.Lock()


def redis_url() -> str | None:
    """The Redis the portal already uses (cache first, then broker), or None."""
    from django.conf import settings

    for candidate in (
        settings.PORTAL_CACHE_URL,
        settings.PORTAL_REDIS_URL,
        getattr(settings, "CELERY_BROKER_URL", ""),
    ):
        if candidate and candidate.startswith(("redis://", "rediss://")):
            return candidate
    return None


def limiter() -> _LocalLimiter | _RedisLimiter:
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            url = redis_url()
            _limiter = _RedisLimiter(url) if url else _LocalLimiter()
        return _limiter


def reset_for_tests(local: bool = False) -> None:
    """Forget the chosen limiter (tests switch between Redis and in-process)."""
    global _limiter
    with _limiter_lock:
        _limiter = _LocalLimiter() if local else None


def acquire(bucket: Bucket, max_wait: float = 5.0) -> float:
    """Wait for a token of ``bucket``; return the seconds waited. Raise RateLimited if too long."""
    wait = limiter().reserve(bucket, max_wait)
    if wait < 0:
        raise RateLimited(-wait)
    if wait > 0:
        time.sleep(wait)
    return wait


def bucket_for(service: str, account: str, tps: float) -> Bucket:
    return Bucket(key=f"{service}:{account}", rate=max(0.1, tps * HEADROOM))
