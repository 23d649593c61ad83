"""The page shown once after a public form is filed, remembered in a signed cookie (no session row).

After the request form or the report form is filed, the browser is redirected to a page that
shows what was filed (its reference; for a report, its secret status link). That page needs a
few values from the POST; keeping them in a session would cost a session row (an INSERT, and a
SELECT when the page is shown) for every filing. They travel instead in a cookie that:

- is signed with Django's signing (``SECRET_KEY``, a salt per form): nobody can forge or alter
  it, so nobody can make the page show another person's request;
- lives for ``MAX_AGE`` seconds, is sent only to that page's path, is ``HttpOnly``, ``SameSite=Lax``
  and ``Secure`` wherever the session cookie is;
- is deleted when the page shows it (the report's page is shown once, as before).

It holds only what the page shows the same browser anyway, nothing more.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

MAX_AGE = 600  # seconds: the redirect follows at once; a later visit finds nothing


def _salt(name: str) -> str:
    return f"portal.receipt_cookie.{name}"


def remember(response: HttpResponse, name: str, path: str, values: dict[str, Any]) -> None:
    """Set the cookie ``name`` holding ``values`` (JSON) for the page at ``path``."""
    response.set_signed_cookie(
        name,
        json.dumps(values, separators=(",", ":")),
        salt=_salt(name),
        max_age=MAX_AGE,
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def recall(request: HttpRequest, name: str) -> dict[str, Any] | None:
    """The values remembered by ``remember``, or None (no cookie, forged, altered or expired)."""
    try:
        raw = request.get_signed_cookie(name, default=None, salt=_salt(name), max_age=MAX_AGE)
        values = json.loads(raw) if raw is not None else None
    except (signing.BadSignature, ValueError):  # forged, altered or expired (SignatureExpired), not JSON
        return None
    return values if isinstance(values, dict) else None


def forget(response: HttpResponse, name: str, path: str) -> None:
    response.delete_cookie(name, path=path, samesite="Lax")
