"""Issue 26's done-when, end to end: a host app that only added the package — the policy on its
BlobServiceClient, the requests adapter and the httpx transport for Face, Speech and Video Indexer —
sends data for two users; the ledger then knows everything (``azure_scan`` finds nothing outside it),
a deletion request for one user erases all of theirs and nothing of the other's, and a user without
consent is refused before anything reaches Azure."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
import requests
from privacy_portal_client import ConsentRefused, PortalClient

from requests_app import azure_scan, consent
from requests_app.engine import local
from requests_app.models import Consent, PrivacyRequest, Transmission
from tests.clients.test_routes import vi_token
from tests.requests_app.azure_helpers import purpose

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
USERS = {"42": "alice@example.com", "7": "bob@example.org"}


@pytest.fixture
def stores(tmp_path, settings, azurite, creating_face, creating_speech, creating_vi):
    from azure.storage.blob import BlobServiceClient

    container = f"media-{uuid.uuid4().hex[:8]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    db = Path(tmp_path) / "host.sqlite3"
    with sqlite3.connect(db) as c:  # the host app's users: where user_id comes from
        c.execute("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email TEXT)")
        c.executemany("INSERT INTO accounts_user VALUES (?, ?)", [(int(k), v) for k, v in USERS.items()])
    path = Path(tmp_path) / "stores.toml"
    path.write_text(f"""
[[store]]
name = "app-db"
kind = "sql"
url = "sqlite:///{db}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}

[[store]]
name = "blobs"
kind = "azure_blob"
connection_string = "{azurite.connection_string}"
container = "{container}"
blobs = ["users/{{user_id}}/"]

[[store]]
name = "face"
kind = "azure_face"
endpoint = "{creating_face.url}"
key = "{creating_face.key}"
person_groups = ["app-users"]
user_data = "user:{{user_id}}"
max_tps = 1000
retry_backoff = 0.01

[[store]]
name = "speech"
kind = "azure_speech"
endpoint = "{creating_speech.url}"
key = "{creating_speech.key}"
custom_property = "user_id"
max_tps = 1000
retry_backoff = 0.01

[[store]]
name = "videos"
kind = "azure_video_indexer"
endpoint = "{creating_vi.url}"
arm_endpoint = "{creating_vi.url}"
location = "{creating_vi.location}"
account_id = "{creating_vi.account_id}"
subscription_id = "sub"
resource_group = "rg"
account_name = "vi"
bearer_token = "{creating_vi.arm_token}"
external_ids = ["user-{{user_id}}-*"]
max_tps = 1000

[[store]]
name = "azure-ledger"
kind = "azure_ledger"
""")
    settings.PORTAL_STORES_FILE = str(path)
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 0.01
    return container


@pytest.fixture
def portal_client(live_server, api_key, tmp_path):
    verify = purpose("face-verification")
    for user in USERS:
        consent.grant(purpose=verify, subject_kind="user_id", subject_value=user, method=Consent.Method.API, actor=None)
    _, raw = api_key("transmissions:write", "consents:read")
    client = PortalClient(live_server.url, raw, tmp_path / "outbox.sqlite3", autoflush=False)
    yield client
    client.outbox.close()


def send_everything(client, azurite, container, face, speech, vi, user):
    """What the host app does for one user; not a line of ledger code."""
    from azure.storage.blob import BlobServiceClient

    blobs = BlobServiceClient.from_connection_string(
        azurite.connection_string, _additional_pipeline_policies=[client.azure_policy()]
    )
    session = requests.Session()
    session.mount("http://", client.requests_adapter())
    http = httpx.Client(transport=client.httpx_transport())
    face_headers = {"Ocp-Apim-Subscription-Key": face.key}
    with client.subject(user_id=user, purpose="face-verification"):
        blobs.get_blob_client(container, f"users/{user}/selfie.jpg").upload_blob(b"\xff\xd8 a face")
        person = session.post(
            f"{face.url}/face/v1.2/persongroups/app-users/persons",
            headers=face_headers,
            json={"name": "someone", "userData": f"user:{user}"},
        ).json()["personId"]
        session.post(
            f"{face.url}/face/v1.2/persongroups/app-users/persons/{person}/persistedfaces",
            headers=face_headers,
            json={"url": "https://example.com/selfie.jpg"},
        ).raise_for_status()
        http.post(
            f"{speech.url}/speechtotext/transcriptions:submit",
            params={"api-version": "2024-11-15"},
            headers={"Ocp-Apim-Subscription-Key": speech.key},
            json={
                "contentUrls": ["https://example.com/a.wav"],
                "locale": "en-US",
                "displayName": "note",
                "customProperties": {"user_id": user},
            },
        ).raise_for_status()
        session.post(
            f"{vi.url}/{vi.location}/Accounts/{vi.account_id}/Videos",
            params={"name": "clip", "externalId": f"user-{user}-clip.mp4", "accessToken": vi_token(vi)},
        ).raise_for_status()


def test_ledger_complete_by_construction_and_deletion_erases_everything(
    stores, portal_client, azurite, creating_face, creating_speech, creating_vi
):
    from azure.storage.blob import BlobServiceClient

    fakes = (creating_face, creating_speech, creating_vi)
    for user in USERS:
        send_everything(portal_client, azurite, stores, *fakes, user)
    assert portal_client.flush().sent == 10
    assert Transmission.objects.filter(subject_value="42").count() == 5

    before = azure_scan.run()
    assert before.errors == [] and before.scanned == 8 and before.orphans == []

    request = PrivacyRequest.objects.create(
        kind="deletion",
        status=PrivacyRequest.Status.APPROVED,
        email=USERS["42"],
        verified_at=_now(),
        approved_at=_now(),
    )
    request = local.run_local(request, sleep=lambda seconds: None)
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason

    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(stores)
    assert [b.name for b in container.list_blobs()] == ["users/7/selfie.jpg"]
    persons = creating_face.groups["persongroups"]["app-users"]["persons"].values()
    assert [p["userData"] for p in persons] == ["user:7"]
    assert [t["customProperties"] for t in creating_speech.items["transcriptions"].values()] == [{"user_id": "7"}]
    assert [v["externalId"] for v in creating_vi.videos.values()] == ["user-7-clip.mp4"]
    assert not Transmission.objects.filter(subject_value="42", deleted_at__isnull=True).exists()

    after = azure_scan.run()
    assert after.errors == [] and after.orphans == []


def test_a_user_without_consent_is_refused_before_anything_reaches_azure(
    stores, portal_client, azurite, creating_face, creating_speech, creating_vi
):
    from azure.storage.blob import BlobServiceClient

    with pytest.raises(ConsentRefused, match="no active consent for purpose 'face-verification'") as refused:
        send_everything(portal_client, azurite, stores, creating_face, creating_speech, creating_vi, "9")
    assert "9" not in str(refused.value)  # who it is stays out of exception messages (and logs)
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(stores)
    assert list(container.list_blobs()) == []
    assert creating_face.person_count() == 0
    assert portal_client.outbox.counts()["pending"] == 0


def _now():
    from django.utils import timezone

    return timezone.now()
