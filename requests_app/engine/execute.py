"""Running one store task: claim it, run the store operation, record the result.

- ``execute_task`` claims a pending task (status → running, attempts + 1),
  runs the store operation outside any transaction while a heartbeat thread
  keeps ``heartbeat_at`` fresh, then records the result — only if the claim is
  still its own (``attempts`` unchanged).
- Errors: ``TransientStoreError`` (and unknown exceptions) back off
  exponentially with jitter via ``countdown``, honouring ``retry_after``;
  ``PermanentStoreError`` or exhausted attempts fail the task and move the
  request to needs_attention with the error.
- ``run_chain`` (what the Celery tasks call): when a step hands out a task
  whose queue this worker consumes, the worker keeps one such task and runs it
  next, after the commit, instead of a broker round trip; so does ``finish``.
  The kept task was handed out like any other (``dispatched_at``, then claimed)
  and is kept only once that hand-out commits, so a worker killed in between
  leaves a pending task the sweeper sends again. Other tasks handed out at the
  same time still go through the broker, to run in parallel on other workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal import audit_chain, metrics
from requests_app import ledger
from requests_app.engine import finish as finishing
from requests_app.engine import legal_hold, results
from requests_app.engine.dispatch import (
    ACTOR,
    PH,
    PR,
    ST,
    Chain,
    advance,
    backoff_seconds,
    current_chain,
    enqueue,
    local_run,
    locked_request_of,
    locked_task,
    max_attempts,
    send_finish,
    send_store_task,
    stale_after,
)
from requests_app.engine.package_sinks import StagingSink
from requests_app.engine.plan import subject_for
from requests_app.engine.results import needed_kinds
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry
from requests_app.stores.base import (
    Deferred,
    Discovery,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
    TransientStoreError,
)

logger = logging.getLogger(__name__)
Result = TypeVar("Result")  # what the first step of a chain returns (run_chain hands it back)


class _HeartbeatThread(threading.Thread):
    """Keeps ``heartbeat_at`` fresh while a store operation runs (own DB connection)."""

    def __init__(self, task_id: int, attempt: int):
        super().__init__(daemon=True, name=f"heartbeat-{task_id}")
        self.task_id, self.attempt = task_id, attempt
        self.stopped = threading.Event()
        # six beats per stale period: a slow database may miss a few before anyone takes it for dead
        self.interval = max(0.3, stale_after().total_seconds() / 6)

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    StoreTask.objects.filter(pk=self.task_id, status=ST.RUNNING, attempts=self.attempt).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # a missed beat is fine; the next one may work
                    logger.warning("heartbeat for store task %s not recorded", self.task_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


# --- claim, run ---------------------------------------------------------------------------
def claim(task_id: int) -> tuple[StoreTask, int] | None:
    """Lock the task's request, then the task (one query each), and start an attempt."""
    with transaction.atomic():
        try:
            request, task = locked_task(task_id)
        except (PrivacyRequest.DoesNotExist, StoreTask.DoesNotExist):
            return None
        now = timezone.now()
        if task.status != ST.PENDING or request.status != PR.RUNNING:
            return None  # done, failed, or somebody else is running it
        if task.next_attempt_at and task.next_attempt_at > now + timedelta(seconds=2) and not local_run.get():
            return None  # an early duplicate; the message with the countdown will come
        task.start_attempt(now=now)
        return task, task.attempts


def with_ledger(store: Store, subject: Subject, stores: list[Store]) -> Subject:
    """Hand a store the ledger rows it must delete (and, for verify, those it deleted)."""
    subject.ledger = ledger.rows_for(store, subject, stores)
    subject.erased_ledger = ledger.erased_rows_for(store, subject)
    return subject


def operate(store: Store, task: StoreTask, subject: Subject) -> Discovery | Outcome:
    held = legal_hold.withheld(task, subject)  # a legal hold keeps this store's data: erase nothing
    if held is not None:
        return held
    with_ledger(store, subject, registry.stores())
    if task.phase == PH.DISCOVER:
        subject.wanted = needed_kinds()  # a store may leave unread what the engine would drop
        return store.discover(subject)
    if task.phase == PH.EXPORT:
        with StagingSink.for_task(task, store) as sink:
            return store.export(subject, sink)
    if task.phase == PH.ERASE:
        outcome = store.erase(subject)
        # The engine, not the store, turns what was deleted into tombstones.
        outcome.detail = {**outcome.detail, **ledger.record_result(outcome.ledger, task.pk)}
        return outcome
    found = store.verify_gone(subject)
    if found.found:
        raise TransientStoreError(
            f'store "{store.name}": still finds {found.found} item(s) after erasure '
            f"({_short_detail(found)}); trying again"
        )
    return found


def _short_detail(found: Discovery) -> str:
    if found.tables:
        return ", ".join(f"{k}: {v}" for k, v in found.tables.items() if v) or "no detail"
    return "no detail"


def execute_task(task_id: int) -> str:
    """Claim, run and record one store task. Returns what happened (for logs and commands)."""
    claimed = claim(task_id)
    if claimed is None:
        return "skipped"
    task, attempt = claimed
    try:
        store = registry.get(task.store)
    except registry.StoresConfigError as exc:
        return fail(task_id, attempt, "The stores file has errors: " + "; ".join(exc.errors[:3]), permanent=True)
    except KeyError:
        return fail(
            task_id,
            attempt,
            f'Store "{task.store}" is no longer in the stores file; add it back, or resolve this request manually.',
            permanent=True,
        )
    subject = subject_for(task.request, task)
    return _run(store, task, subject, attempt, Timing(task.store, task.phase, time.monotonic()))


@dataclass(frozen=True)
class Timing:
    """One run of a store task, recorded (``metrics.observe_store_task``) in the step that records its result."""

    store: str
    phase: str
    started: float  # time.monotonic()


def _observe(timing: Timing | None, outcome: str) -> None:
    """Record the run's metrics inside the caller's transaction: no commit of their own.

    In a savepoint, so a failed write (logged by ``metrics.add``) leaves the step's transaction usable.
    """
    if timing is None:
        return
    try:
        with transaction.atomic():
            metrics.observe_store_task(timing.store, timing.phase, time.monotonic() - timing.started, outcome)
    except DatabaseError:
        logger.warning("metrics of a store task run not recorded", exc_info=True)


def _run(store: Store, task: StoreTask, subject: Subject, attempt: int, timing: Timing) -> str:
    task_id = task.pk
    heartbeat = _HeartbeatThread(task_id, attempt)
    heartbeat.start()
    try:
        result = operate(store, task, subject)
    except Deferred as exc:
        return defer(task_id, attempt, exc, timing=timing)
    except PermanentStoreError as exc:
        return fail(task_id, attempt, str(exc), permanent=True, timing=timing)
    except TransientStoreError as exc:
        return fail(task_id, attempt, str(exc), retry_after=exc.retry_after, timing=timing)
    except Exception as exc:  # unknown errors are treated as transient (see stores.base)
        logger.warning("store task %s: %s", task_id, type(exc).__name__, exc_info=True)
        message = f'store "{task.store}": unexpected {type(exc).__name__}; see the worker log'
        return fail(task_id, attempt, message, timing=timing)
    finally:
        heartbeat.stop()
    return complete(task_id, attempt, result, timing=timing, wanted=subject.wanted)


# --- recording the result -------------------------------------------------------------------
def complete(
    task_id: int,
    attempt: int | None,
    result: Discovery | Outcome,
    *,
    timing: Timing | None = None,
    wanted: set[str] | None = None,
) -> str:
    """Record a store's result; ``attempt=None`` accepts it for whatever attempt is running (callbacks).

    ``wanted``: the identity kinds worth keeping, when the caller already knows them.
    """
    with transaction.atomic():
        outcome = _complete_locked(task_id, attempt, result, wanted)
        _observe(timing, outcome)
    return outcome


def _complete_locked(task_id: int, attempt: int | None, result: Discovery | Outcome, wanted: set[str] | None) -> str:
    # The request row, then its tasks (advance reads them all): one locking query each.
    request = locked_request_of(task_id)
    tasks = list(request.store_tasks.select_for_update().order_by("id"))
    task = next(t for t in tasks if t.pk == task_id)
    if task.status != ST.RUNNING or (attempt is not None and task.attempts != attempt):
        return "superseded"
    if isinstance(result, Discovery):
        results.record_discovery(request, task, result, wanted)
    else:
        results.record_outcome(task, result)
    task.succeed(now=timezone.now(), also=results.RESULT_FIELDS)
    advance(request, tasks)
    return "succeeded"


def fail(
    task_id: int,
    attempt: int,
    message: str,
    *,
    permanent: bool = False,
    retry_after: float | None = None,
    timing: Timing | None = None,
) -> str:
    with transaction.atomic():
        outcome = _fail_locked(task_id, attempt, message, permanent, retry_after)
        _observe(timing, outcome)
    return outcome


def _fail_locked(task_id: int, attempt: int, message: str, permanent: bool, retry_after: float | None) -> str:
    request, task = locked_task(task_id)
    if task.status != ST.RUNNING or task.attempts != attempt:
        return "superseded"
    now = timezone.now()
    if permanent or task.attempts >= max_attempts():
        task.fail(now=now, error=message)
        if request.status == PR.RUNNING:
            why = "" if permanent else f" (gave up after {task.attempts} attempts)"
            request.transition(
                PR.NEEDS_ATTENTION,
                actor=ACTOR,
                action="execution_failed",
                attention_reason=f'Store "{task.store}", {task.get_phase_display().lower()}: {message}{why}',
                data={"store": task.store, "phase": task.phase, "task": task.pk},
            )
        return "failed"
    delay = backoff_seconds(task.attempts, retry_after)
    task.retry_later(at=now + timedelta(seconds=delay), error=message, dispatched_at=now)
    enqueue(task, countdown=delay)
    return "retrying"


def defer(task_id: int, attempt: int, exc: Deferred, *, timing: Timing | None = None) -> str:
    with transaction.atomic():
        _, task = locked_task(task_id)
        if task.status != ST.RUNNING or task.attempts != attempt:
            outcome = "superseded"
        else:
            task.detail = {**task.detail, "awaiting_callback": True}
            task.next_attempt_at = timezone.now() + timedelta(seconds=exc.wait_seconds)
            task.save(update_fields=["detail", "next_attempt_at"])
            outcome = "deferred"
        _observe(timing, outcome)
    return outcome


# --- one worker running the next steps itself -------------------------------------------
def chain_budget() -> float:
    """Seconds a worker keeps running kept steps before it hands the rest to the broker."""
    return getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 600) / 4


def run_chain(first: Callable[[], Result], queues: frozenset[str]) -> Result:
    """Run ``first`` (start a request, or run a store task), then what it handed to this worker.

    Steps kept while the budget lasts run here; the rest (and anything kept when
    an error stops the chain) is sent through the broker.
    """
    chain = Chain(queues)
    token = current_chain.set(chain)
    started = time.monotonic()
    # One audit seal for the whole chain, after its last step, not one after each step's commit.
    with audit_chain.sealing_deferred():
        try:
            return _run_steps(chain, first, started)
        finally:
            current_chain.reset(token)
            _hand_back(chain)


def _run_steps(chain: Chain, first: Callable[[], Result], started: float) -> Result:
    result = first()
    while time.monotonic() - started < chain_budget():
        if chain.next_task is not None:
            task_id, chain.next_task, chain.keeping = chain.next_task, None, False
            execute_task(task_id)
        elif chain.finish is not None:
            request_id, chain.finish = chain.finish, None
            try:
                finishing.finish_or_give_up(request_id)
            except finishing.FinishRetry as exc:
                send_finish(request_id, countdown=exc.countdown)
        else:
            break
    return result


def _hand_back(chain: Chain) -> None:
    """Send what the chain kept but did not run (budget spent, or an error) through the broker."""
    if chain.next_task is not None:
        kind = StoreTask.objects.filter(pk=chain.next_task).values_list("store_kind", flat=True).first() or ""
        send_store_task(chain.next_task, kind)
    if chain.finish is not None:
        send_finish(chain.finish)
