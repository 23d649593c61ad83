"""Consent services: purposes with versioned notices, grant, withdraw, check, subject links.

How a browser user is identified without an account: the host app links to
``/consent/<purpose>/?subject=<token>``, made by ``subject_link`` (or
``POST /api/v1/consents/links/``). The token is random and says nothing (a
``ConsentLink`` row, stored as its hash, holds the subject, the e-mail address
for the receipt and the purposes the link was issued for); it expires after
``LINK_MAX_AGE`` (1 hour) and staff can revoke it. The page swaps the token for
a session entry and redirects to the bare URL, so the token leaves the address
bar, history and Referer at once. A person who arrives at the portal without such a link asks
for one by e-mail on ``/consent/`` (``requests_app.consent_email``: single-use links).

Withdrawal starts the erasure of the Azure data sent under that purpose: a
verified deletion request scoped to the purpose (``scope_purpose``), filed
through ``requests_app.services.intake.request_file_verified`` — the same engine,
audited, receipt e-mailed. It runs at once when ``PORTAL_AUTO_APPROVE``
contains ``consent_withdrawal``; otherwise a privacy officer approves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit, mail, tokens
from requests_app.models import (
    Consent,
    ConsentLink,
    ConsentNotice,
    ConsentPurpose,
    PrivacyRequest,
    Transmission,
)
from requests_app.services.intake import request_file_verified

LINK_MAX_AGE = 3600


class ConsentError(Exception):
    """Bad input for a consent action; the message is for people."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def get_purpose(slug: object, *, active_only: bool = True) -> ConsentPurpose:
    purpose = ConsentPurpose.objects.filter(slug=str(slug or "")).first()
    if purpose is None or (active_only and not purpose.active):
        raise ConsentError(_("There is no active purpose “%(slug)s”.") % {"slug": str(slug)[:64]}, "purpose")
    return purpose


def publish_notice(*, purpose: ConsentPurpose, text: str, actor: audit.Actor) -> ConsentNotice:
    """A new notice version. Published versions are never edited: consent records point at the text shown."""
    text = (text or "").strip()
    if not text:
        raise ConsentError(_("The notice text must not be empty."), "text")
    with transaction.atomic():
        current = ConsentPurpose.objects.select_for_update().get(pk=purpose.pk).current_notice()
        if current and current.text == text:
            return current
        notice = ConsentNotice.objects.create(
            purpose=purpose, version=(current.version + 1) if current else 1, text=text
        )
        audit.record(
            subject_type="consent_purpose",
            subject_id=purpose.pk,
            action="consent.notice_published",
            actor=actor,
            data={"version": notice.version},
        )
    return notice


def _clean_subject(subject_kind: object, subject_value: object) -> tuple[str, str]:
    kind = str(subject_kind or "user_id").strip()
    value = str(subject_value or "").strip()
    if not value:
        raise ConsentError(_("Say whose consent this is (subject)."), "subject")
    if len(value) > 512 or len(kind) > 64:
        raise ConsentError(_("The subject is too long (at most 512 characters)."), "subject")
    return kind, value


def check(subject_kind: str, subject_value: str, purpose_slug: str) -> Consent | None:
    """The subject's active consent for the purpose, or None. One indexed query."""
    return (
        Consent.objects.filter(
            subject_kind=subject_kind,
            subject_value=subject_value,
            purpose__slug=purpose_slug,
            withdrawn_at__isnull=True,
        )
        .select_related("notice")
        .order_by("-granted_at")
        .first()
    )


def grant(
    *,
    purpose: ConsentPurpose,
    subject_kind: str,
    subject_value: str,
    method: str,
    actor: audit.Actor,
    ip: str = "",
    user_agent: str = "",
    notice_version: int | None = None,
    gpc_confirmed: bool = False,
) -> Consent:
    kind, value = _clean_subject(subject_kind, subject_value)
    notice = purpose.current_notice()
    if notice is None:
        raise ConsentError(_("This purpose has no notice yet; publish one in the admin first."), "purpose")
    if notice_version is not None and notice_version != notice.version:
        raise ConsentError(
            _("The notice changed (now version %(v)d); show the new text and ask again.") % {"v": notice.version},
            "notice_version",
        )
    with transaction.atomic():
        existing = check(kind, value, purpose.slug)
        if existing and existing.notice_id == notice.pk and existing.gpc_confirmed >= gpc_confirmed:
            return existing
        consent = Consent.objects.create(
            subject_kind=kind,
            subject_value=value,
            purpose=purpose,
            notice=notice,
            notice_text=notice.text,
            method=method,
            ip_hash=tokens.pseudonymise(ip) if ip else "",
            user_agent=(user_agent or "")[:300],
            gpc_confirmed=gpc_confirmed,
        )
        audit.record(
            subject_type="consent",
            subject_id=consent.pk,
            action="consent.granted",
            actor=actor,
            data={
                "purpose": purpose.slug,
                "notice_version": notice.version,
                "method": method,
                **({"gpc_confirmed": True} if gpc_confirmed else {}),
            },
        )
    return consent


def withdraw(
    *,
    purpose: ConsentPurpose,
    subject_kind: str,
    subject_value: str,
    method: str,
    actor: audit.Actor,
    email: str = "",
    jurisdiction: str = "",
    language: str = "en",
) -> tuple[int, PrivacyRequest | None]:
    """Withdraw; if Azure data was sent under the purpose, file its erasure. Returns (withdrawn, request)."""
    kind, value = _clean_subject(subject_kind, subject_value)
    now = timezone.now()
    with transaction.atomic():
        active = list(
            Consent.objects.select_for_update().filter(
                subject_kind=kind, subject_value=value, purpose=purpose, withdrawn_at__isnull=True
            )
        )
        for consent in active:
            consent.purpose = purpose  # already loaded: the audit entry names its slug
            consent.withdraw(method=method, actor=actor, at=now)
        sent = Transmission.objects.filter(
            subject_kind=kind, subject_value=value, purpose=purpose.slug, deleted_at__isnull=True
        ).exists()
        request = None
        if sent:
            if not email:
                raise ConsentError(
                    _(
                        "Data was sent to Microsoft under this purpose; give the e-mail address the "
                        "deletion receipt should go to."
                    ),
                    "email",
                )
            request = request_file_verified(
                kind="deletion",
                email=email,
                identifiers={kind: value},
                jurisdiction=jurisdiction,
                channel="consent_withdrawal",
                actor=actor,
                scope_purpose=purpose.slug,
                language=language,
            )
    return len(active), request


# --- the consent link for the public page ---------------------------------------------------
def issue_link(
    *, purposes: list[str], subject_kind: str, subject_value: str, email: str = "", actor: audit.Actor = None
) -> str:
    """A new random consent-link token for one subject and these purposes (only its hash is kept)."""
    kind, value = _clean_subject(subject_kind, subject_value)
    slugs = [get_purpose(slug).slug for slug in purposes]
    if not slugs:
        raise ConsentError(_("Name at least one purpose."), "purpose")
    token = tokens.new_token("cl")
    ConsentLink.objects.create(
        token_hash=tokens.hash_token(token),
        subject_kind=kind,
        subject_value=value,
        email=email or "",
        purposes=slugs,
        expires_at=timezone.now() + timedelta(seconds=LINK_MAX_AGE),
        issued_by=audit.actor_fields(actor)["actor_label"][:150],
    )
    return token


def subject_link(
    purpose_slug: str, subject_kind: str, subject_value: str, email: str = "", *, actor: audit.Actor = None
) -> str:
    from django.urls import reverse

    token = issue_link(
        purposes=[purpose_slug], subject_kind=subject_kind, subject_value=subject_value, email=email, actor=actor
    )
    return mail.absolute(f"{reverse('consent-purpose', args=[purpose_slug])}?subject={token}")


def find_link(token: str, purpose_slug: str) -> ConsentLink:
    """The link behind a token, if it may change this purpose now; else ConsentError saying why."""
    link = None
    if isinstance(token, str) and token.startswith("cl_") and len(token) < 100:
        link = ConsentLink.objects.filter(token_hash=tokens.hash_token(token)).first()
    return check_link(link, purpose_slug)


def check_link(link: ConsentLink | None, purpose_slug: str) -> ConsentLink:
    if link is None:
        raise ConsentError(_("This consent link is not valid. Open the consent page from the app."), "subject")
    if link.revoked_at is not None or link.expires_at <= timezone.now():
        raise ConsentError(_("This consent link has expired. Open the consent page again from the app."), "subject")
    if purpose_slug not in link.purposes:
        raise ConsentError(
            _("This consent link was made for another purpose. Open this purpose's page from the app."),
            "subject",
        )
    return link


def revoke_links(links: Iterable[ConsentLink], *, actor: audit.Actor) -> int:
    count = 0
    for link in links:
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            audit.record(
                subject_type="consent_link",
                subject_id=link.pk,
                action="consent_link.revoked",
                actor=actor,
                data={"purposes": link.purposes},
            )
            count += 1
    return count
