"""E-mails to the person who made a privacy request.

Decisions (denied, extended, canceled) are sent after the commit of the step
that made them (``portal.mail.send``). The e-mails of intake are rendered and
sent by the queue, after the reply (``email_requester_later`` and
``requester_mail_send``); those that carry a confirmation link issue it there
too, so only its hash is stored and the raw token never goes through the broker.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from portal import mail
from portal.models import AuditEvent
from requests_app.models import PrivacyRequest, StatusLink
from requests_app.services.links import LazyStatusUrl, new_verify_link
from requests_app.services.queue import SEND_REQUESTER_MAIL, enqueue_on_commit

QUEUED_TEMPLATES = frozenset(
    {"request_received", "request_duplicate", "request_verify_again", "request_verified", "request_repeat_access"}
)
_WITH_VERIFY_LINK = frozenset({"request_received", "request_duplicate", "request_verify_again"})


def _requester_context(request: PrivacyRequest, **context: Any) -> dict[str, Any]:
    return {
        "req": request,
        "reference": request.reference,
        "kind": request.kind,
        "status_url": LazyStatusUrl(request, StatusLink.Origin.EMAIL),
        "due_at": request.effective_due_at,
        "verify_hours": settings.PORTAL_VERIFY_LINK_HOURS,
        **context,
    }


def email_requester(request: PrivacyRequest, template: str, **context: Any) -> None:
    """E-mail the requester after the surrounding transaction commits (nothing if their data is purged)."""
    if not request.email:
        return  # personal data already purged: nobody to write to
    mail.send(template, request.email, _requester_context(request, **context), language=request.language)


def email_requester_later(request: PrivacyRequest, template: str) -> None:
    """Hand this intake e-mail to the queue when the surrounding transaction commits."""
    enqueue_on_commit(SEND_REQUESTER_MAIL, request.pk, template, uuid.uuid4().hex)


def requester_mail_send(*, request_id: int, template: str, key: str) -> bool:
    """The queue's half of an intake e-mail; ``key`` makes it idempotent (False: sent before).

    Sent inside the transaction that records it: a transport failure rolls back
    the new links and the record, and the task retries; a retry after success
    finds the record and sends nothing.
    """
    if template not in QUEUED_TEMPLATES:
        raise ValueError(f"{template!r} is not an e-mail the queue sends for intake")
    with transaction.atomic():
        request = PrivacyRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or not request.email:
            return False  # deleted or purged meanwhile: nobody to write to
        sent = AuditEvent.objects.filter(
            subject_type=PrivacyRequest.AUDIT_SUBJECT,
            subject_id=str(request_id),
            action="request.mail_sent",
            data__key=key,
        )
        if sent.exists():
            return False
        verify_url = ""
        if template in _WITH_VERIFY_LINK and request.status == PrivacyRequest.Status.UNVERIFIED:
            verify_url = new_verify_link(request)
            request.save(update_fields=["verify_token_hash", "verify_expires_at"])
        mail.send_now(
            template, request.email, _requester_context(request, verify_url=verify_url), language=request.language
        )
        request.note(actor="system:mail", action="request.mail_sent", data={"key": key, "template": template})
    return True
