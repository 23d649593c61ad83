"""Handing work to the Celery queue from a service, by task name.

``requests_app.tasks`` imports the services (its tasks are thin wrappers around
them), so a service that imported the tasks module would close an import
circle. A service names the task instead: the signature resolves to the
registered task where this process has imported it (workers, tests) and is
published by name otherwise (the web process), routed as usual by
``portal.celery.route_task``.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction

# The names the tasks in requests_app.tasks are registered under (they use these constants too).
SEND_LINKS = "requests.send_links"
SEND_REQUESTER_MAIL = "requests.send_requester_mail"


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Send ``task_name(*args)`` when the surrounding transaction commits (never if it rolls back).

    The e-mail tasks keep no result, so none is waited for or stored.
    """
    signature = current_app.signature(task_name, args=args, options={"ignore_result": True})
    transaction.on_commit(signature.delay)
