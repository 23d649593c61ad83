"""GET /api/v1/consents/purposes/: purposes with the current notice version and the hash of its text."""

from __future__ import annotations

import hashlib

import pytest

from portal.models import ApiKey
from requests_app import consent
from requests_app.models import ConsentPurpose
from tests.requests_app.azure_helpers import purpose

pytestmark = pytest.mark.django_db

URL = "/api/v1/consents/purposes/"


def get(client, raw, url=URL):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_lists_current_notice_version_and_text_hash(client, api_key):
    face = purpose("face-verification", text="Your photo is sent to Microsoft.")
    consent.publish_notice(purpose=face, text="Your photo is sent to Microsoft Azure AI Face — v2.", actor=None)
    purpose("voice-notes", requires_consent=False, text="Your voice is transcribed by Azure AI Speech.")
    _, raw = api_key("consents:read")

    response = get(client, raw)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    first, second = body["results"]
    assert first["slug"] == "face-verification" and first["title"] == "Face Verification"
    assert first["notice_version"] == 2
    assert first["notice_sha256"] == sha256("Your photo is sent to Microsoft Azure AI Face — v2.")
    assert first["active"] is True and first["requires_consent"] is True
    assert second["slug"] == "voice-notes" and second["notice_version"] == 1
    assert second["notice_sha256"] == sha256("Your voice is transcribed by Azure AI Speech.")
    assert second["requires_consent"] is False


def test_version_listed_is_the_one_grant_accepts(client, api_key):
    face = purpose("face-verification")
    consent.publish_notice(purpose=face, text="A second text.", actor=None)
    _, raw = api_key("consents:read", "consents:write")
    version = get(client, raw).json()["results"][0]["notice_version"]

    granted = client.post(
        "/api/v1/consents/",
        {"purpose": "face-verification", "subject": "42", "notice_version": version},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert granted.status_code == 201 and granted.json()["notice_version"] == version == 2


def test_inactive_purpose_and_purpose_without_notice_are_listed(client, api_key):
    ConsentPurpose.objects.create(slug="old-purpose", title="Old", active=False)
    _, raw = api_key("consents:read")

    (result,) = get(client, raw).json()["results"]

    assert result == {
        "slug": "old-purpose",
        "title": "Old",
        "active": False,
        "requires_consent": True,
        "notice_version": None,
        "notice_sha256": None,
        "notice_published_at": None,
    }


def test_paginated_with_page_size(client, api_key):
    for n in range(5):
        purpose(f"purpose-{n}")
    _, raw = api_key("consents:read")

    page1 = get(client, raw, URL + "?page_size=2").json()
    page3 = get(client, raw, URL + "?page_size=2&page=3").json()

    assert page1["count"] == 5 and [r["slug"] for r in page1["results"]] == ["purpose-0", "purpose-1"]
    assert page1["next"].endswith("?page=2&page_size=2") and page1["previous"] is None
    assert [r["slug"] for r in page3["results"]] == ["purpose-4"] and page3["next"] is None


def test_page_beyond_the_end_is_a_404_naming_it(client, api_key):
    purpose()
    _, raw = api_key("consents:read")

    response = get(client, raw, URL + "?page=9")

    assert response.status_code == 404
    assert "page “9”" in response.json()["error"]["message"]


def test_query_count_does_not_grow_with_purposes(client, api_key, django_assert_max_num_queries):
    for n in range(30):
        purpose(f"purpose-{n}")
    _, raw = api_key("consents:read")
    # key lookup, last_used update, count, page (the current notice is a subquery)
    with django_assert_max_num_queries(4):
        assert get(client, raw).status_code == 200


def test_needs_consents_read_scope(client, api_key):
    _, raw = api_key("consents:write")
    response = get(client, raw)
    assert response.status_code == 403 and "consents:read" in response.json()["error"]["message"]


def test_needs_a_key(client):
    assert client.get(URL).status_code == 401


def test_revoked_key_is_refused(client, api_key):
    key, raw = api_key("consents:read")
    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert get(client, raw).status_code == 401


def test_in_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/consents/purposes/"]["get"]
    assert operation["operationId"] == "consents_purposes_list"
    assert {p["name"] for p in operation["parameters"]} == {"page", "page_size"}
    page = schema["components"]["schemas"]["PaginatedConsentPurposeList"]
    item = schema["components"]["schemas"]["ConsentPurpose"]["properties"]
    assert page["properties"]["results"]["items"]["$ref"].endswith("/ConsentPurpose")
    assert {"slug", "title", "active", "notice_version", "notice_sha256"} <= set(item)
