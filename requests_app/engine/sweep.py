"""The sweeper and the dispatcher of due requests (beat).

``sweep`` (every 2 s) re-dispatches running tasks whose heartbeat went stale
(worker killed: 6 s by default, six missed beats of one second) and pending
tasks whose message never arrived (broker lost it: still pending 5 s after
hand-out while their queue is empty, or 10 × that whatever the queue holds).
Lost work re-runs within 10 s; a task whose worker still beats is never handed
out again. A request whose tasks are all done is finished again only once it
has been idle for ``FINISH_IDLE_SECONDS``: a finish has no heartbeat, and a big
access package may take longer than the lost period to build. ``dispatch_due``
starts approved requests whose grace period is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal.celery import queue_depth
from requests_app.engine.dispatch import (
    ACTOR,
    DONE,
    LOST_CEILING,
    PR,
    ST,
    advance,
    enqueue,
    locked,
    locked_task,
    lost_after,
    max_attempts,
    queue_of,
    stale_after,
)
from requests_app.engine.plan import start
from requests_app.models import PrivacyRequest, StoreTask

logger = logging.getLogger(__name__)

# A request all done but not finished (its finish message lost) is sent its finish again after
# this long without a task finishing; a shorter wait would duplicate finishes still building.
FINISH_IDLE_SECONDS = 30.0


@dataclass
class _Cutoffs:
    """The moments one sweep compares against, and the queue depths it asked the broker for."""

    now: datetime
    stale: datetime
    lost: datetime
    long_lost: datetime
    finish_idle: datetime
    depths: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def at(cls, now: datetime) -> _Cutoffs:
        finish_idle = now - max(lost_after(), timedelta(seconds=FINISH_IDLE_SECONDS))
        return cls(now, now - stale_after(), now - lost_after(), now - LOST_CEILING * lost_after(), finish_idle)

    def depth(self, queue: str, ask: Callable[[str], int | None]) -> int | None:
        if queue not in self.depths:
            self.depths[queue] = ask(queue)
        return self.depths[queue]


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Re-dispatch what was lost: stale running tasks, pending tasks whose message never came,
    and running requests that are done but never finished. Safe to run any time, anywhere."""
    at = _Cutoffs.at(now or timezone.now())
    counts = {"stale": 0, "lost": 0, "finished": 0}
    for task_id in _candidates(at):
        with transaction.atomic():
            request, task = locked_task(task_id)
            if request.status != PR.RUNNING:
                continue
            if task.status == ST.RUNNING:
                verdict = _stale_running(request, task, at)
            elif task.status == ST.PENDING and task.dispatched_at:
                verdict = _lost_pending(task, at)
            else:
                continue
            if verdict in counts:
                counts[verdict] += 1
                enqueue(task)
    counts["finished"] = _advance_idle_requests(at)
    return counts


def _candidates(at: _Cutoffs) -> list[int]:
    return list(
        StoreTask.objects.filter(request__status=PR.RUNNING)
        .filter(
            # running, but the worker stopped beating (killed, machine gone)
            (Q(status=ST.RUNNING, heartbeat_at__lt=at.stale) & ~Q(detail__has_key="awaiting_callback"))
            # running, waiting for a callback that did not come in time
            | Q(status=ST.RUNNING, detail__has_key="awaiting_callback", next_attempt_at__lt=at.now)
            # handed out, but the message never arrived (broker restarted, enqueue failed)
            | Q(status=ST.PENDING, dispatched_at__lt=at.lost, next_attempt_at__isnull=True)
            | Q(status=ST.PENDING, dispatched_at__isnull=False, next_attempt_at__lt=at.lost)
        )
        .values_list("pk", flat=True)
    )


def _stale_running(request: PrivacyRequest, task: StoreTask, at: _Cutoffs) -> str:
    """A running task whose worker stopped beating or whose callback never came: "stale" to run
    it again, "failed" when it ran out of attempts, "" when it is alive after all."""
    waited = "awaiting_callback" in task.detail
    if not waited and (task.heartbeat_at is None or task.heartbeat_at >= at.stale):
        return ""
    if task.attempts >= max_attempts():
        task.fail(now=at.now, error="The worker stopped while running this task, too many times.")
        request.transition(
            PR.NEEDS_ATTENTION,
            actor=ACTOR,
            action="execution_failed",
            attention_reason=f'Store "{task.store}", {task.phase}: {task.last_error}',
        )
        return "failed"
    task.detail = {k: v for k, v in task.detail.items() if k != "awaiting_callback"}
    task.retry_later(
        at=None,
        error="No callback from the store in time; asking again."
        if waited
        else f"The worker stopped while running attempt {task.attempts} (killed or lost); running it again.",
        dispatched_at=at.now,
        also=["detail"],
    )
    return "stale"


def _lost_pending(task: StoreTask, at: _Cutoffs) -> str:
    """A handed-out task whose message is lost: "lost" to send it again, "" while a worker may have it.

    Its message is lost only if nobody can still have it: the queue is empty (a worker
    holding it would have claimed it) — or it has waited far longer than any queue takes.
    """
    since = task.next_attempt_at or task.dispatched_at
    assert since is not None  # the caller checked dispatched_at
    if at.depth(queue_of(task), queue_depth) != 0 and since >= at.long_lost:
        return ""
    task.next_attempt_at = None
    task.dispatched_at = at.now
    task.save(update_fields=["next_attempt_at", "dispatched_at"])
    return "lost"


def _advance_idle_requests(at: _Cutoffs) -> int:
    """Requests with nothing running nor handed out: all done (finish message lost) or a dead end.

    Returns how many were all done (``advance`` sends their finish again).
    """
    busy = StoreTask.objects.filter(request=OuterRef("pk")).filter(
        Q(status=ST.RUNNING) | Q(status=ST.PENDING, dispatched_at__isnull=False)
    )
    recent = StoreTask.objects.filter(request=OuterRef("pk"), finished_at__gte=at.finish_idle)
    idle = PrivacyRequest.objects.filter(status=PR.RUNNING).exclude(Exists(busy)).exclude(Exists(recent))
    finished = 0
    for request_id in idle.values_list("pk", flat=True):
        with transaction.atomic():
            request = locked(request_id)
            tasks = list(request.store_tasks.all())
            if tasks and all(t.status in DONE for t in tasks):
                finished += 1
            advance(request)
    return finished


def dispatch_due() -> int:
    """Start approved requests whose grace period is over (beat, every ~30 s)."""
    started = 0
    due = (
        PrivacyRequest.objects.filter(status=PR.APPROVED)
        .filter(Q(run_after__isnull=True) | Q(run_after__lte=timezone.now()))
        .values_list("pk", flat=True)
    )
    for request_id in list(due):
        try:
            started += start(request_id)
        except Exception:  # one broken request must not stop the others
            logger.exception("could not start privacy request %s", request_id)
    return started
