"""The execution engine's workflow: plan → discover → export/erase → verify → finish.

The database is the truth. A Celery message only says "look at StoreTask N";
every step starts by locking the rows it changes and checking their state, so a
duplicated, late or lost message never does work twice nor skips work:

- ``start`` plans one StoreTask per (store, phase) and moves the request to running.
- ``advance`` (under the request's row lock) hands out the tasks whose
  dependencies are done: discovery in dependency order (a store that *needs*
  an identity kind waits for the stores that *provide* it), export/erase only
  after every discovery succeeded, verify after its store's erase. When all is
  done, it hands the request to ``finish``.
- ``execute_task`` claims a pending task (status → running, attempts + 1),
  runs the store operation outside any transaction while a heartbeat thread
  keeps ``heartbeat_at`` fresh, then records the result — only if the claim is
  still its own (``attempts`` unchanged).
- Errors: ``TransientStoreError`` (and unknown exceptions) back off
  exponentially with jitter via ``countdown``, honouring ``retry_after``;
  ``PermanentStoreError`` or exhausted attempts fail the task and move the
  request to needs_attention with the error.
- ``sweep`` (beat, every 15 s) re-dispatches running tasks whose heartbeat went
  stale (worker killed: 30 s by default) and pending tasks whose message never
  arrived (broker lost it: still pending 30 s after hand-out while their queue is
  empty, or 10 × that whatever the queue holds). Lost work re-runs within a minute;
  a task whose worker still beats is never handed out again.

- ``run_chain`` (what the Celery tasks call): when a step hands out a task
  whose queue this worker consumes, the worker keeps one such task and runs it
  next, after the commit, instead of a broker round trip; so does ``finish``.
  The kept task was handed out like any other (``dispatched_at``, then claimed)
  and is kept only once that hand-out commits, so a worker killed in between
  leaves a pending task the sweeper sends again.
  Other tasks handed out at the same time still go through the broker, to run in
  parallel on other workers.

Lock order everywhere: the PrivacyRequest row, then StoreTask rows.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portal import metrics
from requests_app.engine import legal_hold
from requests_app.models import PrivacyRequest, StoreTask, SubjectIdentity
from requests_app.stores import registry
from requests_app.stores.base import (
    Deferred,
    Discovery,
    Outcome,
    PermanentStoreError,
    Store,
    StoreError,
    Subject,
    TransientStoreError,
)

logger = logging.getLogger(__name__)

ACTOR = "system:engine"
PR = PrivacyRequest.Status
ST = StoreTask.Status
PH = StoreTask.Phase
DONE = (ST.SUCCEEDED, ST.SKIPPED)

# When true (commands, tests), nothing is sent to Celery: run_local drives the tasks itself.
_local: contextvars.ContextVar[bool] = contextvars.ContextVar("engine_local", default=False)


class _Chain:
    """What a worker keeps to run itself next (see ``run_chain``)."""

    def __init__(self, queues: frozenset[str]):
        self.queues = queues
        self.keeping = False  # a task was kept in the current step (one per step)
        self.next_task: int | None = None  # set only once the hand-out is committed
        self.finish: int | None = None

    def keep(self, task_id: int) -> None:
        self.next_task = task_id

    def keep_finish(self, request_id: int) -> None:
        self.finish = request_id


_chain: contextvars.ContextVar[_Chain | None] = contextvars.ContextVar("engine_chain", default=None)


# --- settings ---------------------------------------------------------------------------
def max_attempts() -> int:
    return getattr(settings, "PORTAL_STORE_TASK_MAX_ATTEMPTS", 6)


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "PORTAL_STORE_TASK_STALE_SECONDS", 30))


def lost_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "PORTAL_STORE_TASK_LOST_SECONDS", 30))


# A handed-out task waits at most this many lost periods behind a busy queue before it is sent again.
LOST_CEILING = 10


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, at least the store's Retry-After."""
    base = getattr(settings, "PORTAL_STORE_TASK_BACKOFF_SECONDS", 10)
    ceiling = min(3600.0, base * (2 ** max(0, attempt - 1)))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    return max(delay, float(retry_after or 0))


# --- identities and planning ------------------------------------------------------------
def subject_for(request: PrivacyRequest, task: StoreTask | None = None) -> Subject:
    identities: dict[str, set[str]] = {}
    for kind, value in request.identities.values_list("kind", "value"):
        identities.setdefault(kind, set()).add(value)
    return Subject(
        identities=identities,
        purpose=request.scope_purpose or None,
        request_id=request.pk,
        task_id=task.pk if task else None,
    )


def seed_identities(request: PrivacyRequest) -> None:
    rows = []
    if request.email:
        rows.append(
            SubjectIdentity(
                request=request, kind="email", value=request.email.strip().lower(), source="request"
            )
        )
    for kind, value in (request.identifiers or {}).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in (None, "") and len(str(item)) <= 512:
                rows.append(
                    SubjectIdentity(
                        request=request, kind=str(kind), value=str(item).strip(), source="request"
                    )
                )
    SubjectIdentity.objects.bulk_create(rows, ignore_conflicts=True)


def phases_for(request: PrivacyRequest, store: Store) -> list[str]:
    if request.kind == PrivacyRequest.Kind.ACCESS:
        return [PH.DISCOVER, PH.EXPORT]
    if request.scope_purpose and not store.services:
        # Consent withdrawal: only the Azure data sent under the purpose is erased;
        # the host app's own stores are only asked who the subject is.
        return [PH.DISCOVER]
    return [PH.DISCOVER, PH.ERASE, PH.VERIFY]


def cannot_hold_anything(request: PrivacyRequest, store: Store) -> bool:
    """True for the ledger catch-all store when the ledger cannot name this subject.

    The catch-all only ever acts on ledger rows. It is skipped when no live row is
    recorded by an identity of the subject known now, and no live row is recorded
    by a kind the subject's identities are not known in yet (``user_id`` rows wait
    for discovery to reveal the subject's id, so they keep the store planned).
    One EXISTS query; the usual request of a person the app never sent to Azure
    then plans no ledger tasks at all.
    """
    if not store.ledger_catch_all:
        return False
    from requests_app.models import Transmission

    known: dict[str, set[str]] = {}
    for kind, value in request.identities.values_list("kind", "value"):
        known.setdefault(kind, set()).add(value)
    could_be_theirs = ~Q(subject_kind__in=list(known))
    for kind, values in known.items():
        could_be_theirs |= Q(subject_kind=kind, subject_value__in=list(values))
    return not Transmission.objects.filter(could_be_theirs, deleted_at__isnull=True).exists()


def plan(request: PrivacyRequest, stores: list[Store]) -> None:
    seed_identities(request)
    rows = [
        StoreTask(request=request, store=store.name, store_kind=store.kind, phase=phase)
        for store in stores
        if not cannot_hold_anything(request, store)
        for phase in phases_for(request, store)
    ]
    StoreTask.objects.bulk_create(rows, ignore_conflicts=True)


def _locked(request_id: int) -> PrivacyRequest:
    return PrivacyRequest.objects.select_for_update().get(pk=request_id)


# --- start, retry, resolve ------------------------------------------------------------
def is_due(request: PrivacyRequest) -> bool:
    return request.run_after is None or request.run_after <= timezone.now()


def schedule_start(request: PrivacyRequest) -> None:
    """Start after commit if the grace period is over; otherwise the beat dispatcher will."""
    if not is_due(request) or _local.get():
        return
    from requests_app.engine import tasks

    request_id = request.pk
    transaction.on_commit(lambda: tasks.start_request.delay(request_id), robust=True)


def start(request_id: int, actor: Any = ACTOR) -> bool:
    """Plan and start an approved request whose grace period is over. Idempotent."""
    with transaction.atomic():
        request = _locked(request_id)
        if request.status != PR.APPROVED or not is_due(request):
            return False
        loaded = registry.load()
        if loaded.errors:
            request.transition(PR.RUNNING, actor=actor, action="execution_started", started_at=timezone.now())
            request.transition(
                PR.NEEDS_ATTENTION,
                actor=actor,
                action="execution_failed",
                attention_reason="The stores file has errors; fix them (manage.py check_stores) "
                "and retry: " + "; ".join(loaded.errors[:5]),
            )
            return False
        plan(request, loaded.stores)
        request.transition(
            PR.RUNNING,
            actor=actor,
            action="execution_started",
            started_at=timezone.now(),
            data={"stores": [s.name for s in loaded.stores]},
        )
        advance(request)
    return True


def retry(request: PrivacyRequest, actor: Any) -> int:
    """Run a request in needs_attention again: failed tasks get a fresh budget of attempts.

    Returns the number of tasks set back to pending.
    """
    with transaction.atomic():
        request = _locked(request.pk)
        if request.status != PR.NEEDS_ATTENTION:
            from requests_app.models import InvalidTransition

            raise InvalidTransition("Only a request that needs attention can be retried.")
        if not request.store_tasks.exists():
            loaded = registry.load()
            if loaded.errors:
                raise PermanentStoreError("The stores file still has errors: " + "; ".join(loaded.errors[:5]))
            plan(request, loaded.stores)
        reset = request.store_tasks.filter(status__in=[ST.FAILED, ST.PENDING]).update(
            status=ST.PENDING, attempts=0, next_attempt_at=None, dispatched_at=None, heartbeat_at=None
        )
        request.transition(
            PR.RUNNING,
            actor=actor,
            action="execution_retried",
            attention_reason="",
            data={"tasks_reset": reset},
        )
        advance(request)
    return reset


def close_with_exceptions(request: PrivacyRequest, actor: Any, reason: str) -> None:
    """Staff accept what an erasure left (listed on the request) and close it; the receipt lists it."""
    if not reason.strip():
        raise ValueError("Say why the request may close with items left; it goes into the audit and the receipt.")
    from requests_app.engine import finish as finishing

    finishing.finish(request.pk, manual_reason=reason.strip(), actor=actor, exceptions=True)


def resolve_manually(request: PrivacyRequest, actor: Any, reason: str) -> None:
    """Staff closed what the engine could not (e.g. erased by hand). The receipt says so."""
    if not reason.strip():
        raise ValueError("Say what was done by hand; the reason goes into the audit trail and the receipt.")
    from requests_app.engine import finish as finishing

    finishing.finish(request.pk, manual_reason=reason.strip(), actor=actor)


# --- advancing ----------------------------------------------------------------------------
def runnable(
    request: PrivacyRequest, tasks: list[StoreTask], *, handed_out_too: bool = False
) -> list[StoreTask]:
    """Pending, not yet handed out (unless ``handed_out_too``), and everything they depend on is done."""
    loaded = registry.load()
    deps = registry.discovery_dependencies(loaded.stores)
    discover_done = {t.store for t in tasks if t.phase == PH.DISCOVER and t.status in DONE}
    all_discovered = all(t.status in DONE for t in tasks if t.phase == PH.DISCOVER)
    erased = {t.store for t in tasks if t.phase == PH.ERASE and t.status in DONE}
    ready = []
    for task in tasks:
        if task.status != ST.PENDING or (task.dispatched_at is not None and not handed_out_too):
            continue
        if task.phase == PH.DISCOVER:
            ok = deps.get(task.store, set()) <= discover_done | (
                deps.get(task.store, set()) - {t.store for t in tasks if t.phase == PH.DISCOVER}
            )
        elif task.phase in (PH.EXPORT, PH.ERASE):
            ok = all_discovered
        else:
            ok = task.store in erased
        if ok:
            ready.append(task)
    return ready


def advance(request: PrivacyRequest) -> list[StoreTask]:
    """Hand out what can run now; hand the request to finish when all is done.

    Call inside a transaction holding the request's row lock. Returns the tasks handed out.
    """
    if request.status != PR.RUNNING:
        return []
    tasks = list(request.store_tasks.select_for_update().order_by("id"))
    if tasks and all(t.status in DONE for t in tasks):
        _enqueue_finish(request.pk)
        return []
    ready = runnable(request, tasks)
    now = timezone.now()
    for task in ready:
        task.dispatched_at = now
        task.save(update_fields=["dispatched_at"])
        enqueue(task)
    if (
        not ready
        and not any(t.status in (ST.PENDING, ST.RUNNING) and t.dispatched_at for t in tasks)
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


def enqueue(task: StoreTask, countdown: float | None = None) -> None:
    if _local.get():
        return
    chain = _chain.get()
    if chain is not None and not countdown and not chain.keeping and _queue_of(task) in chain.queues:
        # this worker runs it next — only if the hand-out commits (a rolled-back step hands out nothing)
        chain.keeping = True
        task_id = task.pk
        transaction.on_commit(lambda: chain.keep(task_id))
        return
    _send(task.pk, task.store_kind, countdown)


def _send(task_id: int, store_kind: str, countdown: float | None = None) -> None:
    from requests_app.engine import tasks as celery_tasks

    queue = queue_for(store_kind)
    transaction.on_commit(
        lambda: celery_tasks.run_store_task.apply_async(args=(task_id,), countdown=countdown or 0, queue=queue),
        robust=True,
    )


def queue_for(kind: str) -> str:
    """The Celery queue of a store kind: its class says (``Store.queue``), e.g. "azure"."""
    try:
        return registry.store_class(kind).queue
    except (KeyError, ImportError):
        return Store.queue


def _enqueue_finish(request_id: int) -> None:
    if _local.get():
        return
    chain = _chain.get()
    if chain is not None and "default" in chain.queues:
        transaction.on_commit(lambda: chain.keep_finish(request_id))
        return
    from requests_app.engine import tasks as celery_tasks

    transaction.on_commit(lambda: celery_tasks.finish_request.delay(request_id), robust=True)


# --- running one task -----------------------------------------------------------------
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
                    StoreTask.objects.filter(
                        pk=self.task_id, status=ST.RUNNING, attempts=self.attempt
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is fine; the next one may work
                    logger.warning("heartbeat for store task %s not recorded", self.task_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def claim(task_id: int) -> tuple[StoreTask, int] | None:
    with transaction.atomic():
        request_id = StoreTask.objects.filter(pk=task_id).values_list("request_id", flat=True).first()
        if request_id is None:
            return None
        request = _locked(request_id)
        task = StoreTask.objects.select_for_update().get(pk=task_id)
        now = timezone.now()
        if task.status != ST.PENDING or request.status != PR.RUNNING:
            return None  # done, failed, or somebody else is running it
        if task.next_attempt_at and task.next_attempt_at > now + timedelta(seconds=2) and not _local.get():
            return None  # an early duplicate; the message with the countdown will come
        task.status = ST.RUNNING
        task.attempts += 1
        task.started_at = task.started_at or now
        task.heartbeat_at = now
        task.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])
        task.request = request
        return task, task.attempts


def with_ledger(store: Store, subject: Subject, stores: list[Store]) -> Subject:
    """Hand a store the ledger rows it must delete (and, for verify, those it deleted)."""
    from requests_app import ledger

    subject.ledger = ledger.rows_for(store, subject, stores)
    subject.erased_ledger = ledger.erased_rows_for(store, subject)
    return subject


def operate(store: Store, task: StoreTask, subject: Subject) -> Discovery | Outcome:
    held = legal_hold.withheld(task, subject)  # a legal hold keeps this store's data: erase nothing
    if held is not None:
        return held
    with_ledger(store, subject, registry.stores())
    if task.phase == PH.DISCOVER:
        return store.discover(subject)
    if task.phase == PH.EXPORT:
        from requests_app.engine.package import StagingSink

        with StagingSink.for_task(task, store) as sink:
            return store.export(subject, sink)
    if task.phase == PH.ERASE:
        from requests_app import ledger

        outcome = store.erase(subject)
        # The engine, not the store, turns what was deleted into tombstones.
        outcome.detail = {**outcome.detail, **ledger.record_result(outcome.ledger, task.pk)}
        return outcome
    found = store.verify_gone(subject)
    if found.found:
        raise TransientStoreError(
            f'store "{store.name}": still finds {found.found} item(s) after erasure '
            f"({_short_detail(found.detail)}); trying again"
        )
    return found


def execute_task(task_id: int) -> str:
    """Claim, run and record one store task. Returns what happened (for logs and commands)."""
    claimed = claim(task_id)
    if claimed is None:
        return "skipped"
    task, attempt = claimed
    try:
        store = registry.get(task.store)
    except registry.StoresConfigError as exc:
        return fail(
            task_id, attempt, "The stores file has errors: " + "; ".join(exc.errors[:3]), permanent=True
        )
    except KeyError:
        return fail(
            task_id,
            attempt,
            f'Store "{task.store}" is no longer in the stores file; add it back, or '
            "resolve this request manually.",
            permanent=True,
        )
    subject = subject_for(task.request, task)
    started = time.monotonic()
    outcome = _run(store, task, subject, attempt)
    metrics.observe_store_task(task.store, task.phase, time.monotonic() - started, outcome)
    return outcome


def _run(store: Store, task: StoreTask, subject: Subject, attempt: int) -> str:
    task_id = task.pk
    heartbeat = _HeartbeatThread(task_id, attempt)
    heartbeat.start()
    try:
        result = operate(store, task, subject)
    except Deferred as exc:
        return defer(task_id, attempt, exc)
    except PermanentStoreError as exc:
        return fail(task_id, attempt, str(exc), permanent=True)
    except TransientStoreError as exc:
        return fail(task_id, attempt, str(exc), retry_after=exc.retry_after)
    except Exception as exc:  # unknown errors are treated as transient (see stores.base)
        logger.warning("store task %s: %s", task_id, type(exc).__name__, exc_info=True)
        return fail(
            task_id, attempt, f'store "{task.store}": unexpected {type(exc).__name__}; see the worker log'
        )
    finally:
        heartbeat.stop()
    return complete(task_id, attempt, result)


def complete(task_id: int, attempt: int | None, result: Discovery | Outcome) -> str:
    """Record a store's result; ``attempt=None`` accepts it for whatever attempt is running (callbacks)."""
    with transaction.atomic():
        request = _locked(StoreTask.objects.values_list("request_id", flat=True).get(pk=task_id))
        task = StoreTask.objects.select_for_update().get(pk=task_id)
        if task.status != ST.RUNNING or (attempt is not None and task.attempts != attempt):
            return "superseded"
        now = timezone.now()
        if isinstance(result, Discovery):
            detail = dict(result.detail)
            if task.phase == PH.VERIFY:
                task.verified_gone = result.found == 0
                detail = {"verify": detail}
            else:
                task.found_count = result.found
                _persist_identities(request, task.store, result.provides)
                detail["provided_kinds"] = sorted(k for k, v in result.provides.items() if v)
            task.detail = {**task.detail, **detail}
        else:
            task.exported_count, task.erased_count, task.anonymised_count = (
                result.exported,
                result.erased,
                result.anonymised,
            )
            task.detail = {
                **{k: v for k, v in task.detail.items() if k != "awaiting_callback"},
                **result.detail,
                "manual_steps": result.manual_steps,
                "left": result.left,
                "retention": [item.as_dict() for item in result.retention],
            }
        task.status = ST.SUCCEEDED
        task.finished_at = now
        task.heartbeat_at = now
        task.next_attempt_at = None
        task.save()
        advance(request)
    return "succeeded"


def needed_kinds() -> set[str]:
    """Identity kinds worth keeping: those a store uses, and those the ledger records subjects by."""
    from requests_app import ledger

    loaded = registry.load()
    used = set().union(*(s.uses for s in loaded.stores)) if loaded.stores else set()
    return used | ledger.subject_kinds()


def kept_identities(provides: dict[str, set[str]], wanted: set[str]) -> dict[str, set[str]]:
    """The provided identities the engine keeps for later stores (workers and dry runs alike)."""
    return {
        kind: {value for value in values if value and len(value) <= 512}
        for kind, values in provides.items()
        if kind in wanted
    }


def _persist_identities(request: PrivacyRequest, source: str, provides: dict[str, set[str]]) -> None:
    rows = [
        SubjectIdentity(request=request, kind=kind, value=value, source=source)
        for kind, values in kept_identities(provides, needed_kinds()).items()
        for value in values
    ]
    SubjectIdentity.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def fail(
    task_id: int, attempt: int, message: str, *, permanent: bool = False, retry_after: float | None = None
) -> str:
    with transaction.atomic():
        request = _locked(StoreTask.objects.values_list("request_id", flat=True).get(pk=task_id))
        task = StoreTask.objects.select_for_update().get(pk=task_id)
        if task.status != ST.RUNNING or task.attempts != attempt:
            return "superseded"
        now = timezone.now()
        task.last_error = message[:2000]
        if permanent or task.attempts >= max_attempts():
            task.status = ST.FAILED
            task.finished_at = now
            task.save()
            if request.status == PR.RUNNING:
                why = "" if permanent else f" (gave up after {task.attempts} attempts)"
                request.transition(
                    PR.NEEDS_ATTENTION,
                    actor=ACTOR,
                    action="execution_failed",
                    attention_reason=f'Store "{task.store}", {task.get_phase_display().lower()}: '
                    f"{message}{why}",
                    data={"store": task.store, "phase": task.phase, "task": task.pk},
                )
            return "failed"
        delay = backoff_seconds(task.attempts, retry_after)
        task.status = ST.PENDING
        task.next_attempt_at = now + timedelta(seconds=delay)
        task.dispatched_at = now
        task.save()
        enqueue(task, countdown=delay)
    return "retrying"


def defer(task_id: int, attempt: int, exc: Deferred) -> str:
    with transaction.atomic():
        _locked(StoreTask.objects.values_list("request_id", flat=True).get(pk=task_id))
        task = StoreTask.objects.select_for_update().get(pk=task_id)
        if task.status != ST.RUNNING or task.attempts != attempt:
            return "superseded"
        task.detail = {**task.detail, "awaiting_callback": True}
        task.next_attempt_at = timezone.now() + timedelta(seconds=exc.wait_seconds)
        task.save(update_fields=["detail", "next_attempt_at"])
    return "deferred"


# --- one worker running the next steps itself -------------------------------------------
def chain_budget() -> float:
    """Seconds a worker keeps running kept steps before it hands the rest to the broker."""
    return getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 600) / 4


def run_chain(first: Callable[[], Any], queues: frozenset[str]) -> Any:
    """Run ``first`` (start a request, or run a store task), then what it handed to this worker.

    Steps kept while the budget lasts run here; the rest (and anything kept when
    an error stops the chain) is sent through the broker.
    """
    chain = _Chain(queues)
    token = _chain.set(chain)
    started = time.monotonic()
    try:
        result = first()
        while time.monotonic() - started < chain_budget():
            if chain.next_task is not None:
                task_id, chain.next_task, chain.keeping = chain.next_task, None, False
                execute_task(task_id)
            elif chain.finish is not None:
                request_id, chain.finish = chain.finish, None
                from requests_app.engine import finish as finishing

                try:
                    finishing.finish_or_give_up(request_id)
                except finishing.FinishRetry as exc:
                    from requests_app.engine import tasks as celery_tasks

                    celery_tasks.finish_request.apply_async((request_id,), countdown=exc.countdown)
            else:
                break
        return result
    finally:
        _chain.reset(token)
        _hand_back(chain)


def _hand_back(chain: _Chain) -> None:
    """Send what the chain kept but did not run (budget spent, or an error) through the broker."""
    from requests_app.engine import tasks as celery_tasks

    if chain.next_task is not None:
        kind = StoreTask.objects.filter(pk=chain.next_task).values_list("store_kind", flat=True).first() or ""
        _send(chain.next_task, kind)
    if chain.finish is not None:
        celery_tasks.finish_request.delay(chain.finish)


# --- the sweeper -------------------------------------------------------------------------
def _queue_of(task: StoreTask) -> str:
    return queue_for(task.store_kind)


def sweep(now=None) -> dict[str, int]:
    """Re-dispatch what was lost: stale running tasks, pending tasks whose message never came,
    and running requests that are done but never finished. Safe to run any time, anywhere."""
    from portal.celery import queue_depth

    now = now or timezone.now()
    stale = now - stale_after()
    lost = now - lost_after()
    long_lost = now - LOST_CEILING * lost_after()
    counts = {"stale": 0, "lost": 0, "finished": 0}
    candidates = (
        StoreTask.objects.filter(request__status=PR.RUNNING)
        .filter(
            # running, but the worker stopped beating (killed, machine gone)
            (_q(status=ST.RUNNING, heartbeat_at__lt=stale) & ~_q(detail__has_key="awaiting_callback"))
            # running, waiting for a callback that did not come in time
            | _q(status=ST.RUNNING, detail__has_key="awaiting_callback", next_attempt_at__lt=now)
            # handed out, but the message never arrived (broker restarted, enqueue failed)
            | _q(status=ST.PENDING, dispatched_at__lt=lost, next_attempt_at__isnull=True)
            | _q(status=ST.PENDING, dispatched_at__isnull=False, next_attempt_at__lt=lost)
        )
        .values_list("pk", flat=True)
    )
    depths: dict[str, int | None] = {}
    for task_id in list(candidates):
        with transaction.atomic():
            request = _locked(StoreTask.objects.values_list("request_id", flat=True).get(pk=task_id))
            task = StoreTask.objects.select_for_update().get(pk=task_id)
            if request.status != PR.RUNNING:
                continue
            if task.status == ST.RUNNING:
                waited = "awaiting_callback" in task.detail
                if not waited and (task.heartbeat_at is None or task.heartbeat_at >= stale):
                    continue
                if task.attempts >= max_attempts():
                    task.status = ST.FAILED
                    task.finished_at = now
                    task.last_error = "The worker stopped while running this task, too many times."
                    task.save()
                    request.transition(
                        PR.NEEDS_ATTENTION,
                        actor=ACTOR,
                        action="execution_failed",
                        attention_reason=f'Store "{task.store}", {task.phase}: {task.last_error}',
                    )
                    continue
                task.last_error = (
                    "No callback from the store in time; asking again."
                    if waited
                    else f"The worker stopped while running attempt {task.attempts} "
                    "(killed or lost); running it again."
                )
                task.detail = {k: v for k, v in task.detail.items() if k != "awaiting_callback"}
                task.status = ST.PENDING
                task.next_attempt_at = None
                counts["stale"] += 1
            elif task.status == ST.PENDING and task.dispatched_at:
                # Its message is lost only if nobody can still have it: the queue is empty (a worker
                # holding it would have claimed it) — or it has waited far longer than any queue takes.
                since = task.next_attempt_at or task.dispatched_at
                queue = _queue_of(task)
                if queue not in depths:
                    depths[queue] = queue_depth(queue)
                if depths[queue] != 0 and since >= long_lost:
                    continue
                counts["lost"] += 1
                task.next_attempt_at = None
            else:
                continue
            task.dispatched_at = now
            task.save()
            enqueue(task)
    # Requests with nothing running nor handed out: all done (finish message lost) or a dead end.
    busy = StoreTask.objects.filter(request=OuterRef("pk")).filter(
        _q(status=ST.RUNNING) | _q(status=ST.PENDING, dispatched_at__isnull=False)
    )
    recent = StoreTask.objects.filter(request=OuterRef("pk"), finished_at__gte=lost)
    idle = PrivacyRequest.objects.filter(status=PR.RUNNING).exclude(Exists(busy)).exclude(Exists(recent))
    for request_id in idle.values_list("pk", flat=True):
        with transaction.atomic():
            request = _locked(request_id)
            tasks = list(request.store_tasks.all())
            if tasks and all(t.status in DONE for t in tasks):
                counts["finished"] += 1
            advance(request)
    return counts


def _q(**kwargs):
    from django.db.models import Q

    return Q(**kwargs)


def dispatch_due() -> int:
    """Start approved requests whose grace period is over (beat, every ~30 s)."""
    started = 0
    due = (
        PrivacyRequest.objects.filter(status=PR.APPROVED)
        .filter(_q(run_after__isnull=True) | _q(run_after__lte=timezone.now()))
        .values_list("pk", flat=True)
    )
    for request_id in list(due):
        try:
            started += start(request_id)
        except Exception:  # one broken request must not stop the others
            logger.exception("could not start privacy request %s", request_id)
    return started


# --- discovery without a request (erase_subject --dry-run) --------------------------------
def discover_all(
    identities: dict[str, set[str]], progress: Callable[[Store, Discovery | StoreError], None] | None = None
) -> list[tuple[Store, Discovery | StoreError]]:
    """Every store's discovery for these identities, changing nothing: what a deletion would find.

    The same steps the workers take for a request's discover tasks: the same
    stores (the ledger store included), the same dependency order
    (``registry.discovery_dependencies``), the same ledger rows handed in (``with_ledger``) and
    the same identities kept between stores (``kept_identities``).
    """
    stores = registry.stores()
    deps = registry.discovery_dependencies(stores)
    wanted = needed_kinds()
    known = {kind: set(values) for kind, values in identities.items()}
    done: set[str] = set()
    results: list[tuple[Store, Discovery | StoreError]] = []
    pending = list(stores)
    while pending:
        ready = [store for store in pending if deps.get(store.name, set()) <= done] or pending[:1]
        for store in ready:
            pending.remove(store)
            done.add(store.name)
            subject = Subject(identities={kind: set(values) for kind, values in known.items()})
            try:
                result: Discovery | StoreError = store.discover(with_ledger(store, subject, stores))
            except StoreError as exc:
                result = exc
            if isinstance(result, Discovery):
                for kind, values in kept_identities(result.provides, wanted).items():
                    known.setdefault(kind, set()).update(values)
            results.append((store, result))
            if progress:
                progress(store, result)
    return results


# --- running without Celery (commands, tests) --------------------------------------------
def run_local(
    request: PrivacyRequest,
    progress: Callable[[StoreTask, str], None] | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> PrivacyRequest:
    """Drive a request to its end in this process, one task at a time (same code as the workers).

    Transient errors wait for their backoff with ``sleep`` (a management
    command may wait; a worker never does). Returns the refreshed request.
    """

    token = _local.set(True)
    try:
        if request.status == PR.APPROVED:
            start(request.pk)
        while True:
            with transaction.atomic():
                locked = _locked(request.pk)
                if locked.status != PR.RUNNING:
                    break
                tasks = list(locked.store_tasks.select_for_update().order_by("id"))
                if all(t.status in DONE for t in tasks):
                    break
                ready = [
                    t
                    for t in runnable(locked, tasks, handed_out_too=True)
                    if not t.next_attempt_at or t.next_attempt_at <= timezone.now()
                ]
                if not ready:
                    # only retries waiting for their backoff are left
                    waiting = [t for t in tasks if t.status == ST.PENDING and t.next_attempt_at]
                    if not waiting:
                        advance(locked)  # flags a dead end as needs_attention
                        break
                    soonest = min(t.next_attempt_at for t in waiting if t.next_attempt_at is not None)
                    pause = max(0.0, (soonest - timezone.now()).total_seconds())
                    ready = [
                        t for t in waiting if t.next_attempt_at is not None and t.next_attempt_at <= soonest
                    ]
                else:
                    pause = 0.0
                now = timezone.now()
                for task in ready:
                    task.dispatched_at = now
                    task.save(update_fields=["dispatched_at"])
            if pause:
                (sleep or time.sleep)(pause)  # a command may wait; workers never do (they use countdown)
            for task in ready:
                outcome = execute_task(task.pk)
                if progress:
                    task.refresh_from_db()
                    progress(task, outcome)
        request.refresh_from_db()
        if request.status == PR.RUNNING:
            from requests_app.engine import finish as finishing

            finishing.finish(request.pk)
            request.refresh_from_db()
        return request
    finally:
        _local.reset(token)


def _short_detail(detail: dict) -> str:
    tables = detail.get("tables") if isinstance(detail, dict) else None
    if isinstance(tables, dict):
        return ", ".join(f"{k}: {v}" for k, v in tables.items() if v) or "no detail"
    return "no detail"
