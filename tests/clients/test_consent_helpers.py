"""has_consent / may_send / consent_link against the live portal: cached briefly, failing closed."""

from __future__ import annotations

import pytest
from privacy_portal_client import PortalClient, Subject

from requests_app import consent
from requests_app.models import Consent
from tests.clients.portal_proxy import SwitchableProxy
from tests.requests_app.azure_helpers import purpose

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def portal(live_server, api_key, settings):
    settings.PORTAL_BASE_URL = live_server.url
    verify = purpose("face-verification")
    consent.grant(purpose=verify, subject_kind="user_id", subject_value="42", method=Consent.Method.API, actor=None)
    purpose("fraud-checks", requires_consent=False)
    _, raw = api_key("transmissions:write", "consents:read", "consents:write")
    proxy = SwitchableProxy(int(live_server.url.rsplit(":", 1)[1]))
    clock = Clock()
    client = PortalClient(proxy.url, raw, ":memory:", autoflush=False, consent_ttl=30, clock=clock)
    yield client, proxy, clock, verify
    proxy.close()


def test_has_consent_asks_the_portal(portal):
    client, *_ = portal
    assert client.has_consent("42", "face-verification") is True
    assert client.has_consent("7", "face-verification") is False
    assert client.has_consent(Subject("user_id", "42", "face-verification")) is True


def test_answers_are_cached_briefly(portal):
    client, _, clock, verify = portal
    assert client.has_consent("42", "face-verification")
    consent.withdraw(
        purpose=verify,
        subject_kind="user_id",
        subject_value="42",
        method=Consent.Method.API,
        actor=None,
        email="alice@example.com",
    )
    clock.now += 29
    assert client.has_consent("42", "face-verification")  # still the cached answer
    clock.now += 2
    assert client.has_consent("42", "face-verification") is False


def test_a_no_is_kept_only_a_moment(portal):
    client, _, clock, verify = portal
    assert client.has_consent("7", "face-verification") is False
    consent.grant(purpose=verify, subject_kind="user_id", subject_value="7", method=Consent.Method.API, actor=None)
    assert client.has_consent("7", "face-verification") is False  # cached
    clock.now += 2.5
    assert client.has_consent("7", "face-verification") is True


def test_fails_closed_when_the_portal_cannot_answer(portal):
    client, proxy, _, _ = portal
    proxy.up = False
    assert client.has_consent("42", "face-verification") is False
    assert client.may_send(Subject("user_id", "42", "face-verification")) is False
    proxy.up = True  # an error is not cached: the next question is asked again
    assert client.has_consent("42", "face-verification") is True


def test_may_send_follows_the_purpose(portal):
    client, *_ = portal
    assert client.may_send(Subject("user_id", "7", "fraud-checks"))  # needs no consent
    assert not client.may_send(Subject("user_id", "7", "face-verification"))
    assert not client.may_send(Subject("user_id", "42", "no-such-purpose"))


def test_consent_link_points_at_the_purposes_page(portal, live_server):
    client, *_ = portal
    url = client.consent_link("42", "face-verification", email="alice@example.com")
    assert url.startswith(f"{live_server.url}/") and "face-verification" in url and "subject=cl_" in url
