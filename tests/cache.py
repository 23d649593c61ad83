"""A Redis cache for test runs that share one Redis server (xdist workers, parallel developers, CI).

Django's ``RedisCache.clear()`` flushes the whole database: one worker's
``cache.clear()`` would reset another's rate-limit counters in the middle of
a test. This one deletes only the keys of its own ``KEY_PREFIX``.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache


class RunRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return True
