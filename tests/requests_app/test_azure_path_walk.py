"""No id leaves its item: every Azure store kind's every request path, walked with hostile ids.

Each hostile id is put where a ledger row carries it (the resource id and each
parent id) and the store's discover, export, erase and verify run against the
local fakes, which record every request they receive. Nothing may reach the
fake but the legitimate item's own path; the hostile row is reported as left.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.db import connection

from requests_app.stores.azure import ids
from requests_app.stores.azure.blob import AzureBlobStore
from requests_app.stores.azure.face import ROW_PATHS, AzureFaceStore
from requests_app.stores.azure.speech import AzureSpeechStore
from requests_app.stores.azure.video_indexer import AzureVideoIndexerStore
from tests.requests_app.azure_helpers import MemorySink, handed, row, subject, video_indexer_config

pytestmark = pytest.mark.django_db

GUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
HOSTILE = [
    "..",
    ".",
    "a/../b",
    "/",
    "%2F",
    "a%2Fb",
    "?x=1",
    "#",
    "\\",
    "\x00",
    "x" * 2000,
    f"{GUID}%2F..",
    "3fa85f64%2F5717-4562-b3fc-2c963f66afa6",
    "../../largepersongroups/app-users-large",
    "../models/OTHER-MODEL-1",
    "../../internal/admin?drop=all#",
    "",
]


def stored_hostile() -> list[str]:
    """The hostile ids a ledger row can hold. PostgreSQL refuses NUL in text and values longer than the
    column (512), so no such row can exist there; the ledger API test still refuses both."""
    if connection.vendor != "postgresql":
        return list(HOSTILE)
    return [bad for bad in HOSTILE if "\x00" not in bad and len(bad) <= 512]


def run_all(store, subj) -> dict:
    """Every operation a request runs through a store; the erase outcome is returned."""
    store.discover(handed(store, subj))
    store.export(handed(store, subj), MemorySink())
    outcome = store.erase(handed(store, subj))
    erased = handed(store, subj)
    erased.erased_ledger, erased.ledger = erased.ledger, []
    store.verify_gone(erased)
    return {"outcome": outcome}


def assert_only(fake, allowed_prefixes: tuple[str, ...]) -> None:
    for call in fake.calls:
        method, path = call.split(" ", 1)
        assert path.startswith(allowed_prefixes), call
        assert ".." not in unquote(path).split("/") and "." not in unquote(path).split("/"), call


# --- the helper every client uses ------------------------------------------------------------
@pytest.mark.parametrize("bad", HOSTILE)
def test_item_path_refuses_every_hostile_id(bad):
    with pytest.raises(ids.UnsafeIdError):
        ids.item_path("largefacelists/{}/persistedfaces/{}", "recent-faces", bad)


def test_item_path_quotes_one_segment_and_keeps_the_depth():
    assert ids.item_path("persons/{}", "a b") == "persons/a%20b"
    assert ids.item_path("facelists/{}/persistedfaces/{}", "l", GUID).count("/") == 3


@pytest.mark.parametrize("path", ["persongroups/../x", "persons/", "a//b", "a/%2e%2e/b", "a?x", "a#b", "a\\b"])
def test_client_refuses_a_path_that_could_climb(fake_face, path):
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key})
    with pytest.raises(ids.UnsafeIdError):
        store.client.send("DELETE", path)
    assert fake_face.calls == []


def test_client_refuses_a_link_outside_its_endpoint(fake_face):
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key})
    with pytest.raises(ids.UnsafeIdError):
        store.client.send("GET", "http://127.0.0.1:1/face/v1.2/persons")
    with pytest.raises(ids.UnsafeIdError):
        store.client.send("GET", f"{fake_face.url}/face/v1.2/persons/../largefacelists/x")
    assert fake_face.calls == []


# --- Face: every resource kind, every id position -----------------------------------------------
FACE_POSITIONS = [(kind, position) for kind, (_, keys) in ROW_PATHS.items() for position in ("resource_id", *keys)]


@pytest.mark.parametrize(("kind", "position"), FACE_POSITIONS)
def test_face_hostile_ids_never_leave_their_item(fake_face, kind, position):
    person, faces = fake_face.add_person("app-users", user_data="7")
    list_face = fake_face.add_list_face("recent-faces", user_data="7", large=True)
    other_list_face = fake_face.add_list_face("plain", user_data="7")
    before = (fake_face.person_count(), fake_face.face_count())
    parents = {
        "person_group": "app-users",
        "large_person_group": "app-users",
        "person": person,
        "face_list": "plain",
        "large_face_list": "recent-faces",
    }
    for bad in stored_hostile():
        ids_ = {"resource_id": GUID, **parents, position: bad}
        row("face", fake_face.url, kind, ids_.pop("resource_id"), parents=ids_)
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key, "max_tps": 1000})
    result = run_all(store, subject())
    assert fake_face.calls == []  # not one request: every row had a hostile id
    assert (fake_face.person_count(), fake_face.face_count()) == before
    assert fake_face.lists["largefacelists"]["recent-faces"] == {list_face: "7"}
    assert other_list_face in fake_face.lists["facelists"]["plain"] and faces
    outcome = result["outcome"]
    assert len(outcome.ledger.failed) == len(stored_hostile()) and outcome.left
    assert not outcome.ledger.erased and not outcome.ledger.gone


def test_face_good_row_beside_hostile_ones_deletes_only_its_item(fake_face):
    mine, _ = fake_face.add_person("app-users", user_data="")
    other, _ = fake_face.add_person("app-users", user_data="")
    row("face", fake_face.url, "person", mine, parents={"person_group": "app-users"})
    row("face", fake_face.url, "person", "..", parents={"person_group": "app-users"})
    row("face", fake_face.url, "person", GUID, parents={"person_group": "../largepersongroups/app-users"})
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key, "max_tps": 1000})
    outcome = run_all(store, subject())["outcome"]
    assert_only(fake_face, (f"/face/v1.2/persongroups/app-users/persons/{mine}",))
    assert other in fake_face.groups["persongroups"]["app-users"]["persons"]
    assert mine not in fake_face.groups["persongroups"]["app-users"]["persons"]
    assert len(outcome.ledger.erased) == 1 and len(outcome.ledger.failed) == 2


# --- Speech ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["transcription", "dataset"])
def test_speech_hostile_ids_never_leave_their_item(fake_speech, kind):
    mine = fake_speech.add_transcription() if kind == "transcription" else fake_speech.add_dataset()
    others = {c: set(items) for c, items in fake_speech.items.items()}
    for bad in stored_hostile():
        row("speech", fake_speech.url, kind, bad)
    row("speech", fake_speech.url, kind, mine)
    store = AzureSpeechStore("speech", {"endpoint": fake_speech.url, "key": fake_speech.key, "max_tps": 1000})
    outcome = run_all(store, subject())["outcome"]
    collection = f"{kind}s"
    assert_only(fake_speech, (f"/speechtotext/{collection}/{mine}",))
    assert mine not in fake_speech.items[collection]
    assert {c: set(items) for c, items in fake_speech.items.items()} == {
        c: items - {mine} for c, items in others.items()
    }
    assert len(outcome.ledger.failed) == len(stored_hostile()) and outcome.left


# --- Video Indexer ----------------------------------------------------------------------------------
def test_video_indexer_hostile_ids_never_leave_their_item(fake_vi):
    mine = fake_vi.add_video(external_id="")
    other = fake_vi.add_video(external_id="")
    for bad in stored_hostile():
        row("video_indexer", fake_vi.account_id, "video", bad)
    row("video_indexer", fake_vi.account_id, "video", mine)
    store = AzureVideoIndexerStore("videos", video_indexer_config(fake_vi))
    outcome = run_all(store, subject())["outcome"]
    assert_only(
        fake_vi,
        (
            f"/{fake_vi.location}/Accounts/{fake_vi.account_id}/Videos/{mine}",
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.VideoIndexer/accounts/vi/generateAccessToken",
        ),
    )
    assert mine not in fake_vi.videos and other in fake_vi.videos
    assert len(outcome.ledger.failed) == len(stored_hostile()) and outcome.left


# --- Blob (the SDK builds the URL: names are checked before it is asked) ------------------------------
@pytest.mark.parametrize("kind", ["blob", "container"])
def test_blob_hostile_names_are_never_sent(kind):
    # Port 1 answers nothing: any request the store made would fail the test with an error.
    store = AzureBlobStore(
        "blobs",
        {
            "connection_string": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;",
            "container": "media",
        },
    )
    # "?x=1" and "#" are legal blob names (the SDK quotes them inside the container): not walked here.
    legal = {"?x=1", "#"} if kind == "blob" else set()
    hostile = [bad for bad in stored_hostile() if bad not in legal]
    hostile += ["users/42/../../other/x.jpg", "users/42/", "a.", "..\\x"]
    for bad in hostile:
        row("blob", "devstoreaccount1", kind, bad, parents={"container": "media"} if kind == "blob" else None)
    if kind == "blob":
        row("blob", "devstoreaccount1", "blob", "a.jpg", parents={"container": "../other"})
    outcome = store.erase(handed(store, subject()))
    assert store.counter.calls == 0
    assert len(outcome.ledger.failed) == len(hostile) + (kind == "blob") and outcome.left


# --- the ledger API refuses them at the border -------------------------------------------------------
def _item(service: str, kind: str, resource_id: str, parents: dict | None = None) -> dict:
    return {
        "client_id": f"walk-{abs(hash((service, kind, resource_id, str(parents))))}",
        "service": service,
        "account": "acct",
        "resource_kind": kind,
        "resource_id": resource_id,
        "parent_ids": parents or {},
        "subject_value": "42",
        "purpose": "walk",
        "payload_kind": "image",
    }


CLIMBERS = [bad for bad in HOSTILE if bad.strip()]


@pytest.mark.parametrize(
    ("service", "kind", "parents"),
    [
        ("face", "person", {"person_group": "app-users"}),
        ("face", "large_face_list_face", {"large_face_list": "recent-faces"}),
        ("face", "directory_person", {}),
        ("speech", "transcription", {}),
        ("video_indexer", "video", {}),
        ("blob", "blob", {"container": "media"}),
        ("blob", "container", {}),
    ],
)
def test_ledger_api_refuses_climbing_ids_with_400(client, api_key, service, kind, parents):
    from tests.requests_app.azure_helpers import purpose

    purpose("walk", requires_consent=False)
    _, raw = api_key("transmissions:write")
    for bad in CLIMBERS:
        if kind == "blob" and bad in ("%2F", "a%2Fb", "?x=1", "#"):
            continue  # legal blob names: the SDK quotes them into one name, inside the container
        response = client.post(
            "/api/v1/transmissions/",
            _item(service, kind, bad, parents),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 400, (service, kind, bad)
        fields = response.json()["error"]["fields"]
        assert any(name.endswith("resource_id") for name in fields), fields


@pytest.mark.parametrize("bad", CLIMBERS)
def test_ledger_api_refuses_climbing_parent_ids(client, api_key, bad):
    from tests.requests_app.azure_helpers import purpose

    purpose("walk", requires_consent=False)
    _, raw = api_key("transmissions:write")
    response = client.post(
        "/api/v1/transmissions/",
        _item("face", "large_face_list_face", GUID, {"large_face_list": bad}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 400
    if bad == "\x00":
        return  # refused before the ledger by the hostile-input middleware (NUL in a body)
    message = response.json()["error"]["fields"]["items[0].parent_ids.large_face_list"][0]
    assert "1-64 lower-case letters" in message


def test_ledger_api_accepts_the_ids_azure_issues(client, api_key):
    from tests.requests_app.azure_helpers import purpose

    purpose("walk", requires_consent=False)
    _, raw = api_key("transmissions:write")
    items = [
        _item("face", "persisted_face", GUID, {"person_group": "app-users", "person": GUID}),
        _item("speech", "dataset", GUID),
        _item("video_indexer", "video", "3a2e55f3d8"),
        _item("blob", "blob", "users/42/a photo (1).jpg", {"container": "media"}),
    ]
    response = client.post(
        "/api/v1/transmissions/",
        {"items": items},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 201, response.json()


def test_client_follows_a_link_under_its_endpoint(fake_face):
    fake_face.add_directory_person(user_data="42")
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": fake_face.key})
    response = store.client.send("GET", f"{fake_face.url}/face/v1.2/persons")
    assert response.status_code == 200 and fake_face.calls == ["GET /face/v1.2/persons"]
