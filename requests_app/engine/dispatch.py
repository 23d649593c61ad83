"""Handing out store tasks: which may run now (``runnable``), and the messages that run them.

The database is the truth; a Celery message only says "look at StoreTask N".
``advance`` runs under the request's row lock and hands out every task whose
dependencies are done: discovery in dependency order (a store that *needs* an
identity kind waits for the stores that *provide* it), export/erase only after
every discovery succeeded, verify after its store's erase. When all is done it
hands the request to ``finish``.

Messages are sent by task name (``portal.celery.app.send_task``), never by
importing ``engine.tasks``: the tasks call into the engine, so the engine must
not import them back. The names are defined here and used by ``tasks``.

Lock order everywhere: the PrivacyRequest row, then StoreTask rows.
"""

from __future__ import annotations

import contextvars
import random
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Subquery
from django.utils import timezone

from portal.celery import app as celery_app
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry
from requests_app.stores.base import Store

ACTOR = "system:engine"
PR = PrivacyRequest.Status
ST = StoreTask.Status
PH = StoreTask.Phase
DONE = (ST.SUCCEEDED, ST.SKIPPED)

# The engine's Celery task names (``tasks`` registers its functions under them).
RUN_STORE_TASK = "stores.run_store_task"
START_REQUEST = "requests.engine.start"
FINISH_REQUEST = "requests.engine.finish"

# A database blip: the task's own retry runs the step again (every step re-checks its rows).
DB_ERRORS = (OperationalError, InterfaceError)

# When true (commands, tests), nothing is sent to Celery: run_local drives the tasks itself.
local_run: contextvars.ContextVar[bool] = contextvars.ContextVar("engine_local", default=False)


class Chain:
    """What a worker keeps to run itself next (see ``execute.run_chain``)."""

    def __init__(self, queues: frozenset[str]):
        self.queues = queues
        self.keeping = False  # a task was kept in the current step (one per step)
        self.next_task: int | None = None  # set only once the hand-out is committed
        self.finish: int | None = None

    def keep(self, task_id: int) -> None:
        self.next_task = task_id

    def keep_finish(self, request_id: int) -> None:
        self.finish = request_id


current_chain: contextvars.ContextVar[Chain | None] = contextvars.ContextVar("engine_chain", default=None)


# --- settings ---------------------------------------------------------------------------
def max_attempts() -> int:
    return getattr(settings, "PORTAL_STORE_TASK_MAX_ATTEMPTS", 6)


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "PORTAL_STORE_TASK_STALE_SECONDS", 6))


def lost_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "PORTAL_STORE_TASK_LOST_SECONDS", 5))


# A handed-out task waits at most this many lost periods behind a busy queue before it is sent again.
LOST_CEILING = 10


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, at least the store's Retry-After."""
    base = getattr(settings, "PORTAL_STORE_TASK_BACKOFF_SECONDS", 10)
    ceiling = min(3600.0, base * (2 ** max(0, attempt - 1)))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    return max(delay, float(retry_after or 0))


def locked(request_id: int) -> PrivacyRequest:
    return PrivacyRequest.objects.select_for_update().get(pk=request_id)


def locked_request_of(task_id: int) -> PrivacyRequest:
    """Lock the request of a task, found by the task's id in the same query."""
    of_task = StoreTask.objects.filter(pk=task_id).values("request_id")[:1]
    return PrivacyRequest.objects.select_for_update().get(pk=Subquery(of_task))


def locked_task(task_id: int) -> tuple[PrivacyRequest, StoreTask]:
    """Lock a task's request, then the task (the lock order everywhere): one locking query each.

    Raises ``DoesNotExist`` when there is no such task.
    """
    request = locked_request_of(task_id)
    task = StoreTask.objects.select_for_update().get(pk=task_id)
    task.request = request  # no second read of the request by whoever looks at task.request
    return request, task


# --- what may run now -------------------------------------------------------------------
def runnable(request: PrivacyRequest, tasks: list[StoreTask], *, handed_out_too: bool = False) -> list[StoreTask]:
    """Pending, not yet handed out (unless ``handed_out_too``), and everything they depend on is done."""
    loaded = registry.load()
    deps = registry.discovery_dependencies(loaded.stores)
    planned_discovery = {t.store for t in tasks if t.phase == PH.DISCOVER}
    discover_done = {t.store for t in tasks if t.phase == PH.DISCOVER and t.status in DONE}
    all_discovered = all(t.status in DONE for t in tasks if t.phase == PH.DISCOVER)
    erased = {t.store for t in tasks if t.phase == PH.ERASE and t.status in DONE}
    ready = []
    for task in tasks:
        if task.status != ST.PENDING or (task.dispatched_at is not None and not handed_out_too):
            continue
        if task.phase == PH.DISCOVER:
            needs = deps.get(task.store, set())
            ok = needs <= discover_done | (needs - planned_discovery)
        elif task.phase in (PH.EXPORT, PH.ERASE):
            ok = all_discovered
        else:
            ok = task.store in erased
        if ok:
            ready.append(task)
    return ready


# What ``advance`` reads of the tasks (not ``detail``, the largest column).
ADVANCE_FIELDS = ("id", "request_id", "store", "store_kind", "phase", "status", "dispatched_at")


def advance(request: PrivacyRequest, tasks: list[StoreTask] | None = None) -> list[StoreTask]:
    """Hand out what can run now; hand the request to finish when all is done.

    Call inside a transaction holding the request's row lock. Returns the tasks handed out.
    ``tasks``: all the request's tasks as the caller holds them (read again if not given).
    They are read without a row lock of their own: every change of a task's status or
    hand-out happens under its request's row lock, which the caller holds (the heartbeat
    alone writes without it, and only ``heartbeat_at``). At most one read, and one UPDATE
    for all the tasks handed out.
    """
    if request.status != PR.RUNNING:
        return []
    if tasks is None:
        tasks = list(request.store_tasks.only(*ADVANCE_FIELDS).order_by("id"))
    if tasks and all(t.status in DONE for t in tasks):
        enqueue_finish(request.pk)
        return []
    ready = runnable(request, tasks)
    if ready:
        now = timezone.now()
        StoreTask.objects.filter(pk__in=[t.pk for t in ready]).update(dispatched_at=now)
        for task in ready:
            task.dispatched_at = now
            enqueue(task)
    elif (
        not any(t.status in (ST.PENDING, ST.RUNNING) and t.dispatched_at for t in tasks)
        and any(t.status == ST.PENDING for t in tasks)
        and not any(t.status == ST.FAILED for t in tasks)
    ):
        request.transition(
            PR.NEEDS_ATTENTION,
            actor=ACTOR,
            action="execution_failed",
            attention_reason="No store task can start: the stores depend on each other in a "
            "circle or a store was removed from the stores file. Fix the "
            "file and retry.",
        )
    return ready


# --- messages -----------------------------------------------------------------------------
def queue_for(kind: str) -> str:
    """The Celery queue of a store kind: its class says (``Store.queue``), e.g. "azure"."""
    try:
        return registry.store_class(kind).queue
    except (KeyError, ImportError):
        return Store.queue


def queue_of(task: StoreTask) -> str:
    return queue_for(task.store_kind)


def enqueue(task: StoreTask, countdown: float | None = None) -> None:
    if local_run.get():
        return
    chain = current_chain.get()
    if chain is not None and not countdown and not chain.keeping and queue_of(task) in chain.queues:
        # this worker runs it next — only if the hand-out commits (a rolled-back step hands out nothing)
        chain.keeping = True
        task_id = task.pk
        transaction.on_commit(lambda: chain.keep(task_id))
        return
    send_store_task(task.pk, task.store_kind, countdown)


def send_store_task(task_id: int, store_kind: str, countdown: float | None = None) -> None:
    """After commit, send "run store task N" to the queue of its store kind."""
    queue = queue_for(store_kind)
    transaction.on_commit(
        lambda: celery_app.send_task(RUN_STORE_TASK, args=(task_id,), countdown=countdown or 0, queue=queue),
        robust=True,
    )


def send_start(request_id: int) -> None:
    """After commit, send "start request N" (unless requests run in this process)."""
    if local_run.get():
        return
    transaction.on_commit(lambda: celery_app.send_task(START_REQUEST, args=(request_id,)), robust=True)


def send_finish(request_id: int, countdown: float | None = None) -> None:
    """Send "finish request N" now (the caller is outside the step's transaction)."""
    celery_app.send_task(FINISH_REQUEST, args=(request_id,), countdown=countdown or 0)


def enqueue_finish(request_id: int) -> None:
    if local_run.get():
        return
    chain = current_chain.get()
    if chain is not None and "default" in chain.queues:
        transaction.on_commit(lambda: chain.keep_finish(request_id))
        return
    transaction.on_commit(lambda: send_finish(request_id), robust=True)
