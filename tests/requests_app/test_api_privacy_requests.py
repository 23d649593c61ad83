"""POST /api/v1/privacy-requests/ (public and host app) and GET .../<reference>/."""

import json

import pytest
from django.core import mail

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest
from tests.requests_app.intake_helpers import committed, verify_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

URL = "/api/v1/privacy-requests/"
BODY = {
    "kind": "deletion",
    "email": "alice@example.com",
    "jurisdiction": "gdpr",
    "confirm": True,
    "identifiers": {"username": "alice1"},
}


def _post(client, body=BODY, key=None, raw=None, content_type="application/json", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    with committed():
        return client.post(
            URL, raw if raw is not None else json.dumps(body), content_type=content_type, **headers, **extra
        )


def test_public_create_sends_same_verification_mail_as_form(client):
    response = _post(client)
    assert response.status_code == 202
    request = PrivacyRequest.objects.get()
    assert response.json()["reference"] == request.reference
    assert request.status == "unverified" and request.channel == "api"
    assert request.identifiers == {"username": "alice1"}
    (message,) = mail.outbox
    assert verify_path(message).startswith("/requests/verify/pv_")


def test_public_create_duplicate_same_response_shape(client):
    first = _post(client).json()
    second = _post(client).json()
    assert set(first) == set(second) == {"reference", "detail"}
    assert first["detail"] == second["detail"]
    assert PrivacyRequest.objects.count() == 1
    assert len(mail.outbox) == 2
    assert "already have an open privacy request" in mail.outbox[1].subject


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("email", "not-an-email", "valid e-mail"),
        ("email", "", "e-mail address"),
        ("email", 12, "valid e-mail"),
        ("kind", "rectification", "Unknown kind"),
        ("kind", None, "access"),
        ("jurisdiction", "mars", "Unknown jurisdiction"),
        ("identifiers", ["a"], "object"),
        ("identifiers", {"password": "x"}, "not an identifier"),
        ("identifiers", {"username": "x" * 300}, "too long"),
        ("identifiers", {"username": {"nested": 1}}, "must be text"),
        ("confirm", False, "confirm"),
    ],
)
def test_public_create_bad_field_is_400_with_field_message(client, field, value, fragment):
    body = {**BODY, field: value}
    response = _post(client, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert fragment in " ".join(error["fields"][field])
    assert not PrivacyRequest.objects.exists()


def test_public_create_missing_fields_named(client):
    response = _post(client, {})
    assert response.status_code == 400
    assert {"kind", "email", "confirm"} <= set(response.json()["error"]["fields"])


@pytest.mark.parametrize(
    "raw,content_type",
    [
        ("[1, 2]", "application/json"),
        ('"just a string"', "application/json"),
        ("42", "application/json"),
        ("null", "application/json"),
        ("{not json", "application/json"),
        ("\xff\xfe", "application/json"),
        ("<xml/>", "application/xml"),
        (
            "kind=access&email=a%40example.com&identifiers=nope&confirm=true",
            "application/x-www-form-urlencoded",
        ),
    ],
)
def test_public_create_any_bad_body_is_4xx_json(client, raw, content_type):
    response = _post(client, raw=raw, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_public_create_flood_throttled(client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    # DRF reads rates into a class attribute at import; set the "public" rate for this test only.
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "public": "3/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    codes = [_post(client, {**BODY, "email": f"p{i}@example.com"}).status_code for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    body = _post(client).json()
    assert body["error"]["code"] == "throttled" and body["error"]["retry_after"] > 0


def test_host_app_create_is_verified_at_once_and_audited(client, api_key):
    key, raw = api_key("requests:write", name="shop")
    response = _post(
        client, {"kind": "access", "email": "Alice@Example.com", "identifiers": {"user_id": "4711"}}, key=raw
    )
    assert response.status_code == 201, response.content
    data = response.json()
    request = PrivacyRequest.objects.get()
    assert data["reference"] == request.reference
    assert request.channel == "host_app" and request.verified_at is not None and request.due_at is not None
    assert data["status"] == "approved"  # access is auto-approved by default
    assert data["status_url"].startswith("http://testserver/requests/status/ps_")
    assert request.identifiers == {"user_id": "4711"}
    verified = AuditEvent.objects.get(subject_id=str(request.pk), action="request.verified")
    assert verified.actor_type == "host_app" and "shop" in verified.actor_label
    assert "Identity verified by API key shop" in verified.reason
    assert "email" not in json.dumps(data).lower().replace("e-mail", "")


def test_host_app_create_deletion_waits_for_approval(client, api_key):
    _key, raw = api_key("requests:write")
    data = _post(client, {"kind": "deletion", "email": "bob@example.org"}, key=raw).json()
    assert data["status"] == "verified"


def test_host_app_create_without_scope_forbidden(client, api_key):
    _key, raw = api_key("requests:read")
    response = _post(client, {"kind": "access", "email": "bob@example.org"}, key=raw)
    assert response.status_code == 403
    assert "requests:write" in response.json()["error"]["message"]
    assert not PrivacyRequest.objects.exists()


def test_unknown_api_key_is_401(client):
    response = _post(client, key="pk_not-a-real-key")
    assert response.status_code == 401
    assert not PrivacyRequest.objects.exists()


def test_revoked_api_key_is_401(client, api_key):
    from django.utils import timezone

    key, raw = api_key("requests:write")
    key.revoked_at = timezone.now()
    key.save()
    assert _post(client, key=raw).status_code == 401


def test_get_status_with_read_scope(client, api_key):
    _w, write = api_key("requests:write")
    reference = _post(client, {"kind": "deletion", "email": "bob@example.org"}, key=write).json()["reference"]
    _r, read = api_key("requests:read")
    response = client.get(f"{URL}{reference.lower()}/", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert response.status_code == 200
    data = response.json()
    assert data["reference"] == reference and data["status"] == "verified"
    assert data["progress"] == {"steps_total": 0, "steps_done": 0, "steps_failed": 0}
    assert "bob@example.org" not in response.content.decode()


def test_get_status_requires_key_and_scope(client, api_key):
    _w, write = api_key("requests:write")
    reference = _post(client, {"kind": "deletion", "email": "bob@example.org"}, key=write).json()["reference"]
    assert client.get(f"{URL}{reference}/").status_code in (401, 403)
    assert client.get(f"{URL}{reference}/", HTTP_AUTHORIZATION=f"Bearer {write}").status_code == 403


def test_get_status_guessed_reference_is_404_json(client, api_key):
    _r, read = api_key("requests:read")
    response = client.get(f"{URL}PR-AAAA-BBBB/", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert response.status_code == 404
    assert "reference" in response.json()["error"]["message"]


def test_schema_documents_privacy_request_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/privacy-requests/" in text
    assert "/api/v1/privacy-requests/{reference}/" in text
    assert "privacy_requests_create" in text
