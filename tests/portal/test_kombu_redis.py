"""portal.kombu_redis: messages published through one Redis client per channel arrive as with kombu's own."""

import uuid

import pytest
from kombu import Connection, Queue

from tests.conftest import TEST_REDIS_URL, service_unavailable

pytestmark = pytest.mark.services


def test_two_messages_one_client_both_delivered():
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        service_unavailable(f"Redis at {TEST_REDIS_URL} ({type(exc).__name__})")
    queue = Queue(f"t-kombu-{uuid.uuid4().hex}")
    with Connection(TEST_REDIS_URL, transport="portal.kombu_redis:Transport") as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second  # one client, not one per message
        producer = conn.Producer()
        for n in (1, 2):
            producer.publish({"n": n}, routing_key=queue.name, declare=[queue])
        got = []
        with conn.SimpleQueue(queue) as simple:
            for _ in range(2):
                message = simple.get(timeout=5)
                got.append(message.payload["n"])
                message.ack()
            simple.queue.delete()
    assert sorted(got) == [1, 2]
