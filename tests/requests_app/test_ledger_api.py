"""POST /api/v1/transmissions/: scopes, consent refusal, idempotency, bulk, errors; record_transmission()."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import AuditEvent
from requests_app import consent, ledger
from requests_app.models import Consent, Transmission
from tests.requests_app.azure_helpers import purpose

pytestmark = pytest.mark.django_db
URL = "/api/v1/transmissions/"


def item(n: int = 1, subject: str = "42", purpose_slug: str = "face-verification", **extra):
    return {
        "client_id": f"tx-{n}",
        "service": "face",
        "account": "https://x.cognitiveservices.azure.com",
        "resource_kind": "person",
        "resource_id": f"00000000-0000-4000-8000-{n:012d}",
        "parent_ids": {"person_group": "app-users"},
        "subject_kind": "user_id",
        "subject_value": subject,
        "purpose": purpose_slug,
        "payload_kind": "image",
        "size_bytes": 1234,
        "sha256": "a" * 64,
        "sent_at": "2026-01-31T12:00:00Z",
        **extra,
    }


@pytest.fixture
def consented():
    p = purpose()
    consent.grant(purpose=p, subject_kind="user_id", subject_value="42", method=Consent.Method.API, actor=None)
    return p


def post(client, key, body):
    return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_record_with_consent_is_created_and_linked(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    response = post(client, raw, item())
    assert response.status_code == 201
    row = Transmission.objects.get()
    assert row.consent_id == response.json()["items"][0]["consent_id"] is not None


def test_record_without_consent_is_refused_and_audited_without_subject(client, api_key, caplog):
    purpose()
    _, raw = api_key("transmissions:write")
    response = post(client, raw, item(subject="secret-user-77"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    assert "items[0].purpose" in response.json()["error"]["fields"]
    assert not Transmission.objects.exists()
    event = AuditEvent.objects.get(action="transmission_refused")
    assert "secret-user-77" not in str(event.data) + event.reason
    assert "secret-user-77" not in caplog.text


def test_purpose_without_consent_requirement_is_recorded(client, api_key):
    purpose("fraud-checks", requires_consent=False)
    _, raw = api_key("transmissions:write")
    assert post(client, raw, item(purpose_slug="fraud-checks")).status_code == 201


def test_same_client_id_twice_is_idempotent(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    assert post(client, raw, item()).status_code == 201
    again = post(client, raw, item())
    assert again.status_code == 200 and again.json()["existing"] == 1
    assert Transmission.objects.count() == 1


def test_same_client_id_other_content_is_conflict(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    post(client, raw, item())
    response = post(client, raw, item(resource_id="99999999-2222-4333-8444-555555555555"))
    assert response.status_code == 409


def test_bulk_of_1000_uses_constant_queries(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    body = {"items": [item(n) for n in range(1000)]}
    with CaptureQueriesContext(connection) as queries:
        response = post(client, raw, body)
    assert response.status_code == 201 and response.json()["created"] == 1000
    assert len(queries) < 40  # SQLite splits bulk_create by its parameter limit; never one per row


def test_bulk_over_1000_is_refused(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    response = post(client, raw, {"items": [item(n) for n in range(1001)]})
    assert response.status_code == 400 and "items" in response.json()["error"]["fields"]


def test_invalid_fields_are_named(client, api_key, consented):
    _, raw = api_key("transmissions:write")
    response = post(client, raw, item(service="nope", sha256="xyz", sent_at="yesterday"))
    fields = response.json()["error"]["fields"]
    assert response.status_code == 400
    assert {"items[0].service", "items[0].sha256", "items[0].sent_at"} <= set(fields)


def test_missing_scope_is_403(client, api_key, consented):
    _, raw = api_key("consents:read")
    assert post(client, raw, item()).status_code == 403


def test_garbage_body_is_400(client, api_key):
    _, raw = api_key("transmissions:write")
    response = client.post(URL, "[1,2", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 400


def test_record_transmission_function_for_host_apps(consented):
    row = ledger.record_transmission(
        client_id="fn-1",
        service="blob",
        account="acct",
        resource_kind="blob",
        resource_id="users/42/a.jpg",
        subject_value="42",
        purpose="face-verification",
        payload_kind="image",
    )
    assert row.pk and row.consent_id


def test_withdrawn_consent_refuses_new_records(consented):
    consent.withdraw(purpose=consented, subject_kind="user_id", subject_value="42", method="api", actor=None)
    with pytest.raises(ledger.ConsentRequired):
        ledger.record_transmission(
            client_id="fn-2",
            service="face",
            account="x",
            resource_kind="person",
            resource_id="11111111-2222-4333-8444-555555555555",
            parent_ids={"person_group": "app-users"},
            subject_value="42",
            purpose="face-verification",
            payload_kind="image",
        )


def test_naive_sent_at_is_taken_as_utc_and_future_refused(consented):
    from datetime import datetime, timedelta

    row = ledger.record_transmission(
        client_id="fn-3",
        service="face",
        account="x",
        resource_kind="person",
        resource_id="11111111-2222-4333-8444-555555555555",
        parent_ids={"person_group": "app-users"},
        subject_value="42",
        purpose="face-verification",
        payload_kind="image",
        sent_at=datetime(2026, 1, 1, 12, 0),
    )
    assert row.sent_at.utcoffset() == timedelta(0)
    with pytest.raises(ledger.LedgerError) as info:
        ledger.record_transmission(
            client_id="fn-4",
            service="face",
            account="x",
            resource_kind="person",
            resource_id="11111111-2222-4333-8444-555555555555",
            parent_ids={"person_group": "app-users"},
            subject_value="42",
            purpose="face-verification",
            payload_kind="image",
            sent_at=datetime(2999, 1, 1),
        )
    assert "items[0].sent_at" in info.value.fields
