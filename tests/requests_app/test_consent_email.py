"""Consent from the portal: an e-mailed, single-use link for the address's account (issue 19)."""

from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.management import call_command

from requests_app import consent_email, tasks
from requests_app.models import ConsentLink, ConsentPurpose


@pytest.fixture
def demo(db, demo_hostapp):
    """The demo host app (tests/requests_app/conftest.py)."""


def test_demo_hostapp_seeds_consent_purposes_once(demo):
    assert set(ConsentPurpose.objects.values_list("slug", flat=True)) == {"face-tagging", "voice-note-transcripts"}
    assert all(purpose.current_notice() for purpose in ConsentPurpose.objects.all())
    call_command("demo_hostapp")
    assert ConsentPurpose.objects.count() == 2


def test_known_address_gets_a_link_for_its_account(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_email.send_link("Alice@Example.com", "en") == 1
    link = ConsentLink.objects.get()
    assert (link.subject_kind, link.subject_value, link.email) == ("user_id", "1", "Alice@Example.com")
    assert sorted(link.purposes) == ["face-tagging", "voice-note-transcripts"]
    [message] = mail.outbox
    assert "/consent/?subject=cl_" in message.body


def test_unknown_address_gets_no_link(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert consent_email.send_link("nobody@example.net", "en") == 0
    assert not ConsentLink.objects.exists()
    [message] = mail.outbox
    assert "no Example App account uses this e-mail address" in message.body


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.net"])
def test_the_page_answers_the_same_for_any_address(
    client, demo, monkeypatch, email, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.send_consent_link, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/consent/", {"email": email}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "If an account uses this address" in response.content.decode()
    assert queued == [(email, "en")]


def test_emailed_link_works_once(client, demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent_email.send_link("alice@example.com", "en")
    url = next(line for line in mail.outbox[0].body.splitlines() if "/consent/?subject=" in line).strip()
    target = urlparse(url)
    first = client.get(f"{target.path}?{target.query}")
    assert first.status_code == 302
    page = client.get(first["Location"]).content.decode()
    assert "Face tagging in photos" in page and "You have not agreed." in page

    stranger = client.__class__()
    again = stranger.get(f"{target.path}?{target.query}")
    assert again.status_code == 400
    assert "already used" in again.content.decode()
