"""Privacy-request workflow: one function per step, shared by views, admin, API and tasks.

Every function is keyword-only. Status changes run inside ``transaction.atomic``
on a row locked with ``select_for_update`` and go through
``PrivacyRequest.transition`` / ``note`` so each one writes its audit event in
the same transaction. E-mails are sent after commit (``portal.mail``).

Errors a person can fix raise :class:`RequestError` (or the model's
``InvalidTransition``) with a message written for them; callers show it as it is.

Secret links
------------
* The verification link carries a random token; only its hash is stored, it is
  single use (the hash is cleared when used) and expires after
  ``PORTAL_VERIFY_LINK_HOURS``. Re-sending replaces it.
* Status links are random tokens too (``StatusLink``), only their hash stored.
  Each e-mail that points at the status page carries a link of its own, issued
  only if the e-mail's text uses it; all stay valid until revoked — by staff in
  the admin, or when the requester asks for the links again ("send me my link
  again" revokes every older link of that request). Nobody can compute a link,
  whatever keys they hold.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, QuerySet
from django.db.models.functions import Coalesce, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit, audit_chain, mail, roles, tokens
from portal.models import AuditEvent
from requests_app import deadlines, engine
from requests_app.engine import legal_hold
from requests_app.models import InvalidTransition, PrivacyRequest, StatusLink, SubjectIdentity
from requests_app.stores.base import StoreError

logger = logging.getLogger(__name__)

Status = PrivacyRequest.Status
Kind = PrivacyRequest.Kind
Channel = PrivacyRequest.Channel

SUBJECT = "privacy_request"
IDENTIFIER_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
IDENTIFIER_MAX_LENGTH = 200
HOST_IDENTIFIER_MAX_LENGTH = 512
DUE_SOON_DAYS = 7
# Statuses in which staff may still extend the deadline or be reminded of it.
DEADLINE_STATUSES = (Status.VERIFIED, Status.APPROVED, Status.RUNNING, Status.NEEDS_ATTENTION)
CANCELABLE_STATUSES = (Status.UNVERIFIED, Status.VERIFIED, Status.APPROVED)
# An unconfirmed request outlives its link by this long, so the person can still
# ask for a new link from the status page; after that it expires and is purged.
UNVERIFIED_KEEP_DAYS = 7


class RequestError(Exception):
    """A step that cannot be done, with a message for the person who asked for it."""


# --- Validation shared by the form, the API and host-app filing -------------------------------


def normalise_email(raw: Any) -> str:
    """Strip and lower-case; raise RequestError with a message naming the field on bad input.

    Stored lower-cased so duplicate detection and staff search use one indexed
    equality instead of a case-insensitive scan.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise RequestError(_("Enter the e-mail address the data is linked to."))
    email = raw.strip().lower()
    if len(email) > 254:
        raise RequestError(_("This e-mail address is too long (at most 254 characters)."))
    try:
        validate_email(email)
    except ValidationError:
        raise RequestError(_("Enter a valid e-mail address, like name@example.com."))
    return email


def clean_identifiers(raw: Any, *, allowed: list[str] | None) -> dict[str, str]:
    """Validate extra identifiers. ``allowed=None`` accepts any well-formed name (host apps)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise RequestError(_('Identifiers must be an object of name → value, e.g. {"username": "sam"}.'))
    limit = IDENTIFIER_MAX_LENGTH if allowed is not None else HOST_IDENTIFIER_MAX_LENGTH
    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not IDENTIFIER_KEY_RE.match(key):
            raise RequestError(
                _("“%(name)s” is not a valid identifier name (lower-case letters, digits, underscores).")
                % {"name": str(key)[:40]}
            )
        if allowed is not None and key not in allowed:
            raise RequestError(
                _("“%(name)s” is not an identifier this service asks for; use one of: %(names)s.")
                % {"name": key, "names": ", ".join(allowed) or "—"}
            )
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise RequestError(_("The value of “%(name)s” must be text.") % {"name": key})
        text = str(value).strip()
        if len(text) > limit:
            raise RequestError(
                _("The value of “%(name)s” is too long (at most %(limit)s characters).")
                % {"name": key, "limit": limit}
            )
        if text:
            cleaned[key] = text
    return cleaned


def clean_choice(value: Any, choices: Any, what: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise RequestError(
            _("Unknown %(what)s “%(value)s”; use one of: %(choices)s.")
            % {"what": what, "value": str(value)[:40], "choices": ", ".join(choices.values)}
        )
    return value


def clean_language(value: Any) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if isinstance(value, str):
        base = value.split("-")[0].lower()
        if base in codes:
            return base
    return settings.LANGUAGE_CODE


# --- Secret links ------------------------------------------------------------------------------


def issue_status_token(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    """A new random status-link token for this request (the only copy: only its hash is stored)."""
    token = tokens.new_token("ps")
    StatusLink.objects.create(request=request, token_hash=tokens.hash_token(token), origin=origin)
    return token


def issue_status_link(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    """A new random status link for this request, as an absolute URL."""
    return mail.absolute(reverse("request-status", args=[issue_status_token(request, origin=origin)]))


class _StatusUrl:
    """The status URL of an e-mail, issued the first time the e-mail's text uses it (and only once)."""

    def __init__(self, request: PrivacyRequest, origin: str):
        self.request, self.origin, self.url = request, origin, ""

    def __str__(self) -> str:
        if not self.url:
            self.url = issue_status_link(self.request, origin=self.origin)
        return self.url


def status_url(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    return issue_status_link(request, origin=origin)


def revoke_status_links(request: PrivacyRequest, *, actor: Any, reason: str, links=None) -> int:
    """Revoke these (or all active) status links of a request; audited. Returns how many."""
    qs = StatusLink.objects.active().filter(request=request)
    if links is not None:
        qs = qs.filter(pk__in=[link.pk for link in links])
    count = qs.update(revoked_at=timezone.now(), revoked_by=audit.actor_fields(actor)["actor_label"][:150])
    if count:
        request.note(actor=actor, action="request.status_links_revoked", reason=reason, data={"count": count})
    return count


def find_by_status_token(token: str) -> PrivacyRequest | None:
    if not token.startswith("ps_") or len(token) > 100:
        return None
    link = (StatusLink.objects.active().select_related("request")
            .filter(token_hash=tokens.hash_token(token)).first())
    if link is None:
        return None
    now = timezone.now()
    if link.last_used_at is None or link.last_used_at < now - timedelta(minutes=5):
        StatusLink.objects.filter(pk=link.pk).update(last_used_at=now)
    return link.request


def find_by_verify_token(token: str) -> PrivacyRequest | None:
    if not token.startswith("pv_") or len(token) > 100:
        return None
    return PrivacyRequest.objects.filter(verify_token_hash=tokens.hash_token(token)).first()


def _new_verify_link(request: PrivacyRequest) -> str:
    """Issue a fresh verification token (replacing any earlier one); returns the absolute URL."""
    token = tokens.new_token("pv")
    request.verify_token_hash = tokens.hash_token(token)
    request.verify_expires_at = timezone.now() + timedelta(hours=settings.PORTAL_VERIFY_LINK_HOURS)
    return mail.absolute(reverse("request-verify", args=[token]))


def verify_link_expired(request: PrivacyRequest) -> bool:
    return bool(request.verify_expires_at and request.verify_expires_at <= timezone.now())


# --- E-mail -------------------------------------------------------------------------------------


def _email_requester(request: PrivacyRequest, template: str, **context: Any) -> None:
    if not request.email:
        return  # personal data already purged: nobody to write to
    mail.send(
        template,
        request.email,
        {
            "req": request,
            "reference": request.reference,
            "kind": request.kind,
            "status_url": _StatusUrl(request, StatusLink.Origin.EMAIL),
            "due_at": request.effective_due_at,
            "verify_hours": settings.PORTAL_VERIFY_LINK_HOURS,
            **context,
        },
        language=request.language,
    )


# --- Intake -------------------------------------------------------------------------------------


def _lock(request: PrivacyRequest) -> PrivacyRequest:
    return PrivacyRequest.objects.select_for_update().get(pk=request.pk)


def _open_duplicate(*, kind: str, email: str, scope_purpose: str = "") -> PrivacyRequest | None:
    return (
        PrivacyRequest.objects.select_for_update()
        .filter(kind=kind, email=email, scope_purpose=scope_purpose, status__in=PrivacyRequest.OPEN_STATUSES)
        .order_by("received_at")
        .first()
    )


def _record_received(request: PrivacyRequest, *, actor: Any, ip: str = "") -> None:
    data: dict[str, Any] = {
        "channel": request.channel,
        "kind": request.kind,
        "jurisdiction": request.jurisdiction,
    }
    if ip:
        data["ip_hash"] = tokens.pseudonymise(ip)
    audit.record(
        subject_type=SUBJECT,
        subject_id=request.pk,
        action="request.received",
        actor=actor,
        to_status=request.status,
        data=data,
    )


def request_submit(
    *,
    kind: str,
    email: str,
    jurisdiction: str,
    identifiers: dict | None,
    language: str,
    channel: str = Channel.WEB,
    ip: str = "",
) -> PrivacyRequest:
    """A person (no account) asks for access or deletion: create an unverified request and e-mail the link.

    If the same e-mail already has an open request of the same kind, no second
    request is made: the person is e-mailed a pointer to the open one (with a
    fresh confirmation link if it was never confirmed). The caller cannot tell
    the two cases apart: both return a request whose reference is shown, both
    render and queue exactly one e-mail.
    """
    kind = clean_choice(kind, Kind, _("request kind"))
    email = normalise_email(email)
    jurisdiction = clean_choice(
        jurisdiction or settings.PORTAL_DEFAULT_JURISDICTION, PrivacyRequest.Jurisdiction, _("jurisdiction")
    )
    identifiers = clean_identifiers(identifiers, allowed=list(settings.PORTAL_EXTRA_IDENTIFIERS))
    language = clean_language(language)
    with transaction.atomic():
        existing = _open_duplicate(kind=kind, email=email)
        if existing is not None:
            verify_url = ""
            if existing.status == Status.UNVERIFIED:
                verify_url = _new_verify_link(existing)
                existing.save(update_fields=["verify_token_hash", "verify_expires_at"])
            existing.note(
                actor="requester",
                action="request.duplicate_submitted",
                data={"channel": channel, "ip_hash": tokens.pseudonymise(ip)} if ip else {"channel": channel},
            )
            _email_requester(existing, "request_duplicate", verify_url=verify_url)
            return existing
        request = PrivacyRequest(
            kind=kind,
            email=email,
            jurisdiction=jurisdiction,
            identifiers=identifiers,
            language=language,
            channel=channel,
            status=Status.UNVERIFIED,
        )
        verify_url = _new_verify_link(request)
        request.save()
        _record_received(request, actor="requester", ip=ip)
        _email_requester(request, "request_received", verify_url=verify_url)
    return request


def request_resend_verification(*, request: PrivacyRequest) -> PrivacyRequest:
    """Send a new confirmation link (the old one stops working). Only while unverified."""
    with transaction.atomic():
        request = _lock(request)
        if request.status != Status.UNVERIFIED:
            raise RequestError(_("This request is already confirmed; there is nothing to confirm again."))
        verify_url = _new_verify_link(request)
        request.save(update_fields=["verify_token_hash", "verify_expires_at"])
        request.note(actor="requester", action="request.verification_resent")
        _email_requester(request, "request_verify_again", verify_url=verify_url)
    return request


def request_send_links(*, email: str) -> int:
    """ "I lost my link": e-mail new status links of this address's open requests.

    The older links of those requests are revoked (the person may have lost
    them somewhere others can find them). Returns how many were found, for
    tests; callers must show the same page whatever the number, so nobody
    learns whether an address is known.
    """
    email = normalise_email(email)
    open_requests = list(
        PrivacyRequest.objects.filter(email=email, status__in=PrivacyRequest.OPEN_STATUSES).order_by(
            "received_at"
        )[:20]
    )
    if open_requests:
        first = open_requests[0]
        for r in open_requests:
            revoke_status_links(r, actor="requester", reason="the requester asked for the links again")
        items = [
            {
                "reference": r.reference,
                "kind": r.kind,
                "status": r.get_status_display(),
                "status_url": status_url(r, origin=StatusLink.Origin.RESENT),
            }
            for r in open_requests
        ]
        mail.send("request_links", email, {"items": items}, language=first.language)
        for r in open_requests:
            r.note(actor="requester", action="request.links_resent")
    return len(open_requests)


def _auto_approves(request: PrivacyRequest) -> bool:
    policy = set(settings.PORTAL_AUTO_APPROVE)
    return request.kind in policy or (
        request.channel == Channel.CONSENT_WITHDRAWAL and "consent_withdrawal" in policy
    )


def unproven_identifiers(request: PrivacyRequest) -> list[str]:
    """Identifier kinds the requester typed in (web form, public API) that a store finds data with.

    The e-mail check proves the address, not these: anyone can type someone
    else's username. So a request that would find data through them is not
    approved automatically; staff check the identifier belongs to the requester.
    """
    if request.channel not in (Channel.WEB, Channel.API) or not request.identifiers:
        return []
    from requests_app.stores import registry

    loaded = registry.load()
    used: set[str] = set().union(*(s.needs for s in loaded.stores)) if loaded.stores else set()
    return sorted(kind for kind in request.identifiers if kind in used)


def _verify_locked(request: PrivacyRequest, *, actor: Any, reason: str = "") -> None:
    now = timezone.now()
    request.transition(
        Status.VERIFIED,
        actor=actor,
        action="request.verified",
        reason=reason,
        verified_at=now,
        due_at=deadlines.first_due(request.jurisdiction, now),
        verify_token_hash="",
        verify_expires_at=None,
    )
    unproven = unproven_identifiers(request) if _auto_approves(request) else []
    if unproven:
        request.note(
            actor="system:auto-approval policy",
            action="request.auto_approval_held",
            reason=_(
                "Not approved automatically: the requester gave %(kinds)s, which the e-mail check does "
                "not prove. Check it belongs to them, then approve."
            )
            % {"kinds": ", ".join(unproven)},
            data={"unproven_identifiers": unproven},
        )
    elif _auto_approves(request):
        _approve_locked(
            request,
            actor="system:auto-approval policy",
            reason=_("Approved automatically by the auto-approval setting for this kind of request."),
        )
    _email_requester(request, "request_verified")


def request_verify(*, token: str) -> PrivacyRequest:
    """The requester pressed the button behind the e-mailed link (POST only)."""
    found = find_by_verify_token(token)
    if found is None:
        raise RequestError(
            _(
                "This confirmation link is not valid. It may have been used already or replaced "
                "by a newer one."
            )
        )
    with transaction.atomic():
        request = _lock(found)
        if request.verify_token_hash != tokens.hash_token(token) or request.status != Status.UNVERIFIED:
            raise RequestError(_("This confirmation link has already been used."))
        if verify_link_expired(request):
            raise RequestError(
                _(
                    "This confirmation link has expired. Open the status link from the same e-mail "
                    "to get a new one."
                )
            )
        _verify_locked(request, actor="requester", reason="")
    return request


def request_file_verified(
    *,
    kind: str,
    email: str,
    identifiers: dict | None,
    jurisdiction: str,
    channel: str,
    actor: Any,
    scope_purpose: str = "",
    language: str = "en",
) -> PrivacyRequest:
    """File a request whose requester the caller has already authenticated (host app, consent withdrawal).

    Skips the e-mail confirmation; the audit records who vouched for the
    identity. An open request of the same kind, e-mail and scope is reused
    (and confirmed now if it was waiting for confirmation). Auto-approval applies.
    """
    kind = clean_choice(kind, Kind, _("request kind"))
    email = normalise_email(email)
    jurisdiction = clean_choice(
        jurisdiction or settings.PORTAL_DEFAULT_JURISDICTION, PrivacyRequest.Jurisdiction, _("jurisdiction")
    )
    channel = clean_choice(channel, Channel, _("channel"))
    identifiers = clean_identifiers(identifiers, allowed=None)
    if not isinstance(scope_purpose, str) or len(scope_purpose) > 64:
        raise RequestError(_("The purpose must be a purpose slug of at most 64 characters."))
    who = audit.actor_fields(actor).get("actor_label") or "system"
    reason = _("Identity verified by %(who)s (filed for an authenticated user).") % {"who": who}
    with transaction.atomic():
        existing = _open_duplicate(kind=kind, email=email, scope_purpose=scope_purpose)
        if existing is not None:
            if existing.status == Status.UNVERIFIED:
                _verify_locked(existing, actor=actor, reason=reason)
            else:
                existing.note(actor=actor, action="request.duplicate_submitted", data={"channel": channel})
            return existing
        request = PrivacyRequest(
            kind=kind,
            email=email,
            jurisdiction=jurisdiction,
            identifiers=identifiers,
            language=clean_language(language),
            channel=channel,
            scope_purpose=scope_purpose,
            status=Status.UNVERIFIED,
        )
        request.save()
        _record_received(request, actor=actor)
        _verify_locked(request, actor=actor, reason=reason)
    return request


def request_file_approved(*, kind: str, email: str, actor: Any, reason: str) -> PrivacyRequest:
    """A request staff received outside the portal (letter, phone), filed as approved and not scheduled.

    For ``manage.py erase_subject`` / ``export_subject``, which run it at once in
    their own process with ``engine.run_local``; the audit says who filed it and why.
    """
    kind = clean_choice(kind, Kind, _("request kind"))
    email = normalise_email(email)
    now = timezone.now()
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=kind,
            email=email,
            channel=Channel.STAFF,
            status=Status.APPROVED,
            verified_at=now,
            approved_at=now,
            decision_reason=reason,
        )
        request.note(actor=actor, action="created_by_command", reason=reason)
    return request


# --- Staff decisions ------------------------------------------------------------------------------


def _approve_locked(request: PrivacyRequest, *, actor: Any, reason: str = "") -> None:
    now = timezone.now()
    grace = settings.PORTAL_DELETION_GRACE_HOURS if request.kind == Kind.DELETION else 0
    request.transition(
        Status.APPROVED,
        actor=actor,
        action="request.approved",
        reason=reason,
        approved_at=now,
        run_after=now + timedelta(hours=grace),
    )
    engine.schedule_start(request)


def request_approve(*, request: PrivacyRequest, actor: Any) -> PrivacyRequest:
    with transaction.atomic():
        request = _lock(request)
        _approve_locked(request, actor=actor)
    return request


def _required_reason(reason: Any, what: str) -> str:
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise RequestError(
            _("A reason is required to %(what)s; it is sent to the requester.") % {"what": what}
        )
    if len(text) > 2000:
        raise RequestError(_("The reason is too long (at most 2000 characters)."))
    return text


def request_deny(*, request: PrivacyRequest, actor: Any, reason: str) -> PrivacyRequest:
    reason = _required_reason(reason, _("deny a request"))
    with transaction.atomic():
        request = _lock(request)
        request.transition(
            Status.DENIED, actor=actor, action="request.denied", reason=reason, decision_reason=reason
        )
        _email_requester(request, "request_denied", reason=reason)
    return request


def request_extend(*, request: PrivacyRequest, actor: Any, reason: str) -> PrivacyRequest:
    """Extend the deadline once (GDPR +2 months, CCPA +45 days), within the first period; requester told."""
    reason = _required_reason(reason, _("extend the deadline"))
    with transaction.atomic():
        request = _lock(request)
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
        new_due = deadlines.extended_due(request.jurisdiction, request.due_at)
        request.extended_due_at = new_due
        request.extension_reason = reason
        request.save(update_fields=["extended_due_at", "extension_reason"])
        request.note(
            actor=actor,
            action="request.extended",
            reason=reason,
            data={"from_due": request.due_at.isoformat(), "to_due": new_due.isoformat()},
        )
        _email_requester(
            request,
            "request_extended",
            reason=reason,
            new_due=new_due,
            extension=deadlines.extension_text(request.jurisdiction),
        )
    return request


def request_assign(*, request: PrivacyRequest, actor: Any, assignee: Any) -> PrivacyRequest:
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise RequestError(
            _("%(user)s is not an active staff member; choose someone who can sign in to the admin.")
            % {"user": assignee.get_username()}
        )
    with transaction.atomic():
        request = _lock(request)
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


def request_cancel(*, request: PrivacyRequest, actor: Any) -> PrivacyRequest:
    """Requester or staff cancels while nothing has started running."""
    with transaction.atomic():
        request = _lock(request)
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
        _email_requester(request, "request_canceled")
    return request


def request_retry(*, request: PrivacyRequest, actor: Any) -> PrivacyRequest:
    """Run the failed store tasks of a request in ``needs_attention`` again (the engine does the work)."""
    with transaction.atomic():
        request = _lock(request)
        if request.status != Status.NEEDS_ATTENTION:
            raise RequestError(
                _("Only a request that needs attention can be retried (%(ref)s is “%(s)s”).")
                % {"ref": request.reference, "s": request.get_status_display().lower()}
            )
        try:
            engine.retry(request, actor)
        except (NotImplementedError, StoreError) as exc:
            raise RequestError(
                _("%(ref)s cannot be retried yet: %(why)s") % {"ref": request.reference, "why": exc}
            )
    request.refresh_from_db()
    return request


def request_resolve_manually(*, request: PrivacyRequest, actor: Any, reason: str) -> PrivacyRequest:
    """Staff finished by hand what the engine could not (needs_attention → completed); the receipt says so."""
    reason = _required_reason(reason, _("resolve a request by hand"))
    return _close_needing_attention(
        request,
        lambda: engine.resolve_manually(request, actor, reason),
        _("Only a request that needs attention can be resolved by hand (%(ref)s is “%(s)s”)."),
    )


def _close_needing_attention(request: PrivacyRequest, close: Any, refusal: Any) -> PrivacyRequest:
    if request.status != Status.NEEDS_ATTENTION:
        raise RequestError(refusal % {"ref": request.reference, "s": request.get_status_display().lower()})
    try:
        close()
    except (ValueError, StoreError) as exc:
        raise RequestError(str(exc))
    request.refresh_from_db()
    return request


def request_close_with_exceptions(*, request: PrivacyRequest, actor: Any, reason: str) -> PrivacyRequest:
    """Staff close a deletion whose erasure left items (listed on the request): completed with exceptions."""
    reason = _required_reason(reason, _("close a request with exceptions"))
    return _close_needing_attention(
        request,
        lambda: engine.close_with_exceptions(request, actor, reason),
        _("Only a request that needs attention can be closed with exceptions (%(ref)s is “%(s)s”)."),
    )


# --- Scheduled jobs -------------------------------------------------------------------------------


def request_expire_unverified(*, now: datetime | None = None) -> int:
    """Expire requests never confirmed within UNVERIFIED_KEEP_DAYS after their last link ran out.

    Their personal data is purged at once: nobody confirmed them, so there is
    nothing to keep but the count.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=UNVERIFIED_KEEP_DAYS)
    ids = list(
        PrivacyRequest.objects.filter(status=Status.UNVERIFIED, verify_expires_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:5000]
    )
    expired = 0
    for pk in ids:
        with transaction.atomic():
            request = PrivacyRequest.objects.select_for_update().get(pk=pk)
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


def _purge_pii(ids: list[int], *, actor: Any) -> None:
    """Blank requester data of these requests; the audit keeps a keyed hash of the e-mail."""
    now = timezone.now()
    rows = list(
        PrivacyRequest.objects.filter(pk__in=ids, pii_purged_at__isnull=True).values_list("pk", "email")
    )
    if not rows:
        return
    purged = [pk for pk, _email in rows]
    PrivacyRequest.objects.filter(pk__in=purged).update(email="", identifiers={}, pii_purged_at=now)
    SubjectIdentity.objects.filter(request_id__in=purged).delete()
    events = []
    for pk, email in rows:
        event = AuditEvent(
            subject_type=SUBJECT,
            subject_id=str(pk),
            action="request.pii_purged",
            at=now,
            data={"email_pseudonym": tokens.pseudonymise(email)} if email else {},
            **audit.actor_fields(actor),
        )
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    audit_chain.seal_after_commit()


def purge_closed_requests_pii(*, now: datetime | None = None, batch_size: int = 1000) -> int:
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
            PrivacyRequest.objects.filter(closed_at__lt=cutoff, pii_purged_at__isnull=True)
            .exclude(legal_hold.awaiting_release())  # its e-mail is needed to finish what a hold withheld
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        with transaction.atomic():
            _purge_pii(ids, actor="system:retention")
        total += len(ids)


def with_effective_due(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        effective_due=Coalesce("extended_due_at", "due_at", output_field=DateTimeField())
    )


def due_soon_or_overdue(now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return with_effective_due(PrivacyRequest.objects.filter(status__in=DEADLINE_STATUSES)).filter(
        effective_due__lt=now + timedelta(days=DUE_SOON_DAYS)
    )


def privacy_officer_emails() -> list[str]:
    users = (
        get_user_model().objects.filter(is_active=True, groups__name=roles.PRIVACY_OFFICERS).exclude(email="")
    )
    emails = sorted({u.email for u in users})
    return emails or [settings.PORTAL_OPERATOR_CONTACT]


def send_deadline_reminders(*, now: datetime | None = None) -> int:
    """E-mail each assignee (unassigned: the privacy officers) the requests due within 7 days or overdue.

    One e-mail per recipient; no requester personal data in it. Returns the number of e-mails.
    """
    now = now or timezone.now()
    by_recipient: dict[str, list[dict]] = defaultdict(list)
    officers: list[str] | None = None
    for request in due_soon_or_overdue(now).select_related("assigned_to").order_by("effective_due"):
        item = {
            "reference": request.reference,
            "kind": request.get_kind_display(),
            "status": request.get_status_display(),
            "due": request.effective_due,
            "overdue": request.effective_due < now,
            "url": mail.absolute(reverse("admin:requests_app_privacyrequest_change", args=[request.pk])),
        }
        if request.assigned_to and request.assigned_to.email and request.assigned_to.is_active:
            by_recipient[request.assigned_to.email].append(item)
        else:
            if officers is None:
                officers = privacy_officer_emails()
            for email in officers:
                by_recipient[email].append(item)
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


# --- Figures for the dashboard --------------------------------------------------------------------


@dataclass
class Dashboard:
    open_by_status: list[tuple[str, str, int]]
    overdue: int
    due_this_week: int
    median_days_30: float | None
    median_days_90: float | None
    completed_30: int
    completed_90: int
    weeks: list[tuple[datetime, int]]


def _median_days(since: datetime) -> tuple[float | None, int]:
    """Median days from confirmation (or receipt) to completion of requests completed since ``since``.

    PostgreSQL computes it in the database (percentile_cont), so a busy quarter
    is one aggregate; elsewhere the durations are fetched and taken in Python.
    """
    completed = PrivacyRequest.objects.filter(completed_at__gte=since, status=Status.COMPLETED)
    if connection.vendor == "postgresql":
        table = PrivacyRequest._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - "
                f"COALESCE(verified_at, received_at))), COUNT(*) FROM {connection.ops.quote_name(table)} "
                "WHERE status = %s AND completed_at >= %s",
                [Status.COMPLETED.value, since],
            )
            median_seconds, count = cursor.fetchone()
        return (round(median_seconds / 86400, 1) if count else None), count
    rows = completed.values_list("received_at", "verified_at", "completed_at")
    days = [
        ((done - (verified or received)).total_seconds() / 86400)
        for received, verified, done in rows
        if done is not None
    ]
    return (round(statistics.median(days), 1) if days else None), len(days)


def dashboard_figures(*, now: datetime | None = None, weeks: int = 12) -> Dashboard:
    now = now or timezone.now()
    counts = dict(
        PrivacyRequest.objects.filter(status__in=PrivacyRequest.OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    open_by_status = [
        (s.value, s.label, counts.get(s.value, 0))
        for s in Status
        if s.value in counts or s in PrivacyRequest.OPEN_STATUSES
    ]
    deadline = with_effective_due(PrivacyRequest.objects.filter(status__in=DEADLINE_STATUSES))
    overdue = deadline.filter(effective_due__lt=now).count()
    due_week = deadline.filter(effective_due__gte=now, effective_due__lt=now + timedelta(days=7)).count()
    median_30, completed_30 = _median_days(now - timedelta(days=30))
    median_90, completed_90 = _median_days(now - timedelta(days=90))
    local_now = timezone.localtime(now)
    this_week = (local_now - timedelta(days=local_now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first_week = this_week - timedelta(weeks=weeks - 1)
    per_week = {
        timezone.localtime(week).date(): n
        for week, n in PrivacyRequest.objects.filter(received_at__gte=first_week)
        .annotate(week=TruncWeek("received_at"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    }
    series = []
    for i in range(weeks):
        start = first_week + timedelta(weeks=i)
        series.append((start, per_week.get(start.date(), 0)))
    return Dashboard(
        open_by_status, overdue, due_week, median_30, median_90, completed_30, completed_90, series
    )


def _date(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d")


__all__ = [
    "InvalidTransition",
    "RequestError",
    "request_submit",
    "request_verify",
    "request_resend_verification",
    "request_send_links",
    "request_file_verified",
    "request_approve",
    "request_deny",
    "request_extend",
    "request_assign",
    "request_cancel",
    "request_retry",
    "request_resolve_manually",
    "request_close_with_exceptions",
    "request_expire_unverified",
    "purge_closed_requests_pii",
    "send_deadline_reminders",
    "dashboard_figures",
    "issue_status_link",
    "issue_status_token",
    "revoke_status_links",
    "status_url",
]
