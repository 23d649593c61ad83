"""Retention: unconfirmed requests expire and are purged; closed ones lose requester data after the period."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal import tokens
from portal.models import AuditEvent
from requests_app.models import PrivacyRequest, SubjectIdentity, new_reference
from requests_app.services.intake import request_resend_verification
from requests_app.services.schedule import UNVERIFIED_KEEP_DAYS, request_expire_unverified, requests_purge_closed_pii
from tests.requests_app.intake_helpers import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _closed(days_ago, status="completed", **fields):
    closed = timezone.now() - timedelta(days=days_ago)
    return PrivacyRequest.objects.create(
        kind="deletion",
        email=f"{new_reference().lower()}@example.com",
        identifiers={"username": "sam"},
        status=status,
        closed_at=closed,
        completed_at=closed,
        **fields,
    )


def test_unverified_request_expires_after_link_and_grace_and_is_purged():
    request, _token = submit()
    fresh, _ = submit(email="bob@example.org")
    link_ran_out = timezone.now() - timedelta(days=UNVERIFIED_KEEP_DAYS, minutes=1)
    PrivacyRequest.objects.filter(pk=request.pk).update(verify_expires_at=link_ran_out)
    assert request_expire_unverified() == 1
    request.refresh_from_db()
    assert request.status == "expired" and request.closed_at is not None
    assert request.email == "" and request.identifiers == {} and request.pii_purged_at is not None
    assert request.verify_token_hash == ""
    fresh.refresh_from_db()
    assert fresh.status == "unverified" and fresh.email == "bob@example.org"


def test_link_expired_recently_still_resendable():
    request, _token = submit()
    PrivacyRequest.objects.filter(pk=request.pk).update(verify_expires_at=timezone.now() - timedelta(hours=1))
    assert request_expire_unverified() == 0
    request_resend_verification(request=request)
    request.refresh_from_db()
    assert request.verify_expires_at > timezone.now()


def test_closed_requests_purged_after_retention(settings):
    settings.PORTAL_REQUEST_RETENTION_DAYS = 730
    old = _closed(731)
    recent = _closed(700)
    open_old = PrivacyRequest.objects.create(
        kind="access",
        email="open@example.com",
        status="verified",
        received_at=timezone.now() - timedelta(days=900),
    )
    SubjectIdentity.objects.create(request=old, kind="user_id", value="4711", source="app-db")
    email = old.email
    old.note(actor="system", action="request.completed_note")
    assert requests_purge_closed_pii() == 1
    old.refresh_from_db()
    assert old.email == "" and old.identifiers == {} and old.pii_purged_at is not None
    assert old.status == "completed" and old.reference  # the row (counts) stays
    assert not SubjectIdentity.objects.filter(request=old).exists()
    purge = AuditEvent.objects.get(subject_id=str(old.pk), action="request.pii_purged")
    assert purge.data == {"email_pseudonym": tokens.pseudonymise(email)}
    assert email not in str(purge.data)
    assert AuditEvent.objects.filter(subject_id=str(old.pk)).count() == 2  # the trail remains
    recent.refresh_from_db()
    open_old.refresh_from_db()
    assert recent.email and open_old.email
    assert requests_purge_closed_pii() == 0  # idempotent


def _purge_queries(rows: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(rows):
        _closed(800)
    with CaptureQueriesContext(connection) as queries:
        assert requests_purge_closed_pii(batch_size=1000) == rows
    return len(queries)


def test_purge_queries_do_not_grow_with_rows():
    assert _purge_queries(3) == _purge_queries(60)


def test_expire_task_is_registered_thin_wrapper():
    from requests_app.tasks import expire_unverified, purge_closed_pii

    assert expire_unverified.name == "requests.expire_unverified"
    assert purge_closed_pii.name == "requests.purge_closed_pii"
    assert purge_closed_pii.run() == 0
