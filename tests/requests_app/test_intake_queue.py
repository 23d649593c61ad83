"""Intake off the request path (issue 24): the reply costs the request row and its audit event; the
e-mail is rendered and sent by the queue, once, with retries; it still arrives through a real worker."""

from __future__ import annotations

import json
import smtplib

import pytest
from celery.canvas import Signature
from django.core import mail
from django.test import TestCase

from portal.models import AuditEvent
from requests_app import tasks as request_tasks
from requests_app.models import PrivacyRequest
from requests_app.services import queue
from requests_app.services.intake import request_submit
from requests_app.services.requester_mail import requester_mail_send
from tests.helpers import wait_until
from tests.requests_app.intake_helpers import committed, verify_path

pytestmark = [pytest.mark.usefixtures("fresh_rate_limits")]
FORM = {"email": "alice@example.com", "jurisdiction": "gdpr", "confirm": "on", "id_username": "alice1"}
API = "/api/v1/privacy-requests/"


def _enqueued(block) -> list:
    """Run ``block`` and commit; return the on-commit callbacks it queued, without running them."""
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        block()
    return callbacks


def _mail_hand_offs(callbacks) -> int:
    """How many of the callbacks send an intake e-mail to the queue (a bound ``Signature.delay``)."""
    signatures = [getattr(c, "__self__", None) for c in callbacks]
    return sum(isinstance(s, Signature) and s.task == queue.SEND_REQUESTER_MAIL for s in signatures)


@pytest.mark.django_db
def test_public_form_intake_is_one_transaction_of_few_queries(client, django_assert_num_queries):
    # The duplicate check, the request row and its audit event in one transaction; the "submitted"
    # page's reference travels in a signed cookie (portal.receipt_cookie), not a session row.
    with django_assert_num_queries(5):
        callbacks = _enqueued(lambda: client.post("/requests/new/deletion/", FORM))
    assert _mail_hand_offs(callbacks) == 1 and not mail.outbox  # the e-mail waits for the queue
    assert PrivacyRequest.objects.get().verify_token_hash == ""  # its link is issued with the e-mail


@pytest.mark.django_db
def test_public_api_intake_is_one_transaction_of_few_queries(client, django_assert_num_queries):
    body = json.dumps({"kind": "deletion", "email": "alice@example.com", "jurisdiction": "gdpr", "confirm": True})
    # The duplicate check, the request row and its audit event, in one transaction (with its savepoint).
    with django_assert_num_queries(5):
        callbacks = _enqueued(lambda: client.post(API, body, content_type="application/json"))
    assert _mail_hand_offs(callbacks) == 1 and not mail.outbox


@pytest.mark.django_db
def test_host_app_api_intake_sends_its_e_mail_through_the_queue(client, api_key, django_assert_num_queries):
    _key, raw = api_key("requests:write", name="shop")
    body = json.dumps({"kind": "access", "email": "alice@example.com", "identifiers": {"user_id": "4711"}})
    # The key look-up and use, the request row and its audit event, verified and auto-approved (each a
    # status change with its audit event), the start handed to the engine, and the look-up of a recent
    # access package that would answer a repeat (services._recent_access).
    with django_assert_num_queries(15):
        callbacks = _enqueued(
            lambda: client.post(API, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
        )
    assert _mail_hand_offs(callbacks) == 1 and not mail.outbox


@pytest.mark.django_db
def test_the_queued_e_mail_is_sent_once_however_often_the_task_runs():
    with committed():
        request = request_submit(
            kind="access", email="alice@example.com", jurisdiction="gdpr", identifiers={}, language="en"
        )
    assert len(mail.outbox) == 1
    sent = AuditEvent.objects.get(subject_id=str(request.pk), action="request.mail_sent")
    assert (
        request_tasks.send_requester_mail.apply(args=(request.pk, "request_received", sent.data["key"])).get() is False
    )
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_send_leaves_no_link_and_no_record_so_the_retry_sends_it(monkeypatch):
    with TestCase.captureOnCommitCallbacks(execute=False):
        request = request_submit(
            kind="access", email="alice@example.com", jurisdiction="gdpr", identifiers={}, language="en"
        )
    real_send = mail.EmailMessage.send

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("relay went away")

    monkeypatch.setattr(mail.EmailMessage, "send", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        requester_mail_send(request_id=request.pk, template="request_received", key="k1")
    request.refresh_from_db()
    assert request.verify_token_hash == ""
    assert not AuditEvent.objects.filter(subject_id=str(request.pk), action="request.mail_sent").exists()
    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    assert requester_mail_send(request_id=request.pk, template="request_received", key="k1") is True
    (message,) = mail.outbox
    request.refresh_from_db()
    assert request.verify_token_hash and verify_path(message).startswith("/requests/verify/pv_")


def test_a_real_worker_sends_the_intake_e_mail(client, celery_worker):
    """Through the broker, as in ``make run``: the reply comes first, the worker sends the e-mail."""
    response = client.post("/requests/new/access/", FORM)
    assert response.status_code == 302
    assert wait_until(lambda: len(mail.outbox) == 1)
    assert verify_path(mail.outbox[0]).startswith("/requests/verify/pv_")


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["unverified", "verified"])
def test_the_form_does_the_same_queries_for_a_known_and_an_unknown_address(settings, state):
    """Whatever state the known address's request is in, its duplicate costs what a new request costs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.PORTAL_REQUEST_EMAIL_RATE = "100/hour"
    known = PrivacyRequest.objects.create(kind="deletion", email="known@example.com", status=state)
    shapes = {}
    for email in ("known@example.com", "unknown@example.com"):
        client = Client()  # each its own new session, as two strangers would arrive
        with CaptureQueriesContext(connection) as queries:
            _enqueued(lambda email=email: client.post("/requests/new/deletion/", {**FORM, "email": email}))
        shapes[email] = [q["sql"].split()[0] for q in queries.captured_queries]
    # The same statements in the same order; only the request row is updated instead of inserted.
    assert shapes["known@example.com"] == [
        "UPDATE" if i == 2 else word for i, word in enumerate(shapes["unknown@example.com"])
    ]
    assert PrivacyRequest.objects.filter(email="known@example.com").get() == known
