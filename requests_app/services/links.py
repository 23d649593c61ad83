"""The secret links of a privacy request: status links, the confirmation link, "I lost my link".

* The confirmation link carries a random token; only its hash is stored, it is
  single use (the hash is cleared when used) and expires after
  ``PORTAL_VERIFY_LINK_HOURS``. Sending it again replaces it.
* Status links are random tokens too (``StatusLink``), only their hash stored.
  Each e-mail that points at the status page carries a link of its own, issued
  only if the e-mail's text uses it; all stay valid until revoked — by staff in
  the admin, or when the requester asks for the links again ("send me my link
  again" revokes every older link of that request). Nobody can compute a link,
  whatever keys they hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from portal import audit, mail, sealed, tokens
from requests_app.models import AccessPackage, PrivacyRequest, StatusLink
from requests_app.services.queue import SEND_LINKS, enqueue_on_commit
from requests_app.services.validation import normalise_email


def issue_status_token(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    """A new random status-link token for this request (the only copy: only its hash is stored)."""
    token = tokens.new_token("ps")
    StatusLink.objects.create(request=request, token_hash=tokens.hash_token(token), origin=origin)
    return token


def issue_status_link(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    """A new random status link for this request, as an absolute URL."""
    return mail.absolute(reverse("request-status", args=[issue_status_token(request, origin=origin)]))


def status_url(request: PrivacyRequest, *, origin: str = StatusLink.Origin.EMAIL) -> str:
    return issue_status_link(request, origin=origin)


class LazyStatusUrl:
    """The status URL of an e-mail, issued the first time the e-mail's text uses it (and only once)."""

    def __init__(self, request: PrivacyRequest, origin: str):
        self.request, self.origin, self.url = request, origin, ""

    def __str__(self) -> str:
        if not self.url:
            self.url = issue_status_link(self.request, origin=self.origin)
        return self.url


def revoke_status_links(
    request: PrivacyRequest, *, actor: audit.Actor, reason: str, links: Iterable[StatusLink] | None = None
) -> int:
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
    link = StatusLink.objects.active().select_related("request").filter(token_hash=tokens.hash_token(token)).first()
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


def verify_link_deadline() -> datetime:
    """When a confirmation link issued now stops working."""
    return timezone.now() + timedelta(hours=settings.PORTAL_VERIFY_LINK_HOURS)


def new_verify_link(request: PrivacyRequest) -> str:
    """Issue a fresh confirmation token (replacing any earlier one); returns the absolute URL.

    Sets the hash and expiry on ``request``; the caller saves them.
    """
    token = tokens.new_token("pv")
    request.verify_token_hash = tokens.hash_token(token)
    request.verify_expires_at = verify_link_deadline()
    return mail.absolute(reverse("request-verify", args=[token]))


def verify_link_expired(request: PrivacyRequest) -> bool:
    return bool(request.verify_expires_at and request.verify_expires_at <= timezone.now())


def request_links_later(*, email: str) -> None:
    """ "I lost my link", on the request path: hand the address to the queue and return.

    Whether the address is known decides everything the task does (revoking old
    links, issuing new ones, the e-mail), so none of it happens here: the reply
    costs the same work and time for a known and an unknown address.
    """
    sealed_email = sealed.seal("e-mail address", normalise_email(email))  # no address in the broker
    enqueue_on_commit(SEND_LINKS, sealed_email)


def _links_to_resend(email: str) -> list[PrivacyRequest]:
    """Open requests, and completed ones whose package can still be downloaded or whose receipt is kept."""
    now = timezone.now()
    package_available = AccessPackage.objects.filter(
        request=OuterRef("pk"), deleted_at__isnull=True, expires_at__gt=now, download_count__lt=F("max_downloads")
    )
    completed_with_something = Q(status=PrivacyRequest.Status.COMPLETED) & (
        Q(Exists(package_available)) | Q(receipt__isnull=False)
    )
    open_ = PrivacyRequest.objects.open().filter(email=email)
    kept = PrivacyRequest.objects.filter(completed_with_something, email=email)
    return list((open_ | kept).order_by("received_at")[:20])


def request_send_links(*, email: str) -> int:
    """The queue's half of "I lost my link": e-mail new status links of this address's requests.

    Open requests, and completed ones whose download package or receipt is still
    there (a person who lost the "data ready" e-mail can reach it again). The
    older links of those requests are revoked (the person may have lost them
    somewhere others can find them). Sent inside the transaction: a failed send
    revokes nothing and the task retries. Returns how many were found.
    """
    email = normalise_email(email)
    with transaction.atomic():
        found = _links_to_resend(email)
        if not found:
            return 0
        for r in found:
            revoke_status_links(r, actor="requester", reason="the requester asked for the links again")
        items = [
            {
                "reference": r.reference,
                "kind": r.kind,
                "status": r.get_status_display(),
                "status_url": status_url(r, origin=StatusLink.Origin.RESENT),
            }
            for r in found
        ]
        for r in found:
            r.note(actor="requester", action="request.links_resent")
        mail.send_now("request_links", email, {"items": items}, language=found[0].language)
    return len(found)
