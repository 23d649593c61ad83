"""The azure-core policy on a real BlobServiceClient against Azurite: each Blob row of the table, and the
refusals (no subject, no consent) that stop a call before anything reaches the service."""

from __future__ import annotations

import pytest
from privacy_portal_client import ConsentRefused, NoSubject

from tests.clients.conftest import outbox_records

pytestmark = pytest.mark.services

SUBJECT = {"user_id": "42", "purpose": "profile-photos"}


@pytest.fixture
def blobs(azurite, open_client):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(
        azurite.connection_string,
        _additional_pipeline_policies=[open_client.azure_policy()],
        max_single_put_size=1024,
        max_block_size=512,
    )
    container = service.get_container_client(f"c{id(open_client) % 10**8}")
    container.create_container()
    yield container
    container.delete_container()


def records_for(client, name):
    return [r for r in outbox_records(client) if r["resource_id"] == name]


def test_put_blob_records_container_and_name(blobs, open_client, azurite):
    with open_client.subject(**SUBJECT):
        blobs.upload_blob("users/42/a.jpg", b"\xff\xd8photo", content_settings=_type("image/jpeg"))
    [record] = outbox_records(open_client)
    assert record["service"] == "blob" and record["resource_kind"] == "blob"
    assert record["resource_id"] == "users/42/a.jpg"
    assert record["parent_ids"] == {"container": blobs.container_name}
    assert record["account"] == azurite.blob_endpoint
    assert record["payload_kind"] == "image"


def test_put_block_list_is_one_record_and_put_block_none(blobs, open_client):
    with open_client.subject(**SUBJECT):
        blobs.upload_blob("big.wav", b"x" * 4000, content_settings=_type("audio/wav"))
    [record] = outbox_records(open_client)
    assert record["resource_id"] == "big.wav" and record["payload_kind"] == "audio"


def test_copy_blob_records_the_destination(blobs, open_client):
    with open_client.not_personal("a stock picture"):
        source = blobs.upload_blob("src.jpg", b"photo")
    with open_client.subject(**SUBJECT):
        blobs.get_blob_client("copy.jpg").start_copy_from_url(source.url)
    assert [r["resource_id"] for r in outbox_records(open_client)] == ["copy.jpg"]


def test_append_block_and_put_page_and_metadata(blobs, open_client):
    with open_client.subject(**SUBJECT):
        append = blobs.get_blob_client("log.txt")
        append.create_append_blob()
        append.append_block(b"said something")
        page = blobs.get_blob_client("disk.vhd")
        page.create_page_blob(size=512)
        page.upload_page(b"\0" * 512, offset=0, length=512)
        page.set_blob_metadata({"owner": "42"})
    names = [r["resource_id"] for r in outbox_records(open_client)]
    assert names.count("log.txt") == 2  # create, then Append Block
    assert names.count("disk.vhd") == 3  # create, Put Page, Set Blob Metadata


def test_a_call_outside_a_subject_is_refused_before_sending(blobs, open_client):
    # The fixture's container was created outside a subject: containers hold no one's data.
    with pytest.raises(NoSubject, match="client.subject"):
        blobs.upload_blob("users/42/a.jpg", b"photo")
    assert not blobs.get_blob_client("users/42/a.jpg").exists()
    assert outbox_records(open_client) == []


def test_no_consent_is_refused_before_anything_reaches_azure(blobs, open_client, monkeypatch):
    monkeypatch.setattr(open_client, "may_send", lambda subject: False)
    with open_client.subject(**SUBJECT), pytest.raises(ConsentRefused, match="profile-photos"):
        blobs.upload_blob("users/42/a.jpg", b"photo")
    assert not blobs.get_blob_client("users/42/a.jpg").exists()
    assert outbox_records(open_client) == []


def _type(content_type):
    from azure.storage.blob import ContentSettings

    return ContentSettings(content_type=content_type)


def test_per_call_policy_on_an_azure_core_client_reads_the_id_from_the_answer(open_client, creating_face):
    """What azure-ai-* clients are: an azure-core PipelineClient taking ``per_call_policies``."""
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest

    client = PipelineClient(creating_face.url, per_call_policies=[open_client.azure_policy()])
    request = HttpRequest(
        "POST",
        f"{creating_face.url}/face/v1.2/persongroups/app-users/persons",
        json={"name": "a"},
        headers={"Ocp-Apim-Subscription-Key": creating_face.key},
    )
    with open_client.subject(user_id="42", purpose="face-verification"):
        answer = client.send_request(request)
    [record] = outbox_records(open_client)
    assert record["resource_id"] == answer.json()["personId"]
    assert (record["resource_kind"], record["parent_ids"]) == ("person", {"person_group": "app-users"})
