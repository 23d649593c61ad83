"""Duplicates: a repeat while one is open is linked to it; a repeat access request reuses a recent package."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from portal import tokens
from requests_app.models import AccessPackage, PrivacyRequest
from requests_app.services.intake import request_file_verified, request_submit
from requests_app.status_words import public_timeline
from tests.conftest import ALICE
from tests.requests_app.intake_helpers import committed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def completed_access(*, package_days: int = 7, completed_days_ago: int = 1) -> PrivacyRequest:
    done = timezone.now() - timedelta(days=completed_days_ago)
    request = PrivacyRequest.objects.create(
        kind="access", email=ALICE, status="completed", completed_at=done, verified_at=done, closed_at=done
    )
    AccessPackage.objects.create(
        request=request,
        path="packages/x.zip",
        expires_at=done + timedelta(days=package_days),
        download_token_hash=tokens.hash_token("pd_x"),
    )
    return request


def submit(kind: str = "access") -> PrivacyRequest:
    mail.outbox.clear()
    with committed():
        return request_submit(kind=kind, email=ALICE, jurisdiction="gdpr", identifiers=None, language="en")


def test_repeat_access_within_the_window_is_answered_with_the_existing_package():
    earlier = completed_access()

    again = submit()

    assert again.pk == earlier.pk and PrivacyRequest.objects.count() == 1
    assert "still available" in mail.outbox[-1].subject and "/requests/status/" in mail.outbox[-1].body
    assert any("asked for a copy again" in e.text for e in public_timeline(earlier))


def test_repeat_access_by_the_host_app_is_answered_the_same_way():
    earlier = completed_access()

    again = request_file_verified(
        kind="access", email=ALICE, identifiers=None, jurisdiction="gdpr", channel="host_app", actor="system:test"
    )

    assert again.pk == earlier.pk


def test_repeat_access_runs_again_when_the_package_expired():
    completed_access(package_days=7, completed_days_ago=8)

    assert submit().status == "unverified" and PrivacyRequest.objects.count() == 2


def test_repeat_access_runs_again_after_the_window(settings):
    settings.PORTAL_REPEAT_ACCESS_DAYS = 30
    completed_access(package_days=60, completed_days_ago=31)

    assert PrivacyRequest.objects.count() == 1 and submit().status == "unverified"


def test_window_zero_always_runs_again(settings):
    settings.PORTAL_REPEAT_ACCESS_DAYS = 0
    completed_access()

    assert submit().status == "unverified"


def test_a_completed_deletion_is_never_reused():
    PrivacyRequest.objects.create(kind="deletion", email=ALICE, status="completed", completed_at=timezone.now())

    assert submit("deletion").status == "unverified" and PrivacyRequest.objects.count() == 2


def test_a_repeat_while_open_is_linked_and_shown_on_its_status_page():
    first = submit("deletion")
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        second = submit("deletion")

    assert second.pk == first.pk and PrivacyRequest.objects.count() == 1
    assert any("asked again" in e.text for e in public_timeline(first))
