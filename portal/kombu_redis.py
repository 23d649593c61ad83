"""kombu's Redis transport, publishing through one Redis client per channel instead of one per message.

kombu's Redis channel builds a new ``redis.Redis`` (and its table of response callbacks) for
every message it publishes (``Channel.conn_or_acquire``), on the same connection pool each
time. The web process hands one message to the queue per intake request, so that object was
a measurable part of every filing. This channel keeps the first one it builds and reuses it:
a ``redis.Redis`` takes a connection from its pool per command, so sharing one between
threads is what the pool is for. Everything else is kombu's transport unchanged.

Used where the broker is ``redis://`` or ``rediss://`` (``portal/settings/worker.py``,
``CELERY_BROKER_TRANSPORT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kombu.transport.redis as redis


class Channel(redis.Channel):  # type: ignore[misc]  # kombu ships no type hints
    _publish_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._publish_client is None:
            self._publish_client = self._create_client()
        yield self._publish_client


class Transport(redis.Transport):  # type: ignore[misc]  # kombu ships no type hints
    Channel = Channel
