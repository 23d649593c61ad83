"""Re-authentication before an access package is handed over.

The download link in the e-mail is not enough on its own: a forwarded e-mail, a
shared mailbox or a link in some log would otherwise give the whole copy of
someone's data away. Before the ZIP is served the browser must show one of:

- a **one-time code** e-mailed to the address the request was confirmed with
  (6 digits, 10 minutes, 5 wrong tries, only its keyed hash stored); or
- the **still-valid session** in which the person confirmed the request (the
  confirmation link's POST marks the session; sessions end after
  ``SESSION_COOKIE_AGE``).

Either marks the session as cleared for that package.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone

from portal import mail, tokens
from requests_app.models import AccessPackage

CODE_MINUTES = 10
CODE_MAX_ATTEMPTS = 5
SESSION_VERIFIED_REQUESTS = "portal_verified_requests"
SESSION_CLEARED_PACKAGES = "portal_cleared_packages"


def remember_verified(session: SessionBase, request_pk: int) -> None:
    """The requester confirmed this request in this browser session (the verification POST)."""
    ids = [pk for pk in session.get(SESSION_VERIFIED_REQUESTS, []) if pk != request_pk]
    session[SESSION_VERIFIED_REQUESTS] = [request_pk, *ids][:20]


def is_cleared(session: SessionBase, pkg: AccessPackage) -> bool:
    return pkg.pk in session.get(SESSION_CLEARED_PACKAGES, []) or pkg.request_id in session.get(
        SESSION_VERIFIED_REQUESTS, []
    )


def _clear(session: SessionBase, pkg: AccessPackage) -> None:
    ids = [pk for pk in session.get(SESSION_CLEARED_PACKAGES, []) if pk != pkg.pk]
    session[SESSION_CLEARED_PACKAGES] = [pkg.pk, *ids][:20]


def _hash(pkg: AccessPackage, code: str) -> str:
    return tokens.hmac_sign(f"download-code:{pkg.pk}:{code}".encode())


def send_code(pkg: AccessPackage) -> bool:
    """E-mail a fresh code to the confirmed address (replacing any earlier one). False if there is none."""
    email = pkg.request.email
    if not email:
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        AccessPackage.objects.filter(pk=pkg.pk).update(
            code_hash=_hash(pkg, code),
            code_attempts=0,
            code_expires_at=timezone.now() + timedelta(minutes=CODE_MINUTES),
        )
        pkg.request.note(actor="requester:download link", action="package_code_sent")
        mail.send(
            "request_download_code",
            email,
            {"reference": pkg.request.reference, "code": code, "minutes": CODE_MINUTES},
            language=pkg.request.language,
        )
    return True


def check_code(session: SessionBase, pkg: AccessPackage, code: str) -> str:
    """ "ok" (session cleared), "wrong", "expired" (or no code sent) or "locked" (too many tries)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    with transaction.atomic():
        row = AccessPackage.objects.select_for_update().get(pk=pkg.pk)
        if not row.code_hash or not row.code_expires_at or row.code_expires_at <= timezone.now():
            return "expired"
        if row.code_attempts >= CODE_MAX_ATTEMPTS:
            return "locked"
        if len(code) == 6 and hmac.compare_digest(_hash(row, code), row.code_hash):
            AccessPackage.objects.filter(pk=row.pk).update(code_hash="", code_expires_at=None, code_attempts=0)
            _clear(session, row)
            row.request.note(actor="requester:download link", action="package_code_confirmed")
            return "ok"
        AccessPackage.objects.filter(pk=row.pk).update(code_attempts=row.code_attempts + 1)
        return "locked" if row.code_attempts + 1 >= CODE_MAX_ATTEMPTS else "wrong"
