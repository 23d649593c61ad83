"""The page after a public form reads its values from a signed cookie: no session row, nothing forgeable."""

import pytest
import time_machine
from django.core import signing
from django.test import Client

from portal import receipt_cookie
from requests_app.models import PrivacyRequest
from tests.requests_app.intake_helpers import committed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
FORM = {"email": "alice@example.com", "jurisdiction": "gdpr", "confirm": "on"}


def _file(client):
    with committed():
        return client.post("/requests/new/deletion/", FORM)


def test_the_submitted_page_cookie_is_signed_short_lived_httponly_and_path_bound(client, settings):
    response = _file(client)
    cookie = response.cookies["submitted_request"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/requests/submitted/" and int(cookie["max-age"]) == receipt_cookie.MAX_AGE
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # no session row was written for it
    assert PrivacyRequest.objects.get().reference in client.get("/requests/submitted/").content.decode()


def test_a_forged_or_altered_cookie_shows_nothing():
    request = PrivacyRequest.objects.create(kind="deletion", email="bob@example.com")
    client = Client()
    # A value signed without the secret key (or for another form's salt) is refused.
    client.cookies["submitted_request"] = f'{{"reference":"{request.reference}","kind":"deletion"}}'
    assert client.get("/requests/submitted/")["Location"] == "/"
    other_salt = signing.get_cookie_signer(salt="portal.receipt_cookie.abuse_receipt")
    client.cookies["submitted_request"] = other_salt.sign(f'{{"reference":"{request.reference}","kind":"deletion"}}')
    assert client.get("/requests/submitted/")["Location"] == "/"


def test_the_cookie_expires():
    client = Client()
    with time_machine.travel("2026-01-01 12:00Z", tick=False) as clock:
        _file(client)
        assert client.get("/requests/submitted/").status_code == 200
        clock.shift(receipt_cookie.MAX_AGE + 1)
        assert client.get("/requests/submitted/")["Location"] == "/"
