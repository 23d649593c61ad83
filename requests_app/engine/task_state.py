"""The status changes of a StoreTask, in one place.

Every step that moves a task (claim, complete, fail, retry, the sweeper) goes
through these functions instead of setting ``status`` by hand, so a status
always comes with the fields that belong to it. They are meant to become
methods of ``StoreTask`` (issue 25); the caller holds the task's row lock and
these functions save the task.
"""

from __future__ import annotations

from datetime import datetime

from requests_app.models import StoreTask

ST = StoreTask.Status


def claimed(task: StoreTask, now: datetime) -> None:
    """pending → running: one more attempt, its heartbeat starts now."""
    task.status = ST.RUNNING
    task.attempts += 1
    task.started_at = task.started_at or now
    task.heartbeat_at = now
    task.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])


def succeeded(task: StoreTask, now: datetime) -> None:
    """running → succeeded (``detail`` and the counts are set by the caller)."""
    task.status = ST.SUCCEEDED
    task.finished_at = now
    task.heartbeat_at = now
    task.next_attempt_at = None
    task.save()


def failed(task: StoreTask, now: datetime, error: str) -> None:
    """running → failed: no attempt is left or the error is permanent."""
    task.status = ST.FAILED
    task.finished_at = now
    task.last_error = error[:2000]
    task.save()


def retrying(task: StoreTask, now: datetime, error: str, next_attempt_at: datetime) -> None:
    """running → pending, handed out again with a countdown (the message is sent by the caller)."""
    task.status = ST.PENDING
    task.last_error = error[:2000]
    task.next_attempt_at = next_attempt_at
    task.dispatched_at = now
    task.save()


def back_to_pending(task: StoreTask, error: str) -> None:
    """running → pending, not saved: its worker died or its callback never came (the sweeper)."""
    task.status = ST.PENDING
    task.last_error = error
    task.detail = {k: v for k, v in task.detail.items() if k != "awaiting_callback"}
    task.next_attempt_at = None
