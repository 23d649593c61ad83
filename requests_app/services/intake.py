"""Filing a privacy request: the public form and API, host apps, staff; confirming by e-mail.

A person without an account files an unconfirmed request and confirms it with
the e-mailed link; a host app (or the consent page) files one it has already
authenticated; staff file one received outside the portal. An open request of
the same kind and address is reused instead of filed twice, and the caller
cannot tell the two cases apart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit, compiled_queries, tokens
from requests_app import deadlines
from requests_app.models import AccessPackage, PrivacyRequest
from requests_app.services.decisions import approve_locked
from requests_app.services.links import find_by_verify_token, verify_link_deadline, verify_link_expired
from requests_app.services.requester_mail import email_requester_later
from requests_app.services.validation import (
    RequestError,
    clean_choice,
    clean_identifiers,
    clean_language,
    normalise_email,
)
from requests_app.stores import registry

Status = PrivacyRequest.Status
Kind = PrivacyRequest.Kind
Channel = PrivacyRequest.Channel
AUTO_APPROVER = "system:auto-approval policy"


def _open_duplicate(*, kind: str, email: str, scope_purpose: str = "") -> PrivacyRequest | None:
    """The oldest open request of this kind, address and scope, locked; the same statement either way.

    Intake runs it on every filing: compiled once per process (``portal.compiled_queries``).
    """
    return compiled_queries.first("intake.open_duplicate", _open_duplicates, kind, email, scope_purpose)


def _open_duplicates(kind: str, email: str, scope_purpose: str) -> QuerySet[PrivacyRequest]:
    return (
        PrivacyRequest.objects.open()
        .select_for_update()
        .filter(kind=kind, email=email, scope_purpose=scope_purpose)
        .order_by("received_at")
    )


def _record_received(request: PrivacyRequest, *, actor: audit.Actor, ip: str = "") -> None:
    data: dict[str, Any] = {"channel": request.channel, "kind": request.kind, "jurisdiction": request.jurisdiction}
    if ip:
        data["ip_hash"] = tokens.pseudonymise(ip)
    audit.record(
        subject_type=PrivacyRequest.AUDIT_SUBJECT,
        subject_id=request.pk,
        action="request.received",
        actor=actor,
        to_status=request.status,
        data=data,
    )


def _clean_jurisdiction(jurisdiction: Any) -> str:
    return clean_choice(
        jurisdiction or settings.PORTAL_DEFAULT_JURISDICTION, PrivacyRequest.Jurisdiction, _("jurisdiction")
    )


def request_submit(
    *,
    kind: str,
    email: str,
    jurisdiction: str,
    identifiers: dict[str, Any] | None,
    language: str,
    channel: str = Channel.WEB,
    ip: str = "",
) -> PrivacyRequest:
    """A person (no account) asks for access or deletion: create an unverified request and e-mail the link.

    If the same e-mail already has an open request of the same kind, no second
    request is made: the person is e-mailed a pointer to the open one (with a
    fresh confirmation link if it was never confirmed). The caller cannot tell
    the two cases apart: both return a request whose reference is shown, both
    hand exactly one e-mail to the queue (rendered and sent after the reply, see
    ``requester_mail_send``).
    """
    kind = clean_choice(kind, Kind, _("request kind"))
    email = normalise_email(email)
    jurisdiction = _clean_jurisdiction(jurisdiction)
    identifiers = clean_identifiers(identifiers, allowed=list(settings.PORTAL_EXTRA_IDENTIFIERS))
    language = clean_language(language)
    with transaction.atomic():
        existing = _open_duplicate(kind=kind, email=email)
        if existing is not None:
            _submitted_again(existing, channel=channel, ip=ip)
            return existing
        recent = _recent_access(kind=kind, email=email)
        if recent is not None:
            return _answer_repeat(recent, actor="requester", channel=channel)
        request = PrivacyRequest(
            kind=kind,
            email=email,
            jurisdiction=jurisdiction,
            identifiers=identifiers,
            language=language,
            channel=channel,
            status=Status.UNVERIFIED,
            # The link itself is issued by the queue with the e-mail; the deadline for using it starts now.
            verify_expires_at=verify_link_deadline(),
        )
        request.save()
        _record_received(request, actor="requester", ip=ip)
        email_requester_later(request, "request_received")
    return request


def _submitted_again(existing: PrivacyRequest, *, channel: str, ip: str) -> None:
    """The same person asked again while a request is open: point them at it (locked by the caller).

    The old confirmation link stops working now (the queue e-mails a fresh one). A confirmed
    request has none, but is written all the same: a known address costs the same work,
    query for query, as an unknown one (one write to the request row, one audit event).
    """
    existing.verify_token_hash = ""
    fields = ["verify_token_hash"]
    if existing.status == Status.UNVERIFIED:  # the fresh link's time starts now, as it would have
        existing.verify_expires_at = verify_link_deadline()
        fields.append("verify_expires_at")
    existing.save(update_fields=fields)
    existing.note(
        actor="requester",
        action="request.duplicate_submitted",
        data={"channel": channel, "ip_hash": tokens.pseudonymise(ip)} if ip else {"channel": channel},
    )
    email_requester_later(existing, "request_duplicate")


def _recent_access(*, kind: str, email: str, scope_purpose: str = "") -> PrivacyRequest | None:
    """A completed access request of this address whose package can still be downloaded, completed within
    ``PORTAL_REPEAT_ACCESS_DAYS``: a repeat is answered with it instead of running again."""
    days = settings.PORTAL_REPEAT_ACCESS_DAYS
    if kind != Kind.ACCESS or scope_purpose or not days:
        return None
    # Only the newest such request's package is looked at, and only the few columns that say whether it
    # can still be downloaded: this runs on every access request, and almost never finds one.
    newest = (
        PrivacyRequest.objects.filter(
            kind=kind,
            email=email,
            scope_purpose="",
            status=Status.COMPLETED,
            completed_at__gte=timezone.now() - timedelta(days=days),
            package__isnull=False,
        )
        .order_by("-completed_at")
        .values_list(*_PACKAGE_STATE)
        .first()
    )
    if newest is None:
        return None
    pk, deleted_at, expires_at, download_count, max_downloads = newest
    package = AccessPackage(
        deleted_at=deleted_at, expires_at=expires_at, download_count=download_count, max_downloads=max_downloads
    )
    return PrivacyRequest.objects.select_related("package").get(pk=pk) if package.is_available else None


# The newest completed request's pk and what AccessPackage.is_available reads.
_PACKAGE_STATE = (
    "pk",
    "package__deleted_at",
    "package__expires_at",
    "package__download_count",
    "package__max_downloads",
)


def _answer_repeat(request: PrivacyRequest, *, actor: audit.Actor, channel: str) -> PrivacyRequest:
    request.note(actor=actor, action="request.repeat_answered", data={"channel": channel})
    email_requester_later(request, "request_repeat_access")
    return request


def request_resend_verification(*, request: PrivacyRequest) -> PrivacyRequest:
    """Send a new confirmation link (the old one stops working). Only while unverified."""
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(request.pk)
        if request.status != Status.UNVERIFIED:
            raise RequestError(_("This request is already confirmed; there is nothing to confirm again."))
        request.verify_token_hash = ""  # the old link stops working now; the queue e-mails a fresh one
        request.verify_expires_at = verify_link_deadline()  # ... and the expiry job must not close it first
        request.save(update_fields=["verify_token_hash", "verify_expires_at"])
        request.note(actor="requester", action="request.verification_resent")
        email_requester_later(request, "request_verify_again")
    return request


def _auto_approves(request: PrivacyRequest) -> bool:
    if request.channel == Channel.AGENT:
        return False  # staff check the consumer's signed permission first (requests_app/agents.py)
    policy = set(settings.PORTAL_AUTO_APPROVE)
    return request.kind in policy or (request.channel == Channel.CONSENT_WITHDRAWAL and "consent_withdrawal" in policy)


def unproven_identifiers(request: PrivacyRequest) -> list[str]:
    """Identifier kinds the requester typed in (web form, public API) that a store finds data with.

    The e-mail check proves the address, not these: anyone can type someone
    else's username. So a request that would find data through them is not
    approved automatically; staff check the identifier belongs to the requester.
    """
    if request.channel not in (Channel.WEB, Channel.API) or not request.identifiers:
        return []
    loaded = registry.load()
    used: set[str] = set().union(*(s.needs for s in loaded.stores)) if loaded.stores else set()
    return sorted(kind for kind in request.identifiers if kind in used)


def _verify_locked(request: PrivacyRequest, *, actor: audit.Actor, reason: str = "") -> None:
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
            actor=AUTO_APPROVER,
            action="request.auto_approval_held",
            reason=_(
                "Not approved automatically: the requester gave %(kinds)s, which the e-mail check does "
                "not prove. Check it belongs to them, then approve."
            )
            % {"kinds": ", ".join(unproven)},
            data={"unproven_identifiers": unproven},
        )
    elif _auto_approves(request):
        approve_locked(
            request,
            actor=AUTO_APPROVER,
            reason=_("Approved automatically by the auto-approval setting for this kind of request."),
        )
    email_requester_later(request, "request_verified")


def request_verify(*, token: str) -> PrivacyRequest:
    """The requester pressed the button behind the e-mailed link (POST only)."""
    found = find_by_verify_token(token)
    if found is None:
        raise RequestError(
            _("This confirmation link is not valid. It may have been used already or replaced by a newer one.")
        )
    with transaction.atomic():
        request = PrivacyRequest.objects.locked(found.pk)
        if request.verify_token_hash != tokens.hash_token(token) or request.status != Status.UNVERIFIED:
            raise RequestError(_("This confirmation link has already been used."))
        if verify_link_expired(request):
            raise RequestError(
                _("This confirmation link has expired. Open the status link from the same e-mail to get a new one.")
            )
        _verify_locked(request, actor="requester", reason="")
    return request


def request_file_verified(
    *,
    kind: str,
    email: str,
    identifiers: dict[str, Any] | None,
    jurisdiction: str,
    channel: str,
    actor: audit.Actor,
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
    jurisdiction = _clean_jurisdiction(jurisdiction)
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
        recent = _recent_access(kind=kind, email=email, scope_purpose=scope_purpose)
        if recent is not None:
            return _answer_repeat(recent, actor=actor, channel=channel)
        request = PrivacyRequest.objects.create(
            kind=kind,
            email=email,
            jurisdiction=jurisdiction,
            identifiers=identifiers,
            language=clean_language(language),
            channel=channel,
            scope_purpose=scope_purpose,
            status=Status.UNVERIFIED,
        )
        _record_received(request, actor=actor)
        _verify_locked(request, actor=actor, reason=reason)
    return request


def request_file_approved(*, kind: str, email: str, actor: audit.Actor, reason: str) -> PrivacyRequest:
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
