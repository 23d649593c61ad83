"""The jobs beat runs: expire unconfirmed requests, purge old personal data, remind of deadlines.

Each is safe to run twice or to overlap a slow run: it re-checks every row under
its lock, or works in batches that a second run simply finds already done.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal import audit, audit_chain, mail, tokens
from portal.models import AuditEvent
from requests_app.engine import legal_hold
from requests_app.models import PrivacyRequest, SubjectIdentity
from requests_app.staff import privacy_officer_emails

Status = PrivacyRequest.Status
DUE_SOON_DAYS = 7
# An unconfirmed request outlives its link by this long, so the person can still
# ask for a new link from the status page; after that it expires and is purged.
UNVERIFIED_KEEP_DAYS = 7


def request_expire_unverified(*, now: datetime | None = None) -> int:
    """Expire requests never confirmed within UNVERIFIED_KEEP_DAYS after their last link ran out.

    Their personal data is purged at once: nobody confirmed them, so there is
    nothing to keep but the count.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=UNVERIFIED_KEEP_DAYS)
    ids = list(PrivacyRequest.objects.unconfirmed_since(cutoff).values_list("pk", flat=True)[:5000])
    expired = 0
    for pk in ids:
        with transaction.atomic():
            request = PrivacyRequest.objects.locked(pk)
            if (
                request.status != Status.UNVERIFIED
                or not request.verify_expires_at
                or request.verify_expires_at > cutoff
            ):
                continue  # confirmed or re-sent meanwhile
            request.transition(
                Status.EXPIRED,
                actor="system:expiry",
                action="request.expired",
                verify_token_hash="",
                verify_expires_at=None,
            )
            _purge_pii([request.pk], actor="system:expiry")
            expired += 1
    return expired


def _purge_pii(ids: list[int], *, actor: audit.Actor) -> None:
    """Blank requester data of these requests; the audit keeps a keyed hash of the e-mail."""
    now = timezone.now()
    rows = list(PrivacyRequest.objects.filter(pk__in=ids, pii_purged_at__isnull=True).values_list("pk", "email"))
    if not rows:
        return
    purged = [pk for pk, _email in rows]
    PrivacyRequest.objects.filter(pk__in=purged).update(email="", identifiers={}, pii_purged_at=now)
    SubjectIdentity.objects.filter(request_id__in=purged).delete()
    events = [
        AuditEvent(
            subject_type=PrivacyRequest.AUDIT_SUBJECT,
            subject_id=str(pk),
            action="request.pii_purged",
            at=now,
            data={"email_pseudonym": tokens.pseudonymise(email)} if email else {},
            **audit.actor_fields(actor),
        )
        for pk, email in rows
    ]
    AuditEvent.objects.bulk_create(events)
    audit_chain.seal_after_commit()


def requests_purge_closed_pii(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Purge requester data of requests closed longer than PORTAL_REQUEST_RETENTION_DAYS ago.

    The rows (status, dates, counts, receipts) and the audit trail stay; the
    e-mail survives only as a keyed hash in the purge's audit event, so a later
    "did you ever handle a request from me?" can still be answered.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PORTAL_REQUEST_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(
            PrivacyRequest.objects.pii_kept_after_close(cutoff)
            .exclude(legal_hold.awaiting_release())  # its e-mail is needed to finish what a hold withheld
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        with transaction.atomic():
            _purge_pii(ids, actor="system:retention")
        total += len(ids)


def deadline_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail each assignee (unassigned: the privacy officers) the requests due within 7 days or overdue.

    One e-mail per recipient; no requester personal data in it. Returns the number of e-mails.
    """
    now = now or timezone.now()
    by_recipient = _reminders_by_recipient(now)
    for email, items in by_recipient.items():
        mail.send(
            "request_deadline_reminder",
            email,
            {
                "items": items,
                "overdue_count": sum(1 for i in items if i["overdue"]),
                "due_soon_count": sum(1 for i in items if not i["overdue"]),
            },
            language=settings.LANGUAGE_CODE,
        )
    return len(by_recipient)


def _reminders_by_recipient(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The reminder lines of each recipient: the assignee if active with an address, else every officer."""
    by_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    officers: list[str] | None = None
    due = PrivacyRequest.objects.due_within(timedelta(days=DUE_SOON_DAYS), now=now)
    for request in due.select_related("assigned_to").order_by("effective_due"):
        item = {
            "reference": request.reference,
            "kind": request.get_kind_display(),
            "status": request.get_status_display(),
            "due": request.effective_due_at,
            "overdue": bool(request.effective_due_at and request.effective_due_at < now),
            "url": mail.absolute(reverse("admin:requests_app_privacyrequest_change", args=[request.pk])),
        }
        assignee = request.assigned_to
        if assignee and assignee.email and assignee.is_active:
            by_recipient[assignee.email].append(item)
            continue
        if officers is None:
            officers = privacy_officer_emails()
        for email in officers:
            by_recipient[email].append(item)
    return by_recipient
