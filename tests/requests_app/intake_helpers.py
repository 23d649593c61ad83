"""Helpers for the privacy-request intake tests: read links out of e-mails, make requests in any state."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from django.core import mail
from django.test import TestCase

from requests_app.models import PrivacyRequest
from requests_app.services.intake import request_submit, request_verify

# The fixture lives in this package's conftest.py; re-exported for modules that still import it from here.
from tests.requests_app.conftest import fresh_rate_limits as fresh_rate_limits

LINK_RE = re.compile(r"https?://[^\s\"<>]+")


def committed():
    """Run on-commit callbacks (e-mails, task enqueues) of the block when it ends, as a real commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def links_in(message) -> list[str]:
    return LINK_RE.findall(message.body)


def path_of(url: str) -> str:
    return urlparse(url).path


def verify_path(message) -> str:
    return next(path_of(u) for u in links_in(message) if "/requests/verify/" in u)


def status_path(message) -> str:
    return next(path_of(u) for u in links_in(message) if "/requests/status/" in u)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def submit(
    email: str = "alice@example.com",
    kind: str = "access",
    jurisdiction: str = "gdpr",
    identifiers: dict | None = None,
    language: str = "en",
) -> tuple[PrivacyRequest, str]:
    """Submit through the service; returns (request, verify token) read from the e-mail it sent."""
    mail.outbox.clear()
    with committed():
        request = request_submit(
            kind=kind,
            email=email,
            jurisdiction=jurisdiction,
            identifiers=identifiers or {},
            language=language,
            channel="web",
            ip="10.0.0.1",
        )
    return request, token_of(verify_path(mail.outbox[-1]))


def verified(email: str = "alice@example.com", kind: str = "deletion", jurisdiction: str = "gdpr") -> PrivacyRequest:
    """A confirmed request (deletion by default, which is not auto-approved)."""
    request, token = submit(email=email, kind=kind, jurisdiction=jurisdiction)
    with committed():
        return request_verify(token=token)
