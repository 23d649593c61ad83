"""The URL table of the client package, one test per row: a real call to the fake (or Azurite) through
the package, and the ledger record it leaves in the outbox."""

from __future__ import annotations

import uuid

import pytest
import requests
from privacy_portal_client import ROUTES, match, routes

from tests.clients.conftest import outbox_records

FACE = "/face/v1.2"


def face_call(creating_face, session, method, path, body=None):
    return session.request(
        method, creating_face.url + FACE + path, json=body, headers={"Ocp-Apim-Subscription-Key": creating_face.key}
    )


def speech_call(fake, session, method, path, body=None):
    return session.request(
        method,
        f"{fake.url}/speechtotext{path}",
        json=body,
        params={"api-version": "2024-11-15"} if "/v3." not in path else None,
        headers={"Ocp-Apim-Subscription-Key": fake.key},
    )


def vi_token(fake) -> str:
    answer = requests.post(
        f"{fake.url}/subscriptions/s/resourceGroups/rg/providers/Microsoft.VideoIndexer/accounts/vi/"
        "generateAccessToken",
        json={"permissionType": "Contributor", "scope": "Account"},
        headers={"Authorization": f"Bearer {fake.arm_token}"},
        timeout=5,
    )
    return answer.json()["accessToken"]


def _person(fake, large=False):
    return fake.add_person("big-users" if large else "app-users", faces=0, large=large)[0]


# operation → (call(fakes, session) -> (expected resource_id or None for "the new one"), kind, parent_ids)
def _case(operation):
    def run(fakes, session):
        face, speech, vi = fakes
        if operation == "PersonGroup Person - Create":
            rid = face_call(face, session, "POST", "/persongroups/app-users/persons", {"name": "a"}).json()["personId"]
            return rid, {"person_group": "app-users"}
        if operation == "PersonGroup Person - Update":
            person = _person(face)
            face_call(face, session, "PATCH", f"/persongroups/app-users/persons/{person}", {"userData": "u"})
            return person, {"person_group": "app-users"}
        if operation == "PersonGroup Person - Add Face":
            person = _person(face)
            rid = face_call(
                face,
                session,
                "POST",
                f"/persongroups/app-users/persons/{person}/persistedfaces",
                {"url": "https://example.com/a.jpg"},
            ).json()["persistedFaceId"]
            return rid, {"person_group": "app-users", "person": person}
        if operation == "LargePersonGroup Person - Create":
            rid = face_call(face, session, "POST", "/largepersongroups/big-users/persons", {"name": "a"}).json()
            return rid["personId"], {"large_person_group": "big-users"}
        if operation == "LargePersonGroup Person - Update":
            person = _person(face, large=True)
            face_call(face, session, "PATCH", f"/largepersongroups/big-users/persons/{person}", {"name": "b"})
            return person, {"large_person_group": "big-users"}
        if operation == "LargePersonGroup Person - Add Face":
            person = _person(face, large=True)
            rid = face_call(
                face,
                session,
                "POST",
                f"/largepersongroups/big-users/persons/{person}/persistedfaces",
                {"url": "https://example.com/a.jpg"},
            ).json()["persistedFaceId"]
            return rid, {"large_person_group": "big-users", "person": person}
        if operation == "FaceList - Add Face":
            rid = face_call(face, session, "POST", "/facelists/album/persistedfaces", {"url": "https://e.com/a.jpg"})
            return rid.json()["persistedFaceId"], {"face_list": "album"}
        if operation == "LargeFaceList - Add Face":
            rid = face_call(
                face, session, "POST", "/largefacelists/big-album/persistedfaces", {"url": "https://e.com/a.jpg"}
            )
            return rid.json()["persistedFaceId"], {"large_face_list": "big-album"}
        if operation == "PersonDirectory Person - Create":
            answer = face_call(face, session, "POST", "/persons", {"name": "a", "userData": "u"})
            assert answer.status_code == 202
            return answer.json()["personId"], {}
        if operation == "PersonDirectory Person - Update":
            person = face.add_directory_person()
            face_call(face, session, "PATCH", f"/persons/{person}", {"userData": "v"})
            return person, {}
        if operation == "PersonDirectory Person - Add Face":
            person = face.add_directory_person()
            face_call(
                face,
                session,
                "POST",
                f"/persons/{person}/recognitionModel/recognition_04/persistedfaces",
                {"url": "https://e.com/a.jpg"},
            )
            return person, {}
        if operation == "Transcriptions - Submit":
            body = speech_call(
                speech,
                session,
                "POST",
                "/transcriptions:submit",
                {"contentUrls": ["https://e.com/a.wav"], "locale": "en-US", "displayName": "t"},
            ).json()
            return body["self"].split("?")[0].rsplit("/", 1)[1], {}
        if operation == "Transcriptions - Create (v3.x)":
            body = speech_call(
                speech,
                session,
                "POST",
                "/v3.2/transcriptions",
                {"contentUrls": ["https://e.com/a.wav"], "locale": "en-US", "displayName": "t"},
            ).json()
            return body["self"].split("?")[0].rsplit("/", 1)[1], {}
        if operation == "Transcriptions - Update":
            item = speech.add_transcription()
            speech_call(speech, session, "PATCH", f"/transcriptions/{item}", {"displayName": "renamed"})
            return item, {}
        if operation in ("Datasets - Create", "Datasets - Upload"):
            path = "/datasets" if operation == "Datasets - Create" else "/datasets:upload"
            body = speech_call(
                speech, session, "POST", path, {"kind": "Acoustic", "locale": "en-US", "displayName": "d"}
            ).json()
            return body["self"].split("?")[0].rsplit("/", 1)[1], {}
        if operation == "Datasets - Update":
            item = speech.add_dataset()
            speech_call(speech, session, "PATCH", f"/datasets/{item}", {"displayName": "renamed"})
            return item, {}
        if operation == "Videos - Upload Video":
            answer = session.post(
                f"{vi.url}/{vi.location}/Accounts/{vi.account_id}/Videos",
                params={"name": "clip", "externalId": "user-42-1", "accessToken": vi_token(vi)},
            )
            return answer.json()["id"], {}
        if operation == "Videos - Update Video Index":
            video = vi.add_video()
            session.patch(
                f"{vi.url}/{vi.location}/Accounts/{vi.account_id}/Videos/{video}/Index",
                params={"accessToken": vi_token(vi)},
                json=[{"op": "replace", "path": "/x", "value": 1}],
            )
            return video, {}
        raise AssertionError(f"no test for {operation}")

    return run


@pytest.mark.parametrize("route", ROUTES, ids=[r.operation for r in ROUTES])
def test_each_row_records_the_resource_azure_created(route, open_client, creating_face, creating_speech, creating_vi):
    session = requests.Session()
    session.mount("http://", open_client.requests_adapter())
    with open_client.subject(user_id="42", purpose="face-verification"):
        expected_id, parents = _case(route.operation)((creating_face, creating_speech, creating_vi), session)
    [record] = outbox_records(open_client)
    assert record["service"] == route.service
    assert record["resource_kind"] == route.resource_kind
    assert record["resource_id"] == expected_id
    assert record["parent_ids"] == parents
    assert (record["subject_kind"], record["subject_value"], record["purpose"]) == (
        "user_id",
        "42",
        "face-verification",
    )
    assert record["payload_kind"] == route.payload_kind
    if route.service == "video_indexer":
        assert record["account"] == creating_vi.account_id
    else:
        fake = creating_face if route.service == "face" else creating_speech
        assert record["account"] == fake.url


def test_reads_deletes_and_detect_are_not_recorded(open_client, creating_face):
    session = requests.Session()
    session.mount("http://", open_client.requests_adapter())
    person = _person(creating_face)
    with open_client.subject(user_id="42", purpose="face-verification"):
        face_call(creating_face, session, "GET", f"/persongroups/app-users/persons/{person}")
        face_call(creating_face, session, "POST", "/detect", {"url": "https://e.com/a.jpg"})
        face_call(creating_face, session, "DELETE", f"/persongroups/app-users/persons/{person}")
    assert outbox_records(open_client) == []


def test_a_failed_create_records_nothing(open_client, creating_face):
    session = requests.Session()
    session.mount("http://", open_client.requests_adapter())
    with open_client.subject(user_id="42", purpose="face-verification"):
        answer = face_call(creating_face, session, "POST", "/persongroups/no-such-group/persons", {"name": "a"})
    assert answer.status_code == 404
    assert outbox_records(open_client) == []


def test_a_success_without_a_well_formed_id_is_logged_not_recorded(open_client, caplog):
    found = match("POST", "https://x.cognitiveservices.azure.com/face/v1.2/persongroups/g/persons", {})
    with pytest.raises(routes.UnreadableResponse, match="personId"):
        routes.resource_id_from(found, {"personId": "not-a-guid"})
    assert routes.resource_id_from(found, {"personId": str(uuid.uuid4()).upper()})


@pytest.mark.parametrize(
    ("url", "headers", "expected"),
    [
        (
            "https://acct.blob.core.windows.net/photos/users/42/a.jpg",
            {"x-ms-version": "2025-01-05", "x-ms-blob-type": "BlockBlob", "Content-Type": "image/jpeg"},
            ("https://acct.blob.core.windows.net", "photos", "users/42/a.jpg", "image"),
        ),
        (
            "https://acct.blob.core.windows.net/photos/a%20b.wav?comp=blocklist",
            {"x-ms-version": "2025-01-05", "x-ms-blob-content-type": "audio/wav"},
            ("https://acct.blob.core.windows.net", "photos", "a b.wav", "audio"),
        ),
        (
            "http://127.0.0.1:10000/devstoreaccount1/c/n?comp=incrementalcopy",
            {"x-ms-version": "2025-01-05", "x-ms-copy-source": "https://x/y?snapshot=1"},
            ("http://127.0.0.1:10000/devstoreaccount1", "c", "n", "other"),
        ),
    ],
    ids=["public-cloud", "block-list-quoted-name", "incremental-copy-path-style"],
)
def test_blob_urls_in_both_styles(url, headers, expected):
    found = match("PUT", url, headers)
    assert (found.account, found.parent_ids["container"], found.resource_id, found.payload_kind) == expected


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("https://acct.blob.core.windows.net/photos?restype=container", {"x-ms-version": "v"}),
        ("https://acct.blob.core.windows.net/photos/a.jpg?comp=block&blockid=AAAA", {"x-ms-version": "v"}),
        ("https://acct.blob.core.windows.net/photos/a.jpg?comp=lease", {"x-ms-version": "v"}),
    ],
    ids=["create-container", "put-block-uncommitted", "lease"],
)
def test_blob_calls_that_store_no_ones_data_are_not_matched(url, headers):
    assert match("PUT", url, headers) is None
