"""Celery task of the DRP: the status callback, thin (the work is ``callbacks.deliver``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from requests_app.drp import callbacks, services

MAX_ATTEMPTS = 8


@shared_task(
    name="drp.send_status_callback",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=8,
)
def send_status_callback(self: Any, drp_id: int, seq: int, payload: dict[str, Any]) -> str:
    try:
        return callbacks.deliver(drp_id, seq, payload)
    except callbacks.TransientCallbackError as exc:
        if self.request.retries >= MAX_ATTEMPTS - 1:
            return f"gave up: {exc}"
        countdown = exc.retry_after or min(600, 5 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown, max_retries=MAX_ATTEMPTS - 1) from None


@shared_task(name="drp.forget_expired_messages", ignore_result=True)
def forget_expired_messages() -> int:
    return services.forget_expired_messages()
