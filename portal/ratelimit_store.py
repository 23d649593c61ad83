"""Atomic sliding-window counters for the rate limits (``portal.ratelimit``, ``portal.throttles``).

"20/hour" means at most 20 hits in *any* hour, however many processes count at once: every
hit is a timestamped entry, entries older than the period are dropped, and a hit is admitted
only when the entries left plus the hit stay within the limit. Checking and recording are one
atomic step:

- on Redis (``CACHE_URL=redis://…``), one Lua script over a sorted set (Redis runs a script
  without interleaving any other command);
- on any other cache (the file cache of the embedded default, shared by gunicorn's workers and
  the Celery processes; locmem in tests), a read-modify-write under an exclusive ``flock`` on a
  lock file under ``PORTAL_VAR_DIR/locks/``, which excludes threads and processes alike.

A hit can be taken back (``release``): ``token_guard`` reserves a failure before the view runs
and releases it when the token was good, so parallel guesses cannot overrun the limit either.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

LOCK_STRIPES = 64

_LUA_HIT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local member = ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
local count = redis.call('ZCARD', key)
if count + cost > limit then
  local index = count + cost - limit - 1
  if index >= count then index = count - 1 end
  local retry = period
  if index >= 0 then
    local entry = redis.call('ZRANGE', key, index, index, 'WITHSCORES')
    if entry[2] then retry = tonumber(entry[2]) + period - now end
  end
  return {0, tostring(retry)}
end
for i = 1, cost do
  redis.call('ZADD', key, now, member .. ':' .. i)
end
redis.call('EXPIRE', key, math.ceil(period) + 1)
return {1, '0'}
"""

# Several limits in one atomic step, in order (``hit_all``): the first that refuses stops the
# rest, the ones before it keep their hit, exactly as one ``hit`` per limit would, one after the other.
_LUA_HIT_ALL = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
for k = 1, #KEYS do
  local key = KEYS[k]
  local period = tonumber(ARGV[1 + 2 * k])
  local limit = tonumber(ARGV[2 + 2 * k])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
  local count = redis.call('ZCARD', key)
  if count + 1 > limit then
    local index = count - limit
    if index >= count then index = count - 1 end
    local retry = period
    if index >= 0 then
      local entry = redis.call('ZRANGE', key, index, index, 'WITHSCORES')
      if entry[2] then retry = tonumber(entry[2]) + period - now end
    end
    return {k, tostring(retry)}
  end
  redis.call('ZADD', key, now, member .. ':1')
  redis.call('EXPIRE', key, math.ceil(period) + 1)
end
return {0, '0'}
"""

_LUA_RELEASE = """
local removed = 0
for i = 1, tonumber(ARGV[2]) do
  removed = removed + redis.call('ZREM', KEYS[1], ARGV[1] .. ':' .. i)
end
return removed
"""


@dataclass(frozen=True)
class Hit:
    allowed: bool
    retry_after: int
    member: str = ""  # the hit's id, for release(); empty when refused
    cost: int = 1


# One client per connection pool: Django's ``get_client`` builds a new ``redis.Redis`` (and its table
# of response callbacks) on every call, and a script registered on each would pile up in ``_scripts``.
_clients: dict[int, Any] = {}


def _redis_client(raw_key: str) -> tuple[Any, str] | None:
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    key = backend.make_and_validate_key(raw_key)
    pool = backend._cache._get_connection_pool(write=True)  # type: ignore[attr-defined]
    client = _clients.get(id(pool))
    if client is None:  # the client holds its pool, so the id stays this pool's
        client = _clients[id(pool)] = backend._cache._client(connection_pool=pool)  # type: ignore[attr-defined]
    return client, key


_scripts: dict[tuple[int, str], Any] = {}


def _script(client: Any, source: str) -> Any:
    slot = (id(client), source)
    if slot not in _scripts:
        _scripts[slot] = client.register_script(source)
    return _scripts[slot]


@contextlib.contextmanager
def _locked(raw_key: str) -> Iterator[None]:
    stripe = int(hashlib.sha256(raw_key.encode()).hexdigest()[:8], 16) % LOCK_STRIPES
    directory = Path(getattr(settings, "VAR_DIR", "var")) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    # A new open file description per acquisition: flock then excludes other threads of this
    # process as well as other processes.
    fd = os.open(directory / f"ratelimit-{stripe:02d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def hit(raw_key: str, limit: int, period: float, *, cost: int = 1) -> Hit:
    """Admit ``cost`` hits against ``limit`` per sliding ``period`` seconds, or refuse them all."""
    now = time.time()
    member = secrets.token_hex(8)
    redis = _redis_client(raw_key)
    if redis is not None:
        client, key = redis
        allowed, retry = _script(client, _LUA_HIT)(keys=[key], args=[repr(now), period, limit, cost, member])
        if int(allowed):
            return Hit(True, 0, member, cost)
        return Hit(False, max(1, math.ceil(float(retry))))
    with _locked(raw_key):
        entries: list[tuple[float, str]] = [
            (stamp, name) for stamp, name in cache.get(raw_key) or [] if stamp > now - period
        ]
        if len(entries) + cost > limit:
            entries.sort()
            index = min(len(entries) + cost - limit - 1, len(entries) - 1)
            retry = entries[index][0] + period - now if index >= 0 else period
            return Hit(False, max(1, math.ceil(retry)))
        entries.extend((now, f"{member}:{i}") for i in range(1, cost + 1))
        cache.set(raw_key, entries, timeout=math.ceil(period) + 1)
    return Hit(True, 0, member, cost)


def hit_all(limits: list[tuple[str, int, float]]) -> tuple[int, Hit]:
    """One hit against each ``(raw_key, limit, period)`` in order, as one atomic step where it can be.

    → (index of the limit that refused, or -1; that limit's ``Hit``, or an admitted one). The
    limits before a refusal keep their hit, those after it are not counted: what ``hit`` on each
    in turn does, in one Redis round trip (one script) instead of one per limit.
    """
    redis = _redis_client(limits[0][0]) if limits else None
    if redis is None:  # the lock-file store: one hit after the other (each atomic, as before)
        for index, (raw_key, limit, period) in enumerate(limits):
            taken = hit(raw_key, limit, period)
            if not taken.allowed:
                return index, taken
        return -1, Hit(True, 0)
    client, _key = redis
    backend = caches["default"]
    keys = [backend.make_and_validate_key(raw_key) for raw_key, _limit, _period in limits]
    args: list[Any] = [repr(time.time()), secrets.token_hex(8)]
    for _raw_key, limit, period in limits:
        args += [period, limit]
    refused, retry = _script(client, _LUA_HIT_ALL)(keys=keys, args=args)
    if int(refused):
        return int(refused) - 1, Hit(False, max(1, math.ceil(float(retry))))
    return -1, Hit(True, 0)


def count(raw_key: str, period: float) -> tuple[int, int]:
    """(hits in the current sliding period, seconds until the oldest of them drops out)."""
    now = time.time()
    redis = _redis_client(raw_key)
    if redis is not None:
        client, key = redis
        stamps = [score for _member, score in client.zrangebyscore(key, now - period, "+inf", withscores=True)]
    else:
        stamps = [stamp for stamp, _name in cache.get(raw_key) or [] if stamp > now - period]
    oldest = min(stamps, default=now)
    return len(stamps), max(1, math.ceil(oldest + period - now))


def release(raw_key: str, taken: Hit, period: float) -> None:
    """Take back the hits of ``taken`` (a reservation that turned out not to count)."""
    if not taken.allowed or not taken.member:
        return
    redis = _redis_client(raw_key)
    if redis is not None:
        client, key = redis
        _script(client, _LUA_RELEASE)(keys=[key], args=[taken.member, taken.cost])
        return
    names = {f"{taken.member}:{i}" for i in range(1, taken.cost + 1)}
    with _locked(raw_key):
        entries = cache.get(raw_key) or []
        kept = [(stamp, name) for stamp, name in entries if name not in names]
        if len(kept) != len(entries):
            cache.set(raw_key, kept, timeout=math.ceil(period) + 1)
