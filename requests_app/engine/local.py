"""Running the engine in this process, without Celery: commands, tests and dry runs.

``run_local`` drives a request to its end one task at a time with the same code
the workers run; ``discover_all`` runs every store's discovery for a set of
identities without a request, changing nothing (``erase_subject --dry-run``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from requests_app.engine import finish as finishing
from requests_app.engine.dispatch import DONE, PR, ST, advance, local_run, locked, runnable
from requests_app.engine.execute import execute_task, with_ledger
from requests_app.engine.plan import start
from requests_app.engine.results import kept_identities, needed_kinds
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry
from requests_app.stores.base import Discovery, Store, StoreError, Subject


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
    token = local_run.set(True)
    try:
        if request.status == PR.APPROVED:
            start(request.pk)
        while (step := _next_step(request.pk)) is not None:
            ready, pause = step
            if pause:
                (sleep or time.sleep)(pause)  # a command may wait; workers never do (they use countdown)
            for task in ready:
                outcome = execute_task(task.pk)
                if progress:
                    task.refresh_from_db()
                    progress(task, outcome)
        request.refresh_from_db()
        if request.status == PR.RUNNING:
            finishing.finish(request.pk)
            request.refresh_from_db()
        return request
    finally:
        local_run.reset(token)


def _next_step(request_id: int) -> tuple[list[StoreTask], float] | None:
    """The tasks to run next and how long to wait first; None when nothing is left to run."""
    with transaction.atomic():
        request = locked(request_id)
        if request.status != PR.RUNNING:
            return None
        tasks = list(request.store_tasks.select_for_update().order_by("id"))
        if all(t.status in DONE for t in tasks):
            return None
        now = timezone.now()
        ready = [
            t
            for t in runnable(request, tasks, handed_out_too=True)
            if not t.next_attempt_at or t.next_attempt_at <= now
        ]
        pause = 0.0
        if not ready:
            # only retries waiting for their backoff are left
            waiting = [t for t in tasks if t.status == ST.PENDING and t.next_attempt_at is not None]
            if not waiting:
                advance(request)  # flags a dead end as needs_attention
                return None
            soonest = min(t.next_attempt_at for t in waiting if t.next_attempt_at is not None)
            pause = max(0.0, (soonest - timezone.now()).total_seconds())
            ready = [t for t in waiting if t.next_attempt_at is not None and t.next_attempt_at <= soonest]
        now = timezone.now()
        for task in ready:
            task.dispatched_at = now
            task.save(update_fields=["dispatched_at"])
        return ready, pause
