"""Intake services: duplicates, same answer either way, host-app filing, decisions and their audit."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import AuditEvent
from requests_app.models import InvalidTransition, PrivacyRequest, StoreTask
from requests_app.services.decisions import request_approve, request_assign, request_cancel, request_retry
from requests_app.services.intake import request_file_verified, request_submit, request_verify
from requests_app.services.validation import RequestError
from tests.requests_app.intake_helpers import committed, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _submit(email="alice@example.com", kind="deletion"):
    with committed():
        return request_submit(
            kind=kind,
            email=email,
            jurisdiction="gdpr",
            identifiers={},
            language="en",
            channel="web",
            ip="10.0.0.1",
        )


def test_duplicate_open_request_points_to_existing_one():
    first = _submit()
    mail.outbox.clear()
    second = _submit(email="ALICE@example.com")
    assert second.pk == first.pk
    assert PrivacyRequest.objects.count() == 1
    (message,) = mail.outbox
    assert first.reference in message.subject and "already have an open" in message.subject
    assert "/requests/verify/pv_" in message.body  # still unconfirmed: a fresh link
    assert AuditEvent.objects.filter(subject_id=str(first.pk), action="request.duplicate_submitted").exists()


def test_duplicate_of_confirmed_request_has_no_verify_link():
    request, token = submit(kind="deletion")
    request_verify(token=token)
    mail.outbox.clear()
    _submit()
    assert "/requests/verify/" not in mail.outbox[0].body
    assert "/requests/status/ps_" in mail.outbox[0].body


def test_other_kind_or_closed_request_is_not_a_duplicate(officer):
    deletion = _submit(kind="deletion")
    access = _submit(kind="access")
    assert access.pk != deletion.pk
    request_cancel(request=deletion, actor="requester")
    assert _submit(kind="deletion").pk != deletion.pk


def test_new_and_duplicate_submissions_do_the_same_work():
    """Same response, same e-mail count and the same number of queries: no timing oracle worth the name."""
    _submit(email="known@example.com")

    def measure(email):
        mail.outbox.clear()
        with CaptureQueriesContext(connection) as queries:
            request = _submit(email=email)
        return len(queries), len(mail.outbox), type(request)

    assert measure("known@example.com") == measure("unknown@example.com")


def test_consent_withdrawal_is_approved_at_once_by_default(api_key):
    key, _raw = api_key("consents:write", name="consent center")
    with committed():
        request = request_file_verified(
            kind="deletion",
            email="alice@example.com",
            identifiers={"user_id": "42"},
            jurisdiction="gdpr",
            channel="consent_withdrawal",
            actor=key,
            scope_purpose="face-login",
        )
    request.refresh_from_db()
    assert request.status in ("approved", "running", "completed")


def test_file_verified_for_consent_withdrawal_scoped_and_audited(api_key, settings):
    settings.PORTAL_AUTO_APPROVE = ["access"]  # staff approve withdrawals in this deployment
    key, _raw = api_key("consents:write", name="consent center")
    with committed():
        request = request_file_verified(
            kind="deletion",
            email="alice@example.com",
            identifiers={"user_id": "42"},
            jurisdiction="gdpr",
            channel="consent_withdrawal",
            actor=key,
            scope_purpose="face-login",
        )
    assert request.status == "verified" and request.scope_purpose == "face-login"
    event = AuditEvent.objects.get(subject_id=str(request.pk), action="request.verified")
    assert event.actor_type == "host_app" and "consent center" in event.reason
    # a second withdrawal for another purpose is a separate request; the same purpose is reused
    other = request_file_verified(
        kind="deletion",
        email="alice@example.com",
        identifiers={},
        jurisdiction="gdpr",
        channel="consent_withdrawal",
        actor=key,
        scope_purpose="voice",
    )
    same = request_file_verified(
        kind="deletion",
        email="alice@example.com",
        identifiers={},
        jurisdiction="gdpr",
        channel="consent_withdrawal",
        actor=key,
        scope_purpose="face-login",
    )
    assert other.pk != request.pk and same.pk == request.pk
    assert "is confirmed" in mail.outbox[0].subject


def test_file_verified_confirms_a_waiting_duplicate():
    waiting, _token = submit(kind="access")
    request = request_file_verified(
        kind="access",
        email="alice@example.com",
        identifiers={},
        jurisdiction="gdpr",
        channel="host_app",
        actor="system:host app",
    )
    assert request.pk == waiting.pk and request.status == "approved"


def test_file_verified_consent_withdrawal_auto_approval_opt_in(settings):
    settings.PORTAL_AUTO_APPROVE = ["access", "consent_withdrawal"]
    request = request_file_verified(
        kind="deletion",
        email="alice@example.com",
        identifiers={},
        jurisdiction="gdpr",
        channel="consent_withdrawal",
        actor=None,
        scope_purpose="face-login",
    )
    assert request.status == "approved"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"kind": "erase-everything"}, "Unknown request kind"),
        ({"email": "nope"}, "valid e-mail"),
        ({"jurisdiction": "mars"}, "Unknown jurisdiction"),
        ({"identifiers": {"Bad Name": "x"}}, "not a valid identifier name"),
        ({"identifiers": {"password": "x"}}, "not an identifier this service asks for"),
    ],
)
def test_submit_bad_input_raises_readable_error(kwargs, message):
    args = {
        "kind": "access",
        "email": "a@example.com",
        "jurisdiction": "gdpr",
        "identifiers": {},
        "language": "en",
    }
    with pytest.raises(RequestError, match=message):
        request_submit(**{**args, **kwargs})


def test_emails_in_requesters_language():
    with committed():
        request_submit(kind="access", email="a@example.com", jurisdiction="gdpr", identifiers={}, language="de-DE")
    assert PrivacyRequest.objects.get().language == "de"


def test_approve_twice_is_an_invalid_transition(officer):
    request, token = submit(kind="deletion")
    request = request_verify(token=token)
    request_approve(request=request, actor=officer)
    with pytest.raises(InvalidTransition):
        request_approve(request=request, actor=officer)


def test_assign_refuses_non_staff(officer, django_user_model):
    request, _ = submit()
    outsider = django_user_model.objects.create_user("outsider", password="x" * 20)
    with pytest.raises(RequestError, match="not an active staff member"):
        request_assign(request=request, actor=officer, assignee=outsider)


def test_retry_calls_engine_for_needs_attention(officer):
    request, token = submit(kind="deletion")
    request = request_verify(token=token)
    PrivacyRequest.objects.filter(pk=request.pk).update(status="needs_attention", attention_reason="store down")
    task = StoreTask.objects.create(
        request=request,
        store="app-db",
        store_kind="sql",
        phase="erase",
        status="failed",
        attempts=5,
        last_error="connection refused",
    )
    request.refresh_from_db()
    request = request_retry(request=request, actor=officer)
    assert request.status == "running"
    task.refresh_from_db()
    assert task.status == "pending" and task.attempts == 0
    assert AuditEvent.objects.filter(subject_id=str(request.pk), to_status="running", actor=officer).exists()


def test_retry_refused_unless_needs_attention(officer):
    request, _ = submit()
    with pytest.raises(RequestError, match="Only a request that needs attention"):
        request_retry(request=request, actor=officer)
