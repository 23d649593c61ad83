"""The public request form: what it asks, what it refuses, what it sends."""

import re

import pytest
from django.core import mail
from django.test import Client

from requests_app.models import PrivacyRequest
from tests.requests_app.intake_helpers import (  # noqa: F401
    committed,
    fresh_rate_limits,
    status_path,
    verify_path,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _post(client, kind="deletion", meta=None, **overrides):
    data = {"email": "alice@example.com", "jurisdiction": "gdpr", "confirm": "on", "id_username": "alice1"}
    data.update(overrides)
    with committed():
        return client.post(f"/requests/new/{kind}/", data, **(meta or {}))


def test_home_links_to_both_forms(client):
    html = client.get("/").content.decode()
    assert 'href="/requests/new/access/"' in html
    assert 'href="/requests/new/deletion/"' in html


def test_deletion_form_explains_irreversible_and_microsoft(client):
    html = client.get("/requests/new/deletion/").content.decode()
    assert "cannot be undone" in html
    assert "Microsoft" in html
    assert 'name="id_username"' in html  # extra identifier configured by the operator
    assert re.search(r'<input[^>]*value="gdpr"[^>]*checked', html)


def test_form_default_jurisdiction_from_settings(client, settings):
    settings.PORTAL_DEFAULT_JURISDICTION = "ccpa"
    html = client.get("/requests/new/access/").content.decode()
    assert re.search(r'<input[^>]*value="ccpa"[^>]*checked', html)


def test_form_submit_creates_unverified_request_and_sends_verify_mail(client):
    response = _post(client)
    assert response.status_code == 302 and response["Location"] == "/requests/submitted/"
    request = PrivacyRequest.objects.get()
    assert request.status == "unverified"
    assert request.email == "alice@example.com"
    assert request.identifiers == {"username": "alice1"}
    assert request.verify_token_hash and request.status_links.active().exists()
    page = client.get("/requests/submitted/").content.decode()
    assert request.reference in page
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert request.reference in message.subject
    assert verify_path(message).startswith("/requests/verify/pv_")
    assert status_path(message).startswith("/requests/status/ps_")
    assert "http://testserver/requests/verify/" in message.body  # absolute links
    html = message.alternatives[0][0]
    assert "http://testserver/requests/verify/" in html


def test_form_stores_only_token_hashes(client):
    _post(client)
    request = PrivacyRequest.objects.get()
    token = verify_path(mail.outbox[0]).split("/")[-2]
    assert token not in request.verify_token_hash
    assert len(request.verify_token_hash) == 64


def test_form_mixed_case_email_normalised(client):
    _post(client, email="  Alice@Example.COM ")
    assert PrivacyRequest.objects.get().email == "alice@example.com"


@pytest.mark.parametrize("email", ["not-an-email", "alice@", "@example.com", "a" * 250 + "@example.com", ""])
def test_form_malformed_email_shows_field_error(client, email):
    response = _post(client, email=email)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "e-mail address" in html
    assert not PrivacyRequest.objects.exists()
    assert not mail.outbox


def test_form_without_confirmation_refused(client):
    response = _post(client, confirm="")
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert not PrivacyRequest.objects.exists()


def test_form_unknown_jurisdiction_refused(client):
    response = _post(client, jurisdiction="mars")
    assert response.status_code == 200
    assert "Choose one of the listed options" in response.content.decode()


def test_form_unknown_kind_is_404(client):
    assert client.get("/requests/new/rectify/").status_code == 404
    assert client.post("/requests/new/rectify/", {"email": "a@example.com"}).status_code == 404


def test_form_too_long_identifier_refused(client):
    response = _post(client, id_username="x" * 500)
    assert response.status_code == 200
    assert not PrivacyRequest.objects.exists()


def test_form_without_csrf_token_refused():
    client = Client(enforce_csrf_checks=True)
    response = _post(client)
    assert response.status_code == 403
    assert not PrivacyRequest.objects.exists()


def test_form_with_csrf_token_accepted():
    client = Client(enforce_csrf_checks=True)
    client.get("/requests/new/access/")
    token = client.cookies["csrftoken"].value
    response = _post(client, kind="access", csrfmiddlewaretoken=token)
    assert response.status_code == 302


def test_form_language_captured_for_emails(client):
    client.cookies["django_language"] = "de"
    _post(client)
    assert PrivacyRequest.objects.get().language == "de"


def test_submitted_page_without_submission_redirects_home(client):
    assert client.get("/requests/submitted/")["Location"] == "/"


@pytest.mark.usefixtures("one_rate_window")
def test_form_flood_from_one_address_throttled(client, settings):
    settings.PORTAL_REQUEST_RATE = "3/hour"
    codes = [_post(client, email=f"person{i}@example.com").status_code for i in range(5)]
    assert codes[:3] == [302, 302, 302]
    assert codes[3:] == [429, 429]
    assert PrivacyRequest.objects.count() == 3


@pytest.mark.usefixtures("one_rate_window")
def test_form_flood_for_one_email_throttled_across_addresses(client, settings):
    settings.PORTAL_REQUEST_EMAIL_RATE = "2/day"
    codes = [_post(client, meta={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes[-1] == 429
