"""Global Privacy Control: Sec-GPC on the consent page and gpc=true on the API opt out of sale/sharing."""

from __future__ import annotations

import jsonschema
import pytest
from django.test import override_settings

from portal.models import AuditEvent
from requests_app import consent
from requests_app.models import Consent, PrivacyRequest
from tests.requests_app.azure_helpers import purpose, row

pytestmark = pytest.mark.django_db

# The published schema of the GPC well-known resource (json.schemastore.org/gpc.json, after the GPC spec).
GPC_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["gpc"],
    "properties": {
        "gpc": {"type": "boolean"},
        "version": {"type": "integer", "default": 1},
        "lastUpdate": {"type": "string", "format": "date"},
    },
}
CHECK = "/api/v1/consents/check?subject_kind=user_id&subject=42&purpose=ads"


@pytest.fixture
def ads():
    p = purpose("ads")
    p.sale_or_sharing = True
    p.save()
    return p


def granted(p, subject="42"):
    return consent.grant(purpose=p, subject_kind="user_id", subject_value=subject, method="web", actor="requester")


def open_page(client, slug="ads", **headers):
    link = consent.subject_link(slug, "user_id", "42", email="alice@example.com")
    client.get(link.replace("http://testserver", ""))
    return client.get(f"/consent/{slug}/", **headers)


def test_well_known_gpc_json_validates_against_the_published_schema(client):
    response = client.get("/.well-known/gpc.json")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    jsonschema.validate(response.json(), GPC_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert response.json()["gpc"] is True


def test_page_visit_with_sec_gpc_withdraws_a_sale_purpose_and_says_so(client, ads):
    granted(ads)

    response = open_page(client, HTTP_SEC_GPC="1")

    assert "Your browser asked us not to sell or share your data; we honoured it." in response.content.decode()
    record = Consent.objects.get()
    assert record.withdrawn_at is not None and record.withdrawn_method == "gpc"
    event = AuditEvent.objects.get(action="consent.withdrawn")
    assert event.data["method"] == "gpc" and "Global Privacy Control" in event.actor_label


def test_signal_leaves_purposes_not_marked_sale_or_sharing_alone(client):
    face = purpose("face-verification")
    granted(face)

    response = open_page(client, "face-verification", HTTP_SEC_GPC="1")

    assert "we honoured it" not in response.content.decode()
    assert Consent.objects.get().withdrawn_at is None


def test_withdrawal_by_signal_erases_what_was_sent(client, ads):
    granted(ads)
    row("face", "https://face.example", "person", "p-1", purpose_slug="ads")

    with override_settings(PORTAL_AUTO_APPROVE=["consent_withdrawal"]):
        open_page(client, HTTP_SEC_GPC="1")

    request = PrivacyRequest.objects.get()
    assert (request.kind, request.scope_purpose, request.channel) == ("deletion", "ads", "consent_withdrawal")


def test_agreeing_against_the_signal_is_asked_first_then_kept(client, ads):
    open_page(client, HTTP_SEC_GPC="1")

    asked = client.post("/consent/ads/", {"action": "grant", "notice_version": "1"}, HTTP_SEC_GPC="1")

    assert "allow it anyway" in asked.content.decode() and not Consent.objects.exists()
    client.post("/consent/ads/", {"action": "grant", "notice_version": "1", "gpc_override": "1"}, HTTP_SEC_GPC="1")
    assert Consent.objects.get().gpc_confirmed is True
    client.get("/consent/ads/", HTTP_SEC_GPC="1")  # the same signal does not undo the person's own choice
    assert Consent.objects.get().withdrawn_at is None


def test_navigator_signal_posted_by_the_script_is_honoured(client, ads):
    granted(ads)
    open_page(client)

    client.post("/consent/ads/", {"action": "gpc", "gpc": "1"})

    assert Consent.objects.get().withdrawn_method == "gpc"


def test_api_check_with_gpc_true_opts_out(client, api_key, ads):
    granted(ads)
    _, raw = api_key("consents:read", "consents:write")

    response = client.get(CHECK + "&gpc=true", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200 and response.json() == {"consented": False}
    assert Consent.objects.get().withdrawn_method == "gpc"


def test_api_gpc_needs_the_write_scope(client, api_key, ads):
    granted(ads)
    _, raw = api_key("consents:read")

    response = client.get(CHECK + "&gpc=true", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 403 and "consents:write" in response.json()["error"]["message"]
    assert Consent.objects.get().withdrawn_at is None


def test_api_gpc_with_sent_data_asks_for_the_receipt_address(client, api_key, ads):
    granted(ads)
    row("face", "https://face.example", "person", "p-1", purpose_slug="ads")
    _, raw = api_key("consents:read", "consents:write")

    refused = client.get(CHECK + "&gpc=true", HTTP_AUTHORIZATION=f"Bearer {raw}")
    done = client.get(CHECK + "&gpc=true&email=alice@example.com", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert refused.status_code == 400 and "e-mail" in refused.json()["error"]["message"]
    assert done.json() == {"consented": False} and PrivacyRequest.objects.filter(scope_purpose="ads").exists()


def test_api_gpc_value_is_checked(client, api_key, ads):
    _, raw = api_key("consents:read", "consents:write")

    assert client.get(CHECK + "&gpc=yes", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 400


def test_overview_with_sec_gpc_withdraws_every_sale_purpose_of_the_link(client, ads):
    login = purpose("face-verification")
    granted(ads)
    granted(login)
    link = consent.issue_link(
        purposes=["ads", "face-verification"], subject_kind="user_id", subject_value="42", email="alice@example.com"
    )
    client.get(f"/consent/?subject={link}")

    response = client.get("/consent/", HTTP_SEC_GPC="1")

    assert "we honoured it" in response.content.decode()
    assert Consent.objects.get(purpose=ads).withdrawn_method == "gpc"
    assert Consent.objects.get(purpose=login).withdrawn_at is None
