"""The Azure kinds under the execution engine: consent withdrawal, throttling storms, manual steps, packages.

Requests are driven with ``engine.local.run_local`` — the same claim/run/record
code the Celery workers run — with backoff waits skipped.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.test import override_settings

from requests_app import consent, ledger
from requests_app.engine import local
from requests_app.engine import sweep as sweeper
from requests_app.models import Consent, PrivacyRequest, StoreTask, Transmission
from requests_app.services.decisions import request_close_with_exceptions
from requests_app.status_words import status_explanation
from tests.requests_app.azure_helpers import purpose

# transaction=True: run_local closes obsolete connections between steps like a worker does, which
# would close the connection of a test wrapped in a transaction on PostgreSQL.
pytestmark = pytest.mark.django_db(transaction=True)

ALICE, BOB = "alice@example.com", "bob@example.org"


@pytest.fixture
def azure_stores(tmp_path, settings, fake_face, fake_speech):
    path = Path(tmp_path) / "stores.toml"
    path.write_text(f"""
[[store]]
name = "face"
kind = "azure_face"
endpoint = "{fake_face.url}"
key = "{fake_face.key}"
person_groups = ["app-users"]
match = "email"  # the registry requires needed kinds to be provided; e-mail always is
max_tps = 1000
retry_backoff = 0.01

[[store]]
name = "speech"
kind = "azure_speech"
endpoint = "{fake_speech.url}"
key = "{fake_speech.key}"
custom_property = "email"
max_tps = 1000
retry_backoff = 0.01

[[store]]
name = "azure-ledger"
kind = "azure_ledger"
""")
    settings.PORTAL_STORES_FILE = str(path)
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 0.01  # run_local waits real time for a retry's backoff
    return path


def send(fake_face, fake_speech, user_id: str, slug: str) -> None:
    """What the host app does: send a photo and a recording to Azure, record both in the ledger."""
    person, _ = fake_face.add_person("app-users", user_data="")
    transcription = fake_speech.add_transcription()
    ledger.record_transmission(
        client_id=f"{user_id}-{slug}-{person}",
        service="face",
        account=fake_face.url,
        resource_kind="person",
        resource_id=person,
        parent_ids={"person_group": "app-users"},
        subject_value=user_id,
        purpose=slug,
        payload_kind="image",
    )
    ledger.record_transmission(
        client_id=f"{user_id}-{slug}-{transcription}",
        service="speech",
        account=fake_speech.url,
        resource_kind="transcription",
        resource_id=transcription,
        subject_value=user_id,
        purpose=slug,
        payload_kind="audio",
    )


def record_speaker_profile(profile: str) -> None:
    """A Speaker Recognition profile (retired service, no deletion API) sent for user 42."""
    purpose("voice-id", requires_consent=False)
    ledger.record_transmission(
        client_id=f"sr-{profile}",
        service="speaker_recognition",
        account="westus",
        resource_kind="profile",
        resource_id=profile,
        subject_value="42",
        purpose="voice-id",
        payload_kind="audio",
    )


def run(request: PrivacyRequest) -> PrivacyRequest:
    return local.run_local(request, sleep=lambda seconds: None)


@override_settings(PORTAL_AUTO_APPROVE=["access", "consent_withdrawal"])
def test_withdrawn_consent_erases_that_subject_and_purpose_only(
    azure_stores, fake_face, fake_speech, mailoutbox, django_capture_on_commit_callbacks
):
    verify, other = purpose("face-verification"), purpose("voice-notes")
    for user in ("42", "7"):
        for p in (verify, other):
            consent.grant(purpose=p, subject_kind="user_id", subject_value=user, method=Consent.Method.API, actor=None)
            send(fake_face, fake_speech, user, p.slug)
    with django_capture_on_commit_callbacks(execute=True):
        _, request = consent.withdraw(
            purpose=verify,
            subject_kind="user_id",
            subject_value="42",
            method=Consent.Method.WEB,
            actor="requester:consent page",
            email=ALICE,
        )
        assert request is not None
        request = run(PrivacyRequest.objects.get(pk=request.pk))
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    gone = Transmission.objects.filter(deleted_at__isnull=False)
    assert gone.count() == 2 and set(gone.values_list("purpose", flat=True)) == {"face-verification"}
    assert all(row.subject_value.startswith(ledger.TOMBSTONE_PREFIX) for row in gone)
    assert all(row.deleted_by_task.request_id == request.pk for row in gone)
    live = Transmission.objects.filter(deleted_at__isnull=True)
    assert live.count() == 6  # 42's other purpose, and everything of subject 7
    persons = fake_face.groups["persongroups"]["app-users"]["persons"]
    assert {r.resource_id for r in live.filter(service="face")} == set(persons)
    assert {r.resource_id for r in live.filter(service="speech")} == set(fake_speech.items["transcriptions"])
    assert any(ALICE in m.to for m in mailoutbox)


def test_deletion_survives_429_storm_and_5xx_with_nothing_lost(
    azure_stores, fake_face, fake_speech, approved_request, settings
):
    settings.PORTAL_STORE_TASK_MAX_ATTEMPTS = 20  # a storm: the engine keeps retrying (backoff skipped here)
    p = purpose("face-verification", requires_consent=False)
    for _ in range(5):
        send(fake_face, fake_speech, "42", p.slug)
    send(fake_face, fake_speech, "7", p.slug)
    fake_face.throttle_rate, fake_face.fault_rate, fake_face.retry_after = 0.3, 0.15, 0
    fake_speech.throttle_rate, fake_speech.fault_rate, fake_speech.retry_after = 0.3, 0.15, None
    fake_face.fail_next(429, 20, retry_after=0)
    request = run(approved_request(identifiers={"user_id": "42"}))
    fake_face.throttle_rate = fake_face.fault_rate = fake_speech.throttle_rate = fake_speech.fault_rate = 0
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    assert fake_face.throttled > 20
    assert Transmission.objects.filter(deleted_at__isnull=True).count() == 2  # subject 7's
    assert len(fake_face.groups["persongroups"]["app-users"]["persons"]) == 1
    assert len(fake_speech.items["transcriptions"]) == 1
    assert all(t.verified_gone for t in StoreTask.objects.filter(request=request, phase="verify"))


def test_speaker_recognition_rows_leave_the_request_needing_attention_with_the_list(azure_stores, approved_request):
    record_speaker_profile("prof-1")
    request = run(approved_request(identifiers={"user_id": "42"}))
    # Something left: not "completed", but needs_attention with the list.
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert "Speaker Recognition: 1 item(s)" in request.attention_reason
    assert "Microsoft support" in request.attention_reason
    row = Transmission.objects.get()
    assert row.deleted_at is None and "needs a request to Microsoft" in row.deletion_note

    request_close_with_exceptions(
        request=request, actor="staff:alice", reason="Asked Microsoft support on 2026-12-04 (case 123)"
    )
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED
    exceptions = request.receipt["completed_with_exceptions"]
    assert exceptions["reason"].startswith("Asked Microsoft support")
    assert exceptions["left"][0]["ids"] == ["westus/profile/prof-1"]
    assert any(event.action == "completed_with_exceptions" for event in request.timeline())
    assert "with exceptions" in status_explanation(request)
    assert "1 item(s) could not be deleted" in status_explanation(request)


def test_the_ledger_is_honoured_when_the_stores_file_does_not_name_it(azure_stores, approved_request):
    azure_stores.write_text(azure_stores.read_text().split('[[store]]\nname = "azure-ledger"')[0])
    record_speaker_profile("prof-2")
    request = run(approved_request(identifiers={"user_id": "42"}))
    assert "azure-ledger" in set(request.store_tasks.values_list("store", flat=True))
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    left = next(event for event in request.timeline() if event.action == "execution_left_items")
    assert "prof-2" in json.dumps(left.data)


def test_ledger_row_without_store_needs_attention(azure_stores, approved_request):
    purpose("videos", requires_consent=False)
    ledger.record_transmission(
        client_id="vi-1",
        service="video_indexer",
        account="acct-9",
        resource_kind="video",
        resource_id="3a2e55f3d8",
        subject_value="42",
        purpose="videos",
        payload_kind="video",
    )
    request = run(approved_request(identifiers={"user_id": "42"}))
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert 'kind = "azure_video_indexer"' in request.attention_reason


def test_access_package_says_what_was_sent_to_microsoft(
    azure_stores, fake_face, fake_speech, approved_request, settings
):
    p = purpose("face-verification", requires_consent=False)
    send(fake_face, fake_speech, "42", p.slug)
    request = run(approved_request(kind="access", identifiers={"user_id": "42"}))
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    with zipfile.ZipFile(Path(settings.PORTAL_PRIVATE_ROOT) / request.package.path) as archive:
        items = json.loads(archive.read("microsoft/what-this-app-sent-to-microsoft.json"))
        index = archive.read("index.html").decode()
    assert len(items) == 2 and "sent an image to Microsoft" in items[0]["what_happened"] + items[1]["what_happened"]
    assert "What this app sent to Microsoft" in index


def _status(request):
    from django.db import OperationalError

    try:
        return PrivacyRequest.objects.values_list("status", flat=True).get(pk=request.pk)
    except OperationalError:  # SQLite's shared in-memory test database: the worker may hold a lock
        return None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_erases_azure_data_on_the_azure_queue(
    azure_stores, fake_face, fake_speech, approved_request, celery_worker
):
    from tests.helpers import wait_until

    p = purpose("face-verification", requires_consent=False)
    send(fake_face, fake_speech, "42", p.slug)
    fake_face.fail_next(429, 2, retry_after=0)
    request = approved_request(identifiers={"user_id": "42"})
    sweeper.dispatch_due()
    assert wait_until(lambda: _status(request) == "completed", timeout=60)
    assert not fake_face.groups["persongroups"]["app-users"]["persons"]
    assert not fake_speech.items["transcriptions"]
