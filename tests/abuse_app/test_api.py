"""POST /api/v1/abuse-reports/: public (throttled) and host app (scope abuse:write)."""

import json

import pytest
from rest_framework.test import APIClient

from abuse_app.models import Case, Evidence, Notice
from tests.abuse_app.conftest import EXE, PNG, upload

pytestmark = pytest.mark.django_db
URL = "/api/v1/abuse-reports/"


def body(**overrides):
    data = {
        "category": "harassment",
        "locations": ["https://app.example.com/u/42"],
        "explanation": "Threatening messages every day.",
        "good_faith": True,
        "reporter_email": "alice@example.com",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def api():
    return APIClient()


def test_api_public_json_report_created(api):
    response = api.post(URL, body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    notice = Notice.objects.get(reference=data["reference"])
    assert notice.channel == "api"
    assert data["status_url"].startswith("http://testserver/report/status/st_")
    assert data["cases"] == [Case.objects.get().reference]
    assert data["child_safety"] is False and data["hotline"] is None


def test_api_public_multipart_with_evidence(api):
    response = api.post(
        URL,
        {**body(locations="https://app.example.com/u/42"), "evidence": [upload("a.png", PNG)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Evidence.objects.get().content_type == "image/png"


def test_api_disguised_executable_refused_400_nothing_stored(api):
    response = api.post(
        URL,
        {**body(locations="https://x.example/1"), "evidence": [upload("photo.jpg", EXE)]},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "program or script" in error["fields"]["evidence"][0]
    assert not Notice.objects.exists() and not Evidence.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"good_faith": None}, "good_faith"),
        ({"good_faith": False}, "good_faith"),
        ({"locations": []}, "locations"),
        ({"category": "weird"}, "category"),
        ({"explanation": ""}, "explanation"),
        ({"reporter_email": "nope"}, "reporter_email"),
    ],
)
def test_api_bad_fields_400_with_field_named(api, overrides, field):
    response = api.post(URL, body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Notice.objects.exists()


def test_api_garbage_body_is_400_not_500(api):
    response = api.post(URL, b"{not json", content_type="application/json")
    assert response.status_code == 400


def test_api_public_cannot_pass_host_app_fields(api):
    response = api.post(URL, body(content_id="photo:1"), format="json")
    assert response.status_code == 400 and "content_id" in response.json()["error"]["fields"]


def test_api_child_safety_returns_hotline_and_refuses_uploads(api, settings):
    response = api.post(URL, body(category="minors"), format="json")
    assert response.status_code == 201
    assert settings.PORTAL_CHILD_SAFETY_HOTLINE_TEXT in response.json()["hotline"]
    assert Notice.objects.get().reporter_email == ""
    refused = api.post(
        URL,
        {**body(category="minors", locations="https://a.example/b"), "evidence": [upload("a.png", PNG)]},
        format="multipart",
    )
    assert refused.status_code == 400 and "evidence" in refused.json()["error"]["fields"]


def test_api_host_app_passes_content_id_account_and_snapshot(api, api_key):
    key, raw = api_key("abuse:write")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    snapshot = {"text": "you will regret this", "author": "user-77"}
    response = api.post(
        URL,
        body(locations=None, content_id="comment:991", target_account_id="user-77", snapshot=snapshot),
        format="json",
    )
    assert response.status_code == 201, response.content
    notice = Notice.objects.get()
    assert notice.channel == "host_app" and notice.api_key == key
    assert notice.snapshot == snapshot and notice.content_id == "comment:991"
    case = Case.objects.get()
    assert case.target_key == "content:comment:991" and case.target_account_id == "user-77"


def test_api_host_app_reports_not_limited_by_its_server_ip(api, api_key, settings):
    settings.PORTAL_ABUSE_IP_RATE = "2/day"
    _key, raw = api_key("abuse:write")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for i in range(4):
        assert (
            api.post(URL, body(reporter_email=None, content_id=f"c-{i}", locations=None), format="json").status_code
            == 201
        )


def test_api_key_without_scope_403_and_bad_key_401(api, api_key):
    _key, raw = api_key("requests:write")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post(URL, body(), format="json")
    assert response.status_code == 403 and "abuse:write" in response.json()["error"]["message"]
    api.credentials(HTTP_AUTHORIZATION="Bearer pk_nope")
    assert api.post(URL, body(), format="json").status_code == 401
    assert not Notice.objects.exists()


@pytest.mark.usefixtures("one_rate_window")
def test_api_flood_from_one_ip_429_with_retry_after(api, settings):
    settings.PORTAL_ABUSE_IP_RATE = "2/day"
    for i in range(2):
        assert api.post(URL, body(reporter_email=f"r{i}@example.com"), format="json").status_code == 201
    response = api.post(URL, body(reporter_email="r3@example.com"), format="json")
    assert response.status_code == 429
    assert response.json()["error"]["retry_after"] > 0 and response["Retry-After"]
    assert Notice.objects.count() == 2


def test_api_schema_documents_abuse_reports(client):
    schema = client.get("/api/schema/?format=json")
    paths = json.loads(schema.content)["paths"]
    operation = paths["/api/v1/abuse-reports/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "400", "429"} <= set(operation["responses"])


@pytest.mark.parametrize(
    "payload",
    [
        ["not", "an", "object"],
        {"category": {"x": 1}, "locations": ["https://a.example/1"], "explanation": "x", "good_faith": True},
        {"category": "spam", "locations": [{"url": 1}], "explanation": "x", "good_faith": True},
        {"category": "spam", "locations": "https://a.example/\u0000", "explanation": "x", "good_faith": True},
    ],
)
def test_api_wrong_json_types_400_not_500(api, payload):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert not Notice.objects.exists()


def test_api_host_app_control_characters_refused(api, api_key):
    _key, raw = api_key("abuse:write")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post(URL, body(target_account_id="user\u0000", snapshot={"t": "a\u0000"}), format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"target_account_id", "snapshot"}


@pytest.mark.usefixtures("one_rate_window")
def test_api_address_in_cooldown_429_with_retry_after_nothing_stored(api):
    from datetime import UTC, datetime, timedelta

    import time_machine

    from abuse_app.models import ReporterStanding
    from portal import tokens

    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    ReporterStanding.objects.create(
        key="ip:" + tokens.pseudonymise("198.51.100.77"), unfounded_count=3, suspended_until=now + timedelta(minutes=30)
    )
    with time_machine.travel(now, tick=False):
        response = api.post(URL, body(reporter_email=""), format="json", REMOTE_ADDR="198.51.100.77")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "cooldown"
    assert response["Retry-After"] == "1800"
    assert not Notice.objects.exists()
