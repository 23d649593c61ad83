"""Celery tasks of the engine: thin wrappers around the phase modules (plan, execute, sweep, finish).

A database blip (lock timeout, lost connection) retries the message with
backoff; every step re-checks the rows, so a retry never repeats work.

"Run a store task" is sent to the queue its store kind names (``Store.queue``:
``stores`` for the host app's own stores, ``azure`` for the Azure kinds, slow
and rate-limited). ``azure.run_store_task`` stays registered for messages
queued before that change.

The engine never imports this module: it sends messages by the names defined in
``dispatch`` (``RUN_STORE_TASK``...), so the tasks may import the engine freely.

Starting a request and running a store task go through ``execute.run_chain``:
the next step, if it belongs to a queue this worker consumes, runs here without
a broker round trip (``consumed_queues``).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from portal.celery import QUEUES
from requests_app.engine import finish, retention
from requests_app.engine import sweep as sweeper
from requests_app.engine.dispatch import DB_ERRORS, FINISH_REQUEST, RUN_STORE_TASK, START_REQUEST
from requests_app.engine.execute import execute_task, run_chain
from requests_app.engine.plan import start

# Options of every task whose work must not be lost: redelivered if the worker dies,
# retried with backoff on a database blip.
RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "autoretry_for": DB_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


def consumed_queues(task: Any) -> frozenset[str]:
    """The queues this worker process takes messages from (``-Q``; every queue if not limited)."""
    chosen = frozenset(task.app.amqp.queues.consume_from or ()) & frozenset(QUEUES)
    return chosen or frozenset(QUEUES)


@shared_task(name=RUN_STORE_TASK, bind=True, **RELIABLE)
def run_store_task(self: Task[[int], str], task_id: int) -> str:
    return run_chain(lambda: execute_task(task_id), consumed_queues(self))


@shared_task(name="azure.run_store_task", bind=True, **RELIABLE)
def run_azure_store_task(self: Task[[int], str], task_id: int) -> str:
    return run_chain(lambda: execute_task(task_id), consumed_queues(self))


@shared_task(name=START_REQUEST, bind=True, **RELIABLE)
def start_request(self: Task[[int], bool], request_id: int) -> bool:
    return run_chain(lambda: start(request_id), consumed_queues(self))


@shared_task(name=FINISH_REQUEST, bind=True, **RELIABLE)
def finish_request(self: Task[[int], str], request_id: int) -> str:
    """Bounded: after ``PORTAL_FINISH_MAX_ATTEMPTS`` failures the request goes to staff (see finish)."""
    try:
        return finish.finish_or_give_up(request_id)
    except finish.FinishRetry as exc:
        # The failures counted in the database bound the retries, not Celery's own count.
        raise self.retry(countdown=exc.countdown, max_retries=settings.PORTAL_FINISH_MAX_ATTEMPTS + 8) from exc


@shared_task(name="requests.engine.dispatch_due", acks_late=True, ignore_result=True)
def dispatch_due() -> int:
    return sweeper.dispatch_due()


@shared_task(name="requests.engine.sweep", acks_late=True, ignore_result=True)
def sweep() -> dict[str, int]:
    return sweeper.sweep()


@shared_task(name="requests.engine.expire_packages", acks_late=True, ignore_result=True)
def expire_packages() -> int:
    return finish.expire_packages()


@shared_task(name="requests.engine.run_retention", acks_late=True, ignore_result=True)
def run_retention() -> list[dict[str, Any]]:
    return retention.run_all()
