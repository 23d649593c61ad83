"""Staff decisions on a privacy request: approve, deny, extend, assign, cancel, retry, close by hand.

Each runs in one transaction on the request row locked with ``select_for_update``;
status changes go through ``PrivacyRequest.transition`` (which writes the audit
event in the same transaction). The requester hears of denial, extension and
cancellation by e-mail after the commit. The execution itself is the engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import Actor
from requests_app import deadlines, engine
from requests_app.models import PrivacyRequest
from requests_app.services.requester_mail import email_requester
from requests_app.services.validation import RequestError
from requests_app.stores.base import StoreError

Status = PrivacyRequest.Status
# Statuses in which staff may still extend the deadline or be reminded of it.
DEADLINE_STATUSES = PrivacyRequest.DEADLINE_STATUSES
CANCELABLE_STATUSES = (Status.UNVERIFIED, Status.VERIFIED, Status.APPROVED)


def approve_locked(request: PrivacyRequest, *, actor: Actor, reason: str = "") -> None:
    """Approve a request whose row the caller holds locked, and schedule its run after the grace period."""
    now = timezone.now()
    grace = settings.PORTAL_DELETION_GRACE_HOURS if request.kind == PrivacyRequest.Kind.DELETION else 0
    request.transition(
        Status.APPROVED,
        actor=actor,
        action="request.approved",
        reason=reason,
        approved_at=now,
        run_after=now + timedelta(hours=grace),
    )
    engine.schedule_start(request)


def request_approve(*, request: PrivacyRequest, actor: Actor) -> PrivacyRequest:
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        approve_locked(request, actor=actor)
    return request


def _required_reason(reason: Any, what: str) -> str:
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise RequestError(_("A reason is required to %(what)s; it is sent to the requester.") % {"what": what})
    if len(text) > 2000:
        raise RequestError(_("The reason is too long (at most 2000 characters)."))
    return text


def request_deny(*, request: PrivacyRequest, actor: Actor, reason: str) -> PrivacyRequest:
    reason = _required_reason(reason, _("deny a request"))
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        request.transition(Status.DENIED, actor=actor, action="request.denied", reason=reason, decision_reason=reason)
        email_requester(request, "request_denied", reason=reason)
    return request


def _check_extendable(request: PrivacyRequest) -> datetime:
    """The first deadline of a request that may be extended now; RequestError saying why not otherwise."""
    if request.status not in DEADLINE_STATUSES or request.due_at is None:
        raise RequestError(
            _("Only a confirmed, open request has a deadline to extend (this one is “%(s)s”).")
            % {"s": request.get_status_display()}
        )
    if request.extended_due_at is not None:
        raise RequestError(
            _("%(ref)s was already extended once (to %(date)s); the law allows one extension.")
            % {"ref": request.reference, "date": _date(request.extended_due_at)}
        )
    if timezone.now() >= request.due_at:
        raise RequestError(
            _(
                "%(ref)s can no longer be extended: an extension must be sent before the first "
                "deadline (%(date)s) passes."
            )
            % {"ref": request.reference, "date": _date(request.due_at)}
        )
    return request.due_at


def request_extend(*, request: PrivacyRequest, actor: Actor, reason: str) -> PrivacyRequest:
    """Extend the deadline once (GDPR +2 months, CCPA +45 days), within the first period; requester told."""
    reason = _required_reason(reason, _("extend the deadline"))
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        due_at = _check_extendable(request)
        new_due = deadlines.extended_due(request.jurisdiction, due_at)
        request.extended_due_at = new_due
        request.extension_reason = reason
        request.save(update_fields=["extended_due_at", "extension_reason"])
        request.note(
            actor=actor,
            action="request.extended",
            reason=reason,
            data={"from_due": due_at.isoformat(), "to_due": new_due.isoformat()},
        )
        email_requester(
            request,
            "request_extended",
            reason=reason,
            new_due=new_due,
            extension=deadlines.extension_text(request.jurisdiction),
        )
    return request


def request_assign(*, request: PrivacyRequest, actor: Actor, assignee: Any) -> PrivacyRequest:
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise RequestError(
            _("%(user)s is not an active staff member; choose someone who can sign in to the admin.")
            % {"user": assignee.get_username()}
        )
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        previous = request.assigned_to
        request.assigned_to = assignee
        request.save(update_fields=["assigned_to"])
        request.note(
            actor=actor,
            action="request.assigned" if assignee else "request.unassigned",
            data={
                "from": previous.get_username() if previous else "",
                "to": assignee.get_username() if assignee else "",
            },
        )
    return request


def request_cancel(*, request: PrivacyRequest, actor: Actor) -> PrivacyRequest:
    """Requester or staff cancels while nothing has started running."""
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        if request.status not in CANCELABLE_STATUSES:
            raise RequestError(
                _("This request can no longer be canceled: it is “%(s)s”.")
                % {"s": request.get_status_display().lower()}
            )
        request.transition(
            Status.CANCELED,
            actor=actor,
            action="request.canceled",
            verify_token_hash="",
            verify_expires_at=None,
        )
        email_requester(request, "request_canceled")
    return request


def request_retry(*, request: PrivacyRequest, actor: Actor) -> PrivacyRequest:
    """Run the failed store tasks of a request in ``needs_attention`` again (the engine does the work)."""
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        if request.status != Status.NEEDS_ATTENTION:
            raise RequestError(
                _("Only a request that needs attention can be retried (%(ref)s is “%(s)s”).")
                % {"ref": request.reference, "s": request.get_status_display().lower()}
            )
        try:
            engine.retry(request, actor)
        except (NotImplementedError, StoreError) as exc:
            raise RequestError(_("%(ref)s cannot be retried yet: %(why)s") % {"ref": request.reference, "why": exc})
    request.refresh_from_db()
    return request


def request_resolve_manually(*, request: PrivacyRequest, actor: Actor, reason: str) -> PrivacyRequest:
    """Staff finished by hand what the engine could not (needs_attention → completed); the receipt says so."""
    reason = _required_reason(reason, _("resolve a request by hand"))
    return _close_needing_attention(
        request,
        lambda: engine.resolve_manually(request, actor, reason),
        _("Only a request that needs attention can be resolved by hand (%(ref)s is “%(s)s”)."),
    )


def request_close_with_exceptions(*, request: PrivacyRequest, actor: Actor, reason: str) -> PrivacyRequest:
    """Staff close a deletion whose erasure left items (listed on the request): completed with exceptions."""
    reason = _required_reason(reason, _("close a request with exceptions"))
    return _close_needing_attention(
        request,
        lambda: engine.close_with_exceptions(request, actor, reason),
        _("Only a request that needs attention can be closed with exceptions (%(ref)s is “%(s)s”)."),
    )


def _close_needing_attention(request: PrivacyRequest, close: Callable[[], Any], refusal: str) -> PrivacyRequest:
    if request.status != Status.NEEDS_ATTENTION:
        raise RequestError(refusal % {"ref": request.reference, "s": request.get_status_display().lower()})
    try:
        close()
    except (ValueError, StoreError) as exc:
        raise RequestError(str(exc))
    request.refresh_from_db()
    return request


def _date(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d")
