"""The durable outbox against the real portal (live_server): batches, idempotency, a portal outage
during 100 uploads, a process killed between the Azure call and the flush, records refused for good."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from privacy_portal_client import PortalClient, Subject, backoff_delay

from requests_app import consent
from requests_app.models import Consent, Transmission
from tests.clients.portal_proxy import SwitchableProxy
from tests.requests_app.azure_helpers import purpose

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
HERE = Path(__file__).resolve().parent


@pytest.fixture
def portal(live_server, api_key, settings):
    settings.PORTAL_BASE_URL = live_server.url
    for slug in ("profile-photos", "face-verification"):
        consent.grant(
            purpose=purpose(slug), subject_kind="user_id", subject_value="42", method=Consent.Method.API, actor=None
        )
    _, raw = api_key("transmissions:write", "consents:read", "consents:write")
    proxy = SwitchableProxy(int(live_server.url.rsplit(":", 1)[1]))
    yield proxy, raw
    proxy.close()


@pytest.fixture
def container(azurite):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    name = f"outbox{random.randrange(10**8)}"
    service.create_container(name)
    yield name
    service.delete_container(name)


def blob_service(azurite, client):
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(
        azurite.connection_string, _additional_pipeline_policies=[client.azure_policy()]
    )


def test_records_reach_the_ledger_once_however_often_they_are_sent(portal, azurite, container, tmp_path):
    proxy, key = portal
    client = PortalClient(proxy.url, key, tmp_path / "outbox.sqlite3", autoflush=False)
    blobs = blob_service(azurite, client)
    with client.subject(user_id="42", purpose="profile-photos"):
        for n in range(3):
            blobs.get_blob_client(container, f"users/42/{n}.jpg").upload_blob(b"photo")
    sent_records = [record for _, record in client.outbox.due(100)]
    assert client.flush().sent == 3
    rows = Transmission.objects.order_by("resource_id")
    assert [(r.service, r.resource_kind, r.resource_id, r.parent_ids, r.subject_value, r.purpose) for r in rows] == [
        ("blob", "blob", f"users/42/{n}.jpg", {"container": container}, "42", "profile-photos") for n in range(3)
    ]
    assert all(r.consent_id for r in rows)
    for record in sent_records:  # the portal's answer was lost: the same records go again
        client.outbox.add(record)
    assert client.flush().sent == 3
    assert Transmission.objects.count() == 3


def test_portal_down_for_100_uploads_then_up_makes_100_rows(portal, azurite, container, tmp_path):
    proxy, key = portal
    client = PortalClient(proxy.url, key, tmp_path / "outbox.sqlite3", autoflush=False, consent_ttl=3600, batch_size=40)
    blobs = blob_service(azurite, client)
    assert client.may_send(Subject("user_id", "42", "profile-photos"))  # consent cached while the portal is up
    proxy.up = False
    with client.subject(user_id="42", purpose="profile-photos"):
        for n in range(100):
            blobs.get_blob_client(container, f"u/{n}.jpg").upload_blob(b"photo")
    down = client.flush()
    assert down.sent == 0 and down.pending == 100 and "cannot be reached" in down.error
    assert Transmission.objects.count() == 0
    proxy.up = True
    up = client.flush()
    assert (up.sent, up.pending, up.error) == (100, 0, "")
    assert Transmission.objects.count() == 100
    assert Transmission.objects.values("resource_id").distinct().count() == 100
    assert client.flush().sent == 0


def test_a_killed_process_loses_nothing(portal, azurite, container, tmp_path):
    proxy, key = portal
    outbox = tmp_path / "outbox.sqlite3"
    child = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "hostapp_child.py"),
            str(outbox),
            proxy.url,
            key,
            azurite.connection_string,
            container,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "uploaded", child.stderr.read()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert Transmission.objects.count() == 0  # killed before any flush
    restarted = PortalClient(proxy.url, key, outbox, autoflush=False)
    assert restarted.flush().sent == 1
    row = Transmission.objects.get()
    assert (row.resource_id, row.parent_ids, row.subject_value) == (
        "users/42/killed.jpg",
        {"container": container},
        "42",
    )


def test_the_background_flusher_sends_and_a_last_flush_runs_on_close(portal, azurite, container, tmp_path):
    proxy, key = portal
    client = PortalClient(proxy.url, key, tmp_path / "outbox.sqlite3", flush_interval=3600)
    assert client.flusher._thread is not None and client.flusher._thread.is_alive()
    blobs = blob_service(azurite, client)
    with client.subject(user_id="42", purpose="profile-photos"):
        blobs.get_blob_client(container, "users/42/a.jpg").upload_blob(b"photo")
    client.close()  # joins the thread, then flushes whatever it had not sent yet
    assert client.flusher._thread is None
    assert Transmission.objects.filter(resource_id="users/42/a.jpg").count() == 1
    assert client.outbox.counts()["pending"] == 0


def test_a_record_refused_for_good_is_kept_aside_and_the_rest_is_sent(portal, tmp_path):
    proxy, key = portal
    client = PortalClient(proxy.url, key, tmp_path / "outbox.sqlite3", autoflush=False)
    base = {
        "service": "blob",
        "account": "devstoreaccount1",
        "resource_kind": "blob",
        "parent_ids": {"container": "media"},
        "subject_kind": "user_id",
        "purpose": "profile-photos",
        "payload_kind": "image",
    }
    client.outbox.add({**base, "client_id": "pc-ok", "resource_id": "a.jpg", "subject_value": "42"})
    # consent withdrawn (or never given) by the time the record is flushed
    client.outbox.add({**base, "client_id": "pc-no", "resource_id": "b.jpg", "subject_value": "7"})
    result = client.flush()
    assert (result.sent, result.rejected, result.pending) == (1, 1, 0)
    assert list(Transmission.objects.values_list("client_id", flat=True)) == ["pc-ok"]
    [kept] = client.outbox.rejected()
    assert kept["record"]["client_id"] == "pc-no"
    assert kept["reason"].startswith("consent_required")


def test_a_revoked_key_keeps_the_records_for_later(portal, tmp_path):
    proxy, _ = portal
    client = PortalClient(proxy.url, "pk_revoked", tmp_path / "outbox.sqlite3", autoflush=False)
    client.outbox.add(
        {
            "client_id": "pc-1",
            "service": "blob",
            "account": "a",
            "resource_kind": "blob",
            "resource_id": "x",
            "subject_value": "42",
            "purpose": "profile-photos",
            "payload_kind": "image",
        }
    )
    result = client.flush()
    assert result.sent == 0 and result.pending == 1 and "401" in result.error


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(3)
    delays = [backoff_delay(n, rng, base=1, cap=60) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        step = min(60, 2 ** (n - 1))
        assert step / 2 <= delay <= step
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, not a fixed ladder
