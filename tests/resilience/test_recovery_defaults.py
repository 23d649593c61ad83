"""With the shipped settings, lost work re-runs within 10 s (issue 24) and a live task never runs twice.

The clock is frozen and moved by hand: each test walks the beat schedule
(one sweep every ``PORTAL_ENGINE_SWEEP_SECONDS``) and looks at what the
sweeper hands out, against the real queue (empty, or holding a message).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.signals import before_task_publish
from django.conf import settings
from django.test import TestCase

from portal.celery import app
from requests_app.engine import execute
from requests_app.engine import plan as planning
from requests_app.engine import sweep as sweeper
from requests_app.engine.dispatch import LOST_CEILING
from requests_app.models import StoreTask
from requests_app.schedule import BEAT_SCHEDULE
from tests.requests_app.engine_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
ST = StoreTask.Status
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SWEEP = BEAT_SCHEDULE["engine-sweep"]["schedule"]
PROMISE = 10  # seconds from the fault to the task being sent again


@pytest.fixture
def published():
    sent: list[str] = []

    def record(sender=None, **kwargs):
        sent.append(sender)

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


@pytest.fixture
def empty_queues():
    with app.connection_for_write() as conn:
        for queue in ("stores", "azure"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:
                pass


def first_sweep_that_hands_out(task: StoreTask, published: list, until: float = 900) -> float:
    """Seconds after T0 of the first beat sweep that sends the task again (inf: none within ``until``)."""
    elapsed = 0.0
    while elapsed <= until:
        elapsed += SWEEP
        with (
            time_machine.travel(T0 + timedelta(seconds=elapsed), tick=False),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            sweeper.sweep()
        if published:
            return elapsed
    return float("inf")


def handed_out(approved_request) -> StoreTask:
    with time_machine.travel(T0, tick=False):
        request = approved_request()
        with TestCase.captureOnCommitCallbacks(execute=False):  # the message is lost
            planning.start(request.pk)
    return request.store_tasks.get(store="app-db", phase="discover")


def test_shipped_defaults_promise_ten_seconds():
    assert settings.PORTAL_STORE_TASK_STALE_SECONDS + SWEEP <= PROMISE
    assert settings.PORTAL_STORE_TASK_LOST_SECONDS + SWEEP <= PROMISE
    # a live worker beats six times per stale period: it must miss six in a row to be taken for dead
    assert settings.PORTAL_STORE_TASK_STALE_SECONDS / 6 >= 1


def test_a_killed_worker_s_task_runs_again_within_ten_seconds(stores_file, approved_request, published, empty_queues):
    task = handed_out(approved_request)
    with time_machine.travel(T0, tick=False):
        execute.claim(task.pk)  # the worker started it, beat once, then was killed
    after = first_sweep_that_hands_out(task, published)
    assert settings.PORTAL_STORE_TASK_STALE_SECONDS < after <= PROMISE
    task.refresh_from_db()
    assert task.status == ST.PENDING and "worker stopped" in task.last_error


def test_a_task_whose_worker_still_beats_is_never_handed_out_again(stores_file, approved_request, published):
    task = handed_out(approved_request)
    with time_machine.travel(T0, tick=False):
        _, attempt = execute.claim(task.pk)
    elapsed = 0.0
    # the last beat as late as a worker may be: five of its six beats per stale period missed
    late = settings.PORTAL_STORE_TASK_STALE_SECONDS * 5 / 6
    while elapsed < 3600:  # an hour-long store operation, beating as the heartbeat thread does
        elapsed += SWEEP
        with time_machine.travel(T0 + timedelta(seconds=elapsed), tick=False):
            StoreTask.objects.filter(pk=task.pk).update(heartbeat_at=T0 + timedelta(seconds=elapsed - late))
            with TestCase.captureOnCommitCallbacks(execute=True):
                sweeper.sweep()
    assert published == []
    task.refresh_from_db()
    assert (task.status, task.attempts) == (ST.RUNNING, attempt)


def test_a_message_lost_with_the_broker_is_sent_again_within_ten_seconds(
    stores_file, approved_request, published, empty_queues
):
    task = handed_out(approved_request)
    after = first_sweep_that_hands_out(task, published)
    assert settings.PORTAL_STORE_TASK_LOST_SECONDS < after <= PROMISE
    assert published == ["stores.run_store_task"]


def test_a_message_waiting_behind_a_busy_queue_is_not_duplicated_early(
    stores_file, approved_request, published, empty_queues
):
    task = handed_out(approved_request)
    app.send_task("stores.run_store_task", args=(0,))  # other work still queued
    published.clear()
    try:
        after = first_sweep_that_hands_out(task, published)
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("stores")
    assert after > LOST_CEILING * settings.PORTAL_STORE_TASK_LOST_SECONDS  # only after ten lost periods


def test_a_finish_still_building_is_not_sent_twice_but_a_lost_one_is(stores_file, approved_request, published):
    """All tasks done, request still running: its finish (no heartbeat; a big package takes a while)
    is sent again only after ``FINISH_IDLE_SECONDS`` without a task finishing."""
    task = handed_out(approved_request)
    StoreTask.objects.filter(request=task.request).update(status=ST.SUCCEEDED, finished_at=T0)

    def sweep_at(seconds: float) -> None:
        with (
            time_machine.travel(T0 + timedelta(seconds=seconds), tick=False),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            sweeper.sweep()

    sweep_at(PROMISE)
    assert "requests.engine.finish" not in published
    sweep_at(sweeper.FINISH_IDLE_SECONDS + SWEEP)
    assert published == ["requests.engine.finish"]
