"""Webhook stores answering later: the signed callback that finishes a deferred store task.

A webhook store that answers 202 raises ``Deferred``; its task stays running
until the host app POSTs the result to ``/api/v1/store-callbacks/<store>/``.
This module is that workflow: find the store and the task, check the
signature, let the store turn the answer into a result, and record it with
the engine's own ``complete``/``fail`` (so a late or repeated callback is
ignored like any other superseded result).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.input_limits import InputRefused, load_json
from requests_app.engine.execute import complete, fail
from requests_app.engine.package_sinks import StagingSink
from requests_app.models import StoreTask
from requests_app.stores import registry
from requests_app.stores.base import Discovery, Outcome, PermanentStoreError, Store, TransientStoreError


class CallbackError(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.status, self.code = status, code


def handle_callback(store_name: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    store = _webhook_store(store_name)
    answer = _signed_answer(store, body, headers)
    task = StoreTask.objects.filter(pk=answer["task"], store=store.name).first()
    if task is None:
        raise CallbackError(f'Task {answer["task"]} does not belong to store "{store.name}".', 404, "not_found")
    if task.status != StoreTask.Status.RUNNING or "awaiting_callback" not in (task.detail or {}):
        return {"ok": True, "task": task.pk, "result": "ignored: the task is not waiting for a callback"}
    action = str(task.phase)
    if answer.get("action") not in (None, action):
        raise CallbackError(f'"action" is {answer.get("action")!r} but task {task.pk} is a {action} task.')
    try:
        if action == StoreTask.Phase.EXPORT:
            with StagingSink.for_task(task, store) as sink:
                result: Discovery | Outcome = store.callback_result(action, answer, sink)
        else:
            result = store.callback_result(action, answer)
    except (PermanentStoreError, TransientStoreError) as exc:
        outcome = fail(
            task.pk,
            task.attempts,
            str(exc),
            permanent=isinstance(exc, PermanentStoreError),
            retry_after=getattr(exc, "retry_after", None),
        )
        return {"ok": True, "task": task.pk, "result": outcome}
    return {"ok": True, "task": task.pk, "result": complete(task.pk, None, result)}


def _webhook_store(store_name: str) -> Store:
    """The configured store of that name, if it answers by callback."""
    try:
        store = registry.get(store_name)
    except (KeyError, registry.StoresConfigError):
        raise CallbackError(f'No webhook store named "{store_name}" is configured.', 404, "not_found")
    if not store.answers_by_callback:
        raise CallbackError(f'Store "{store_name}" is not a webhook store.', 404, "not_found")
    return store


def _signed_answer(store: Store, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The callback's JSON, once its signature is checked; it names the task it answers."""
    problem = store.callback_problem(body, headers)
    if problem:
        raise CallbackError(f"Signature check failed: {problem}.", 401, "bad_signature")
    try:
        answer = load_json(body)  # the API's limits: size, nesting depth, numbers, control characters
    except InputRefused as exc:
        raise CallbackError(f"The body must be JSON within the API's limits: {exc}", 400, exc.code)
    if not isinstance(answer, dict) or not isinstance(answer.get("task"), int):
        raise CallbackError('"task" is required: the task number from the portal\'s call.', 400, "invalid")
    return answer
