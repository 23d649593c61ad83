"""azure_blob against Azurite: prefixes, exact names, tags, containers (Media Services assets), batches."""

from __future__ import annotations

import uuid

import pytest
from azure.storage.blob import BlobServiceClient

from requests_app.models import Transmission
from requests_app.stores.azure.blob import AzureBlobStore
from requests_app.stores.base import PermanentStoreError
from tests.requests_app.azure_helpers import MemorySink, erase_and_verify, handed, row, subject

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def container(azurite):
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    name = f"media-{uuid.uuid4().hex[:8]}"
    client = service.create_container(name)
    yield client
    try:
        client.delete_container()
    except Exception:
        pass


def make_store(azurite, container, **config):
    return AzureBlobStore(
        "blobs",
        {
            "connection_string": azurite.connection_string,
            "container": container.container_name,
            "blobs": ["users/{user_id}/", "avatars/{user_id}.png"],
            **config,
        },
    )


def seed(container):
    for name in (
        "users/42/a.jpg",
        "users/42/b.jpg",
        "avatars/42.png",
        "users/7/keep.jpg",
        "users/420/keep.jpg",
    ):
        container.upload_blob(name, b"data of " + name.encode())
    container.upload_blob("misc/tagged.jpg", b"t", tags={"owner": "42"})
    container.upload_blob("misc/other.jpg", b"t", tags={"owner": "7"})


def names(container):
    return sorted(blob.name for blob in container.list_blobs())


def test_config_errors_refuse_patterns_without_identity():
    errors = dict(
        AzureBlobStore.config_errors(
            {"connection_string": "AccountName=x;", "container": "media", "blobs": ["everything/"]}
        )
    )
    assert "blobs" in errors and "names no identity" in errors["blobs"]


def test_discover_finds_prefix_exact_and_tags(azurite, container):
    seed(container)
    store = make_store(azurite, container, tags={"owner": "{user_id}"})
    assert store.discover(handed(store, subject())).found == 4


def test_export_copies_files(azurite, container):
    seed(container)
    sink = MemorySink()
    outcome = (store := make_store(azurite, container)).export(handed(store, subject()), sink)
    assert outcome.exported == 3
    assert sink.files[f"{container.container_name}/avatars/42.png"] == b"data of avatars/42.png"


def test_erase_deletes_only_the_subject(azurite, container):
    seed(container)
    store = make_store(azurite, container, tags={"owner": "{user_id}"})
    outcome, gone = erase_and_verify(store, subject())
    assert outcome.erased == 4 and gone.found == 0
    assert names(container) == ["misc/other.jpg", "users/420/keep.jpg", "users/7/keep.jpg"]


def test_repeat_erase_is_a_noop(azurite, container):
    seed(container)
    store = make_store(azurite, container)
    erase_and_verify(store, subject())
    assert store.erase(handed(store, subject())).erased == 0
    assert len(names(container)) == 4


def test_ledger_blob_and_asset_container_are_deleted_and_tombstoned(azurite, container):
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    asset = service.create_container(f"asset-{uuid.uuid4().hex[:12]}")
    asset.upload_blob("video.mp4", b"v")
    asset.upload_blob("manifest.ism", b"m")
    container.upload_blob("uploads/xyz.jpg", b"x")
    account = azurite.blob_endpoint
    row("blob", account, "blob", "uploads/xyz.jpg", parents={"container": container.container_name})
    row("media_services", account, "asset", asset.container_name, payload="video")
    store = AzureBlobStore("blobs", {"connection_string": azurite.connection_string})
    outcome, gone = erase_and_verify(store, subject())
    assert gone.found == 0 and outcome.detail["containers_deleted"] == 1
    assert names(container) == []
    assert not asset.exists()
    assert Transmission.objects.filter(deleted_at__isnull=True).count() == 0


def test_more_than_256_blobs_use_several_batches(azurite, container):
    for i in range(300):
        container.upload_blob(f"users/42/{i:04d}", b"x")
    store = make_store(azurite, container)
    store.counter.calls = 0
    outcome = store.erase(handed(store, subject()))
    assert outcome.erased == 300
    # one listing; 301 names (300 listed + the exact avatar name) in 2 batches; the soft-delete policy
    assert store.counter.calls == 1 + 2 + 1


def test_bad_key_is_permanent(azurite, container):
    bad = azurite.connection_string.replace("AccountKey=", "AccountKey=AAAA")
    store = AzureBlobStore(
        "blobs",
        {"connection_string": bad, "container": container.container_name, "blobs": ["users/{user_id}/"]},
    )
    with pytest.raises(PermanentStoreError, match='store "blobs"'):
        store.discover(handed(store, subject()))


def test_pinned_api_version_the_sdk_does_not_speak_names_the_accepted_ones():
    errors = dict(
        AzureBlobStore.config_errors(
            {"connection_string": "AccountName=x;", "container": "media", "api_version": "2099-01-01"}
        )
    )
    assert "2099-01-01" in errors["api_version"] and "2025-01-05" in errors["api_version"]
    assert not AzureBlobStore.config_errors(
        {"connection_string": "AccountName=x;", "container": "media", "api_version": "2025-01-05"}
    )


def test_600_ledgered_blobs_cost_one_listing_three_batches_and_one_verifying_listing(azurite, container):
    """n ledgered blobs under one prefix: ceil(n/5000) lists, ceil(n/256) batch deletes, ceil(n/5000) lists."""
    n = 600
    account = azurite.blob_endpoint
    for i in range(n):
        name = f"users/42/photo-{i:04}.jpg"
        container.upload_blob(name, b"x")
        row("blob", account, "blob", name, parents={"container": container.container_name})
    container.upload_blob("users/42-not-mine/keep.jpg", b"k")
    store = AzureBlobStore("blobs", {"connection_string": azurite.connection_string})

    found = store.discover(handed(store, subject()))
    discover_calls = store.counter.calls
    outcome, gone = erase_and_verify(store, subject())

    assert found.found == n and discover_calls == 1  # ceil(600/5000)
    # ceil(600/256) batches, and one read of the account's soft-delete policy
    assert outcome.erased == n and outcome.detail["calls"] - discover_calls == 3 + 1
    assert gone.found == 0 and store.counter.calls - outcome.detail["calls"] == 1  # ceil(600/5000)
    assert Transmission.objects.filter(deleted_at__isnull=True).count() == 0
    assert names(container) == ["users/42-not-mine/keep.jpg"]
