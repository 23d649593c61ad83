"""The host app's webhook: an outbox of signed calls; the row is the truth, the Celery message a nudge."""

from __future__ import annotations

import functools
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from abuse_app.models import (
    Case,
    WebhookDelivery,
)
from portal import audit, tokens
from portal.celery import enqueue

DELIVER_TASK = "abuse.deliver_webhook"  # abuse_app.tasks.deliver_webhook, sent by name (no import circle)

log = logging.getLogger(__name__)


def webhook_queue(event: str, case: Case | None, payload: dict[str, Any]) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        event=event,
        case=case,
        payload=payload,
        status=WebhookDelivery.Status.PENDING if settings.PORTAL_ABUSE_WEBHOOK_URL else WebhookDelivery.Status.SKIPPED,
    )
    if delivery.status == WebhookDelivery.Status.PENDING:
        transaction.on_commit(functools.partial(enqueue, DELIVER_TASK, delivery.pk))
    return delivery


def webhook_signed_body(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    timestamp = str(int(timezone.now().timestamp()))
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    signature = tokens.hmac_sign(timestamp.encode() + b"." + body)
    return body, {
        "Content-Type": "application/json",
        "X-Portal-Event": payload.get("event", ""),
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": f"sha256={signature}",
    }


class TransientWebhookError(Exception):
    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


MAX_WEBHOOK_ATTEMPTS = 8


def webhook_deliver(delivery_id: int) -> WebhookDelivery:
    """POST one delivery. Raises TransientWebhookError when the call should be retried."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    url = settings.PORTAL_ABUSE_WEBHOOK_URL
    body, headers = webhook_signed_body(delivery.payload)
    error, retry_after, permanent = "", None, False
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code} from the host app's webhook"
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 409, 425, 429)
        if exc.headers.get("Retry-After", "").isdigit():
            retry_after = int(exc.headers["Retry-After"])
    except (urllib.error.URLError, OSError) as exc:
        error = f"cannot reach the host app's webhook: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
    elif permanent or delivery.attempts >= MAX_WEBHOOK_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED, last_error=error)
        log.warning("abuse webhook delivery %s failed for good: %s", delivery.pk, error)
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
        raise TransientWebhookError(error, retry_after)
    delivery.refresh_from_db()
    return delivery


def webhooks_retry(*, deliveries: QuerySet[WebhookDelivery], actor: User) -> int:
    """Queue failed ``deliveries`` again from attempt zero (and nudge pending ones); returns the failed count."""
    with transaction.atomic():
        failed = list(
            deliveries.select_for_update().filter(status=WebhookDelivery.Status.FAILED).values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=failed).update(status=WebhookDelivery.Status.PENDING, attempts=0)
        for pk in failed:
            audit.record(subject_type="abuse_webhook", subject_id=pk, action="abuse.webhook_retried", actor=actor)
        pending = list(deliveries.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True))
        for pk in pending:
            transaction.on_commit(functools.partial(enqueue, DELIVER_TASK, pk))
    return len(failed)


def webhooks_redeliver_stale(older_than: timedelta = timedelta(hours=2)) -> int:
    """Nudge deliveries still pending after the longest retry backoff (a lost message, a dead worker).

    The host app may get a call twice; the payload's decision_id/appeal_id let it ignore repeats.
    """
    stale = list(WebhookDelivery.objects.stale(older_than).values_list("pk", flat=True)[:500])
    for pk in stale:
        enqueue(DELIVER_TASK, pk)
    return len(stale)
