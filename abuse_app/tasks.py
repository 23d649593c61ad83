"""Celery tasks of abuse_app: thin wrappers around ``abuse_app.services``."""

from __future__ import annotations

import random

from celery import Task, shared_task

from abuse_app import services
from abuse_app.services import transparency_db
from portal import mail


@shared_task(name="abuse.send_notice_acknowledgement", **mail.QUEUED_MAIL_TASK)
def send_notice_acknowledgement(notice_id: int, sealed_token: str) -> bool:
    """The reporter's acknowledgement (and on-call alert), off the request path; idempotent."""
    return services.notice_acknowledge(notice_id=notice_id, sealed_token=sealed_token)


@shared_task(name="abuse.deliver_webhook", bind=True, acks_late=True, max_retries=services.MAX_WEBHOOK_ATTEMPTS)
def deliver_webhook(self: Task[[int], str], delivery_id: int) -> str:
    """Tell the host app about a decision; retried with exponential backoff and jitter."""
    try:
        return services.webhook_deliver(delivery_id).status
    except services.TransientWebhookError as exc:
        countdown = exc.retry_after or min(3600, 2**self.request.retries * 30) + random.randint(0, 15)
        raise self.retry(countdown=countdown, exc=exc)


@shared_task(name="abuse.redeliver_webhooks", acks_late=True)
def redeliver_webhooks() -> int:
    """Re-send deliveries whose Celery message was lost (pending for more than 2 hours)."""
    return services.webhooks_redeliver_stale()


@shared_task(name="abuse.purge_evidence", acks_late=True)
def purge_evidence() -> int:
    """Delete evidence files no case or appeal can need any more (never child-safety or legal hold)."""
    return services.evidence_purge()


@shared_task(name="abuse.purge_reporters", acks_late=True)
def purge_reporters() -> int:
    """Blank reporters' names and e-mails once their cases and appeal windows are closed (retention)."""
    return services.reporter_identities_purge()


@shared_task(name="abuse.send_statements", bind=True, acks_late=True, max_retries=12)
def send_statements(self: Task[[], int]) -> int:
    """Send due statements of reasons to the DSA Transparency Database (100 per call); backoff on 5xx."""
    try:
        return transparency_db.statements_send_due().sent
    except transparency_db.TransientSubmissionError as exc:
        raise self.retry(countdown=exc.retry_in, exc=exc)


# CyberTipline submission tasks live beside their models; imported so the worker registers them.
from abuse_app.cybertipline.tasks import advance_cybertipline_report, sweep_cybertipline_reports  # noqa: E402,F401
