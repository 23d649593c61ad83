"""Microsoft's own retention, stated truthfully: per store in the outcome, on the receipt, e-mail and status page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from azure.storage.blob import BlobServiceClient, RetentionPolicy
from django.template.loader import render_to_string
from django.utils import timezone

from requests_app.stores.azure.blob import AzureBlobStore
from requests_app.stores.azure.face import AzureFaceStore
from requests_app.stores.azure.speech import AzureSpeechStore
from requests_app.stores.azure.video_indexer import AzureVideoIndexerStore
from requests_app.stores.base import Retention
from tests.requests_app.azure_helpers import handed, row, subject, video_indexer_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def soft_delete(azurite):
    """The Azurite account with blob soft delete at 7 days (restored to off afterwards)."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=7))
    container = service.create_container(f"media-{uuid.uuid4().hex[:8]}")
    yield service, container
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=False))
    container.delete_container()


def blob_store(azurite, container):
    return AzureBlobStore(
        "blobs",
        {
            "connection_string": azurite.connection_string,
            "container": container.container_name,
            "blobs": ["users/{user_id}/"],
        },
    )


def test_blob_erase_states_the_soft_delete_purge_date(azurite, soft_delete):
    _, container = soft_delete
    container.upload_blob("users/42/a.jpg", b"x")
    outcome = blob_store(azurite, container).erase(subject())
    today = timezone.now().date()
    assert outcome.retention == [Retention("soft_deleted", count=1, until=today + timedelta(days=7), days=7)]


def test_blob_erase_without_soft_delete_says_no_copy_is_kept(azurite):
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=False))
    container = service.create_container(f"media-{uuid.uuid4().hex[:8]}")
    container.upload_blob("users/42/a.jpg", b"x")
    outcome = blob_store(azurite, container).erase(subject())
    container.delete_container()
    assert [item.code for item in outcome.retention] == ["deleted_no_soft_delete"]


def test_video_indexer_deletes_insights_and_says_so(fake_vi):
    video = fake_vi.add_video(external_id="")
    row("video_indexer", fake_vi.account_id, "video", video)
    store = AzureVideoIndexerStore("videos", video_indexer_config(fake_vi))
    outcome = store.erase(handed(store, subject()))
    assert outcome.retention == [Retention("video_deleted", count=1)]
    assert video not in fake_vi.videos  # the fake keeps the insights unless deleteInsights=true


def test_speech_and_face_state_what_went_with_the_item(fake_speech, fake_face):
    transcription = fake_speech.add_transcription()
    row("speech", fake_speech.url, "transcription", transcription)
    speech = AzureSpeechStore("speech", {"endpoint": fake_speech.url, "key": fake_speech.key, "max_tps": 1000})
    assert speech.erase(handed(speech, subject())).retention == [Retention("speech_deleted", count=1)]
    person, _ = fake_face.add_person("app-users")
    row("face", fake_face.url, "person", person, parents={"person_group": "app-users"})
    row("face", fake_face.url, "detection", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
    face = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key, "max_tps": 1000})
    codes = [item.code for item in face.erase(handed(face, subject())).retention]
    assert codes == ["face_deleted", "detection_expired"]


RECEIPT = {
    "reference": "PR-TEST",
    "stores": [
        {
            "store": "blobs",
            "retention": [{"code": "soft_deleted", "count": 2, "until": "2027-01-14", "days": 7}],
        }
    ],
}


def test_receipt_mail_and_status_page_partial_say_when_microsoft_purges():
    html = render_to_string("requests_app/_microsoft_retention.html", {"receipt": RECEIPT})
    assert "Microsoft purges its soft-deleted copy by" in html and "2027" in html and "7 days" in html
    text = render_to_string(
        "email/request_completed_deletion.txt",
        {"receipt": RECEIPT, "reference": "PR-TEST", "request": None},
    )
    assert "At Microsoft: deleted; Microsoft purges its soft-deleted copy by" in text


def test_partial_is_empty_without_retention():
    assert render_to_string("requests_app/_microsoft_retention.html", {"receipt": {"stores": [{}]}}).strip() == ""


def test_retention_as_dict_is_plain_for_the_signed_receipt():
    item = Retention("soft_deleted", count=1, until=date(2027, 1, 1), days=7)
    assert item.as_dict() == {"code": "soft_deleted", "count": 1, "until": "2027-01-01", "days": 7}


def test_stores_file_ids_that_would_climb_are_config_errors():
    face = dict(
        AzureFaceStore.config_errors(
            {"endpoint": "https://x", "key": "k", "person_groups": ["app-users", "../largefacelists/x"]}
        )
    )
    assert "lower-case letters" in face["person_groups"]
    blob = dict(AzureBlobStore.config_errors({"connection_string": "AccountName=x;", "container": "../x"}))
    assert "container" in blob
    vi = dict(
        AzureVideoIndexerStore.config_errors(
            {"location": "west/../x", "account_id": "a?b", "access_token": "t", "account_name": "a/b"}
        )
    )
    assert {"location", "account_id", "account_name"} <= set(vi)


@pytest.mark.django_db(transaction=True)
def test_a_real_deletion_signs_the_retention_into_the_receipt_and_mails_it(
    tmp_path, settings, fake_face, approved_request, mailoutbox
):
    from requests_app.engine import local
    from requests_app.models import PrivacyRequest

    stores = tmp_path / "stores.toml"
    stores.write_text(
        f'[[store]]\nname = "face"\nkind = "azure_face"\nendpoint = "{fake_face.url}"\n'
        f'key = "{fake_face.key}"\nmax_tps = 1000\n'
    )
    settings.PORTAL_STORES_FILE = str(stores)
    person, _ = fake_face.add_person("app-users")
    row("face", fake_face.url, "person", person, parents={"person_group": "app-users"})
    request = local.run_local(approved_request(identifiers={"user_id": "42"}), sleep=lambda seconds: None)
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    face = next(store for store in request.receipt["stores"] if store["store"] == "face")
    assert face["retention"] == [{"code": "face_deleted", "count": 1, "until": None, "days": None}]
    assert "the face templates went with each person" in mailoutbox[-1].body
