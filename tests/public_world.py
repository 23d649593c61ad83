"""One of everything a public URL can point at, so URLconf walks reach the code behind the lookups.

``build_world()`` creates, through the services people's actions go through:
an unverified privacy request (verify and status links), a completed access package
(download link), a consent purpose with a signed subject link, an abuse notice with a
screenshot as evidence (status link) whose case is decided (the reported person's decision
link, the reporter's appeal page).
``world.path(url_name)`` gives a working path for every public URL pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.cache import cache
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

PLACEHOLDERS = {"int": "1", "slug": "x", "str": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def url_patterns(prefix: str = "", patterns=None):
    """(route, pattern) for every URL pattern of the project, includes flattened."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(prefix + str(entry.pattern), entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def public_patterns():
    """Everything but the admin (walked by role in tests/portal/test_staff_views.py)."""
    return [(route, p) for route, p in url_patterns() if not route.startswith("admin/")]


def fill_route(route: str, values: dict[str, str] | None = None) -> str:
    """``privacy/v/<int:version>/`` → ``/privacy/v/1/`` (or the given values)."""
    values = values or {}

    def one(match):
        converter, name = match.group(1) or "str", match.group(2)
        return values.get(name, PLACEHOLDERS.get(converter, "x"))

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)


@dataclass
class World:
    paths: dict[str, str] = field(default_factory=dict)
    request_reference: str = ""
    decision_id: int = 0

    def path(self, name: str, route: str) -> str:
        return self.paths.get(name) or fill_route(route)


def _committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


def build_world() -> World:
    from abuse_app import services as abuse
    from abuse_app.forms import ReportForm
    from abuse_app.models import Case, WebhookDelivery
    from portal import roles, tokens
    from requests_app import consent
    from requests_app.models import AccessPackage, ConsentPurpose
    from requests_app.services.intake import request_submit
    from requests_app.services.links import issue_status_token

    world = World()
    mail.outbox.clear()
    cache.clear()  # rate limits of earlier tests (per IP, per e-mail) must not refuse these submissions
    with _committed():
        request = request_submit(
            kind="deletion",
            email="alice@example.com",
            jurisdiction="gdpr",
            identifiers={},
            language="en",
            channel="web",
            ip="10.0.0.1",
        )
    verify = next(m for m in re.findall(r"https?://\S+", mail.outbox[-1].body) if "/requests/verify/" in m)
    world.paths["request-verify"] = verify.split("testserver", 1)[-1]
    world.paths["request-status"] = reverse("request-status", args=[issue_status_token(request)])
    world.request_reference = request.reference

    # A finished access request's package (the engine's result, made directly).
    with _committed():
        done = request_submit(
            kind="access",
            email="bob@example.org",
            jurisdiction="gdpr",
            identifiers={},
            language="en",
            channel="web",
            ip="10.0.0.2",
        )
    root = Path(settings.PORTAL_PRIVATE_ROOT)
    (root / "packages").mkdir(parents=True, exist_ok=True)
    (root / "packages" / f"{done.pk}.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    download = tokens.new_token("dl")
    AccessPackage.objects.create(
        request=done,
        path=f"packages/{done.pk}.zip",
        size_bytes=22,
        expires_at=timezone.now() + timedelta(days=7),
        download_token_hash=tokens.hash_token(download),
    )
    world.paths["package-download"] = reverse("package-download", args=[download])

    purpose, _ = ConsentPurpose.objects.get_or_create(
        slug="face-tagging", defaults={"title": "Face tagging", "services": ["face"]}
    )
    consent.publish_notice(purpose=purpose, text="We send your photos to Microsoft's Face service.", actor="system")
    link = consent.subject_link("face-tagging", "user_id", "1", email="alice@example.com")
    world.paths["consent-purpose"] = link.split("testserver", 1)[-1]

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils.datastructures import MultiValueDict

    from tests.abuse_app.conftest import PNG

    form = ReportForm(
        {
            "category": "privacy",
            "locations": "https://app.example.com/photos/1",
            "explanation": "My photo is used without consent.",
            "reporter_email": "carol@example.net",
            "good_faith": "on",
        },
        MultiValueDict({"evidence": [SimpleUploadedFile("shot.png", PNG, "image/png")]}),
    )
    assert form.is_valid(), form.errors
    with _committed():
        submitted = abuse.notice_submit(form.to_input(language="en"), ip="10.0.0.3")
    world.paths["abuse-status"] = reverse("abuse-status", args=[submitted.status_token])
    roles.sync_roles()
    moderator, _ = get_user_model().objects.get_or_create(username="world-moderator", defaults={"is_staff": True})
    moderator.groups.add(Group.objects.get(name=roles.MODERATORS))
    case = Case.objects.get(notices=submitted.notice)
    with _committed():
        decision = abuse.case_decide(
            case=case,
            actor=moderator,
            action="remove_content",
            ground="terms",
            legal_reference="Terms §4.2",
            facts="The photo shows a person who did not agree.",
        )
    world.decision_id = decision.pk
    world.paths["abuse-appeal"] = reverse("abuse-appeal", args=[submitted.status_token, decision.pk])
    payload = WebhookDelivery.objects.filter(event="abuse.decision").latest("pk").payload
    world.paths["abuse-target-decision"] = payload["appeal_url"].split("testserver", 1)[-1]
    world.paths["api-privacy-request-detail"] = reverse("api-privacy-request-detail", args=[request.reference])
    world.paths["privacy-policy-version"] = "/privacy/v/1/"
    return world
