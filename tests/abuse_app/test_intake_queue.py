"""Abuse intake off the request path (issue 24): the reply costs the notice, its case and their audit
events; the acknowledgement (and the on-call alert) is rendered and sent by the queue, once."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from abuse_app import tasks as abuse_tasks
from abuse_app.models import Notice
from portal.models import AuditEvent
from tests.abuse_app.conftest import report_data

pytestmark = pytest.mark.django_db
URL = "/report/"


def _hand_offs(callbacks) -> int:
    return sum("_acknowledge_later" in getattr(c, "__qualname__", "") for c in callbacks)


def test_report_form_intake_query_count_and_no_mail_before_the_queue(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(QUERIES), django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(URL, report_data())
    assert response.status_code == 302
    assert _hand_offs(callbacks) == 1
    assert not mail.outbox


# The reporter's standing, then one transaction: the notice row, its case (looked up, made, linked, its
# audit event) and the notice's audit event. The receipt page's values travel in a signed cookie
# (portal.receipt_cookie): no session row (was 15 with it).
QUERIES = 11


def test_the_acknowledgement_is_sent_once_with_the_status_link(client, django_capture_on_commit_callbacks, monkeypatch):
    sent_args = []
    real_delay = abuse_tasks.send_notice_acknowledgement.delay

    def delay(*args, **kwargs):
        sent_args.append(args)
        return real_delay(*args, **kwargs)

    monkeypatch.setattr(abuse_tasks.send_notice_acknowledgement, "delay", delay)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, report_data())
    html = client.get(response["Location"]).content.decode()
    status_path = re.search(r"http://testserver(/report/status/st_[\w-]+/)", html).group(1)
    (message,) = mail.outbox
    assert status_path in message.body
    (args,) = sent_args
    assert "st_" not in args[1]  # the link crosses the broker sealed, never in the clear
    assert abuse_tasks.send_notice_acknowledgement.apply(args=args).get() is False
    assert len(mail.outbox) == 1
    notice = Notice.objects.get()
    assert AuditEvent.objects.filter(subject_id=str(notice.pk), action="abuse.acknowledgement_sent").count() == 1


def test_child_safety_alerts_on_call_through_the_queue(client, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_ONCALL_EMAIL = "oncall@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, report_data(category="minors"))
    (alert,) = mail.outbox  # the reporter's address is never kept in this lane: on-call only
    assert alert.to == ["oncall@example.com"]
