"""/healthz tells the truth: the receipt key, mail, stuck requests and failures repeated in the hour;
a finish that keeps failing stops at needs_attention with one staff e-mail."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from portal.models import Heartbeat, TaskFailure
from requests_app.engine import finish, receipt_keys
from requests_app.engine import sweep as sweeper
from requests_app.engine import tasks as engine_tasks
from requests_app.models import PrivacyRequest

pytestmark = pytest.mark.django_db
PR = PrivacyRequest.Status


@pytest.fixture
def no_key(settings, tmp_path):
    """Production's rule (no key created on first use), and no key file: the missed deploy step."""
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = False
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "receipt-signing-keys.json")
    return tmp_path / "receipt-signing-keys.json"


@pytest.fixture
def alive():
    Heartbeat.objects.create(name="worker", at=timezone.now())
    Heartbeat.objects.create(name="beat", at=timezone.now())


def _checks(client):
    response = client.get("/healthz")
    return response.status_code, response.json()["checks"]


def _running(**fields) -> PrivacyRequest:
    """A deletion with nothing left to run: the next step is finishing (signing the receipt)."""
    now = timezone.now()
    return PrivacyRequest.objects.create(
        kind="deletion",
        status=PR.RUNNING,
        email="alice@example.com",
        verified_at=now,
        approved_at=now,
        started_at=now,
        **fields,
    )


def test_healthz_is_red_without_the_receipt_key_naming_the_command(client, alive, no_key):
    status, checks = _checks(client)
    assert status == 503
    assert checks["receipt_key"]["ok"] is False
    assert "rotate_receipt_key" in checks["receipt_key"]["error"]


def test_healthz_is_green_with_a_receipt_key(client, alive, no_key):
    receipt_keys.rotate()
    status, checks = _checks(client)
    assert checks["receipt_key"] == {"ok": True, "kid": receipt_keys.public_keys()[0].kid}
    assert status == 200, checks


def test_healthz_is_red_when_the_mail_directory_cannot_be_written(client, alive, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(blocker / "mail")
    status, checks = _checks(client)
    assert status == 503
    assert "not writable" in checks["mail"]["error"]


def test_healthz_is_red_when_the_smtp_server_does_not_answer(client, alive, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    status, checks = _checks(client)
    assert status == 503
    assert f"127.0.0.1:{port}" in checks["mail"]["error"]


def test_healthz_is_red_when_a_request_runs_too_long(client, alive, settings):
    settings.PORTAL_HEALTH_RUNNING_MAX_SECONDS = 3600
    request = _running()
    PrivacyRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - timedelta(hours=2))
    status, checks = _checks(client)
    assert status == 503
    assert checks["running_requests"]["ok"] is False
    assert checks["running_requests"]["oldest_running_seconds"] >= 7200


def test_healthz_is_red_when_a_task_fails_the_same_way_repeatedly(client, alive, settings):
    settings.PORTAL_HEALTH_REPEATED_FAILURES = 3
    for _ in range(3):
        TaskFailure.objects.create(task="requests.engine.finish", subject="1", error="KeyFileError: no key")
    TaskFailure.objects.create(
        task="requests.engine.finish", subject="1", error="KeyFileError: no key", at=timezone.now() - timedelta(hours=2)
    )  # outside the hour: not counted
    status, checks = _checks(client)
    assert status == 503
    assert checks["repeated_failures"]["failing"] == [
        {"task": "requests.engine.finish", "error": "KeyFileError: no key", "count": 3}
    ]


def test_a_finish_that_keeps_failing_needs_attention_and_emails_staff_once(settings, no_key, officer):
    settings.PORTAL_FINISH_MAX_ATTEMPTS = 3
    request = _running()
    mail.outbox.clear()
    start = timezone.now()
    waited = 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        for attempt in range(1, 4):
            with time_machine.travel(start + timedelta(seconds=waited), tick=False):
                # Eager: the task's own retry runs at once and finds its backoff not yet over.
                engine_tasks.finish_request.apply(args=(request.pk,))
            waited += finish.backoff_seconds(attempt)
    request.refresh_from_db()
    assert request.status == PR.NEEDS_ATTENTION
    assert "KeyFileError" in request.attention_reason and "3 times" in request.attention_reason
    assert TaskFailure.objects.filter(subject=str(request.pk)).count() == 3
    (message,) = mail.outbox
    assert officer.email in message.to and request.reference in message.subject
    # Later messages (a duplicate, the sweeper) find it no longer running: no more attempts, no more mail.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert engine_tasks.finish_request.apply(args=(request.pk,)).get() == "nothing to do"
        sweeper.sweep()
    assert len(mail.outbox) == 1
    assert TaskFailure.objects.filter(subject=str(request.pk)).count() == 3


def test_a_finish_is_not_tried_again_before_its_backoff_is_over(settings, no_key):
    """The sweeper re-sends the finish of every idle running request; that must not defeat the backoff."""
    request = _running()
    start = timezone.now()
    with time_machine.travel(start, tick=False), pytest.raises(finish.FinishRetry):
        finish.finish_or_give_up(request.pk)
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert finish.finish_or_give_up(request.pk) == "retry scheduled"
    with (
        time_machine.travel(start + timedelta(seconds=finish.backoff_seconds(1)), tick=False),
        pytest.raises(finish.FinishRetry),
    ):
        finish.finish_or_give_up(request.pk)
    assert TaskFailure.objects.filter(subject=str(request.pk)).count() == 2


def test_metrics_tell_the_same_truth_as_healthz(client, settings, no_key):
    from tests.portal.test_metrics import TOKEN, scrape, value

    settings.PORTAL_METRICS_TOKEN = TOKEN
    settings.PORTAL_HEALTH_REPEATED_FAILURES = 2
    request = _running()
    PrivacyRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - timedelta(minutes=10))
    for _ in range(2):
        TaskFailure.objects.create(task="requests.engine.finish", subject="1", error="KeyFileError: no key")
    families = scrape(client)
    assert value(families["portal_health_check_ok"], "portal_health_check_ok", check="receipt_key") == 0
    assert value(families["portal_health_check_ok"], "portal_health_check_ok", check="database") == 1
    assert value(families["portal_oldest_running_request_seconds"], "portal_oldest_running_request_seconds") >= 600
    assert (
        value(families["portal_repeated_task_failures"], "portal_repeated_task_failures", check="repeated_failures")
        == 1
    )
