"""Consent services, API and public page."""

from __future__ import annotations

import pytest
from django.test import override_settings

from portal import tokens
from portal.models import AuditEvent
from requests_app import consent
from requests_app.models import Consent, ConsentLink, PrivacyRequest
from tests.requests_app.azure_helpers import purpose, row

pytestmark = pytest.mark.django_db


def api(client, key, method, url, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if method == "get":
        return client.get(url, **headers)
    return client.post(url, body or {}, content_type="application/json", **headers)


def test_grant_check_withdraw_through_api(client, api_key):
    purpose()
    _, raw = api_key("consents:write", "consents:read")
    granted = api(
        client,
        raw,
        "post",
        "/api/v1/consents/",
        {"purpose": "face-verification", "subject": "42", "ip": "203.0.113.9", "user_agent": "App/1"},
    )
    assert granted.status_code == 201 and granted.json()["notice_version"] == 1
    record = Consent.objects.get()
    assert record.ip_hash and "203.0.113.9" not in record.ip_hash and record.notice_text.startswith("Your photo")
    check = api(client, raw, "get", "/api/v1/consents/check?subject_kind=user_id&subject=42&purpose=face-verification")
    assert check.json()["consented"] is True
    withdrawn = api(
        client, raw, "post", "/api/v1/consents/withdraw/", {"purpose": "face-verification", "subject": "42"}
    )
    assert withdrawn.json() == {"withdrawn": 1, "erasure_request": None}
    check = api(client, raw, "get", "/api/v1/consents/check?subject=42&purpose=face-verification")
    assert check.json() == {"consented": False}


def test_check_is_one_query(client, api_key, django_assert_max_num_queries):
    purpose()
    _, raw = api_key("consents:read")
    consent.grant(purpose=purpose(), subject_kind="user_id", subject_value="42", method="api", actor=None)
    with django_assert_max_num_queries(3):  # API key lookup + consent query (+ last_used update at most)
        api(client, raw, "get", "/api/v1/consents/check?subject=42&purpose=face-verification")


def test_check_without_parameters_names_them(client, api_key):
    _, raw = api_key("consents:read")
    response = api(client, raw, "get", "/api/v1/consents/check")
    assert response.status_code == 400 and set(response.json()["error"]["fields"]) == {"subject", "purpose"}


def test_grant_for_outdated_notice_is_refused(client, api_key):
    p = purpose()
    consent.publish_notice(purpose=p, text="A new text.", actor=None)
    _, raw = api_key("consents:write")
    response = api(client, raw, "post", "/api/v1/consents/", {"purpose": p.slug, "subject": "42", "notice_version": 1})
    assert response.status_code == 400 and "notice_version" in response.json()["error"]["fields"]


def test_publish_notice_makes_new_version_and_keeps_old():
    p = purpose()
    old = p.current_notice()
    new = consent.publish_notice(purpose=p, text="Changed.", actor=None)
    old.refresh_from_db()
    assert (old.version, new.version) == (1, 2) and old.text.startswith("Your photo")
    assert consent.publish_notice(purpose=p, text="Changed.", actor=None) == new


@override_settings(PORTAL_AUTO_APPROVE=["access", "consent_withdrawal"])
def test_withdraw_with_sent_data_files_scoped_erasure(client, api_key):
    p = purpose()
    consent.grant(purpose=p, subject_kind="user_id", subject_value="42", method="api", actor=None)
    row("face", "https://x.cognitiveservices.azure.com", "person", "p1", purpose_slug=p.slug)
    _, raw = api_key("consents:write")
    missing_email = api(client, raw, "post", "/api/v1/consents/withdraw/", {"purpose": p.slug, "subject": "42"})
    assert missing_email.status_code == 400 and "email" in missing_email.json()["error"]["fields"]
    response = api(
        client,
        raw,
        "post",
        "/api/v1/consents/withdraw/",
        {"purpose": p.slug, "subject": "42", "email": "alice@example.com"},
    )
    request = PrivacyRequest.objects.get(reference=response.json()["erasure_request"])
    assert request.kind == "deletion" and request.scope_purpose == p.slug
    assert request.channel == "consent_withdrawal" and request.identifiers == {"user_id": "42"}
    assert request.status in ("approved", "running")


def _token(url: str) -> str:
    return url.split("subject=")[1]


def test_consent_page_grant_and_withdraw_with_the_apps_link(client):
    p = purpose()
    url = consent.subject_link(p.slug, "user_id", "42", "alice@example.com")
    first = client.get(url.replace("http://testserver", ""))
    # The token leaves the address bar at once: the page lives at its bare URL, bound by the session.
    assert first.status_code == 302 and first["Location"] == f"/consent/{p.slug}/"
    page = client.get(f"/consent/{p.slug}/")
    assert page.status_code == 200 and b"sent to Microsoft" in page.content and b"I agree" in page.content
    assert _token(url).encode() not in page.content
    client.post(f"/consent/{p.slug}/", {"action": "grant", "notice_version": "1"})
    assert consent.check("user_id", "42", p.slug).method == "web"
    done = client.post(f"/consent/{p.slug}/", {"action": "withdraw"}, follow=True)
    assert consent.check("user_id", "42", p.slug) is None
    assert "Your consent is withdrawn" in done.content.decode()


def test_consent_link_carries_no_personal_data_and_is_stored_hashed(client):
    p = purpose()
    url = consent.subject_link(p.slug, "user_id", "4242", "consent.subject@example.com")
    assert "4242" not in url and "consent.subject" not in url and "eyJ" not in url
    link = ConsentLink.objects.get()
    assert link.token_hash == tokens.hash_token(_token(url)) and link.purposes == [p.slug]


def test_consent_link_for_one_purpose_does_not_open_another(client):
    face, voice = purpose(), purpose("voice-notes")
    url = consent.subject_link(face.slug, "user_id", "42", "alice@example.com")
    response = client.get(f"/consent/{voice.slug}/?subject={_token(url)}")
    assert response.status_code == 400 and "made for another purpose" in response.content.decode()
    client.get(f"/consent/{face.slug}/?subject={_token(url)}")
    page = client.get(f"/consent/{voice.slug}/").content.decode()
    assert "I agree" not in page
    client.post(f"/consent/{voice.slug}/", {"action": "grant", "notice_version": "1"})
    assert consent.check("user_id", "42", voice.slug) is None


def test_revoked_consent_link_stops_working_at_once(client, officer):
    p = purpose()
    url = consent.subject_link(p.slug, "user_id", "42", "alice@example.com")
    client.get(f"/consent/{p.slug}/?subject={_token(url)}")
    consent.revoke_links(ConsentLink.objects.all(), actor=officer)
    response = client.post(f"/consent/{p.slug}/", {"action": "grant", "notice_version": "1"})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert consent.check("user_id", "42", p.slug) is None
    assert AuditEvent.objects.filter(action="consent_link.revoked").exists()


def test_consent_link_expires_after_an_hour(client):
    import time_machine

    p = purpose()
    with time_machine.travel("2026-12-01 10:00:00+00:00", tick=False):
        url = consent.subject_link(p.slug, "user_id", "42", "alice@example.com")
    with time_machine.travel("2026-12-01 11:00:01+00:00", tick=False):
        response = client.get(f"/consent/{p.slug}/?subject={_token(url)}")
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_old_signed_consent_links_are_refused_clearly(client):
    p = purpose()
    response = client.get(f"/consent/{p.slug}/?subject=eyJrIjoidXNlcl9pZCIsInYiOiI0MiJ9:1v:abc")
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_consent_page_refuses_forged_token(client):
    p = purpose()
    assert client.get(f"/consent/{p.slug}/?subject=cl_forged").status_code == 400
    response = client.post(f"/consent/{p.slug}/", {"subject": "forged", "action": "grant", "notice_version": "1"})
    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_consent_page_without_link_shows_notice_only(client):
    p = purpose()
    page = client.get(f"/consent/{p.slug}/")
    assert page.status_code == 200 and b"I agree" not in page.content


def test_overview_lists_active_purposes(client):
    purpose()
    purpose("old-feature").__class__.objects.filter(slug="old-feature").update(active=False)
    page = client.get("/consent/")
    assert b"Face Verification" in page.content and b"Old Feature" not in page.content


def test_link_api_returns_signed_url(client, api_key):
    purpose()
    _, raw = api_key("consents:write")
    response = api(client, raw, "post", "/api/v1/consents/links/", {"purpose": "face-verification", "subject": "42"})
    url = response.json()["url"]
    assert url.startswith("http://testserver/consent/face-verification/?subject=cl_")
    link = ConsentLink.objects.get(token_hash=tokens.hash_token(_token(url)))
    assert (link.subject_value, link.purposes) == ("42", ["face-verification"])
    assert link.issued_by.startswith("API key")
