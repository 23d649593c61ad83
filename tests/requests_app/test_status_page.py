"""The requester's status page: reachable only with the secret link; state, due date, timeline, cancel."""

import re

import pytest
from django.core import mail
from django.test import Client

from requests_app import services
from requests_app.models import PrivacyRequest, StoreTask
from tests.requests_app.intake_helpers import (  # noqa: F401
    committed,
    fresh_rate_limits,
    status_path,
    submit,
    verified,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _without_secrets(content: bytes) -> str:
    """Page text minus per-response tokens (CSRF, CSP nonce)."""
    return re.sub(r'(csrfmiddlewaretoken" value|nonce)="[^"]*"', "", content.decode())


def _status_url(request):
    return f"/requests/status/{services.status_token(request)}/"


def test_status_link_from_email_shows_state_and_timeline(client):
    request, _token = submit(kind="deletion")
    path = status_path(mail.outbox[0])
    html = client.get(path).content.decode()
    assert request.reference in html
    assert 'data-status="unverified"' in html
    assert "waiting for you to confirm" in html
    assert "We received your request." in html
    assert "Send a new confirmation link" in html
    assert 'id="cancel-request"' in html


def test_status_page_after_verify_shows_due_date_and_no_staff_names(client, officer):
    request = verified()
    with committed():
        services.request_extend(request=request, actor=officer, reason="Many systems to search.")
    request.refresh_from_db()
    html = client.get(_status_url(request)).content.decode()
    assert 'id="due"' in html and "(extended)" in html
    assert "Your request was confirmed." in html
    assert "We extended the deadline: Many systems to search." in html
    assert officer.username not in html


def test_status_link_stays_the_same_in_later_emails(client, officer):
    request, _token = submit(kind="deletion")
    first = status_path(mail.outbox[0])
    request = services.request_verify(token=_token)
    mail.outbox.clear()
    with committed():
        services.request_deny(request=request, actor=officer, reason="Not our data.")
    assert status_path(mail.outbox[0]) == first
    html = client.get(first).content.decode()
    assert "Not our data." in html
    assert 'id="cancel-request"' not in html


def test_requester_cancels_before_running(client):
    request = verified()
    mail.outbox.clear()
    with committed():
        response = client.post(_status_url(request), {"action": "cancel"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "canceled"
    assert "is canceled" in mail.outbox[0].subject
    html = client.get(_status_url(request)).content.decode()
    assert "Your request is canceled" in html
    assert 'id="cancel-request"' not in html


def test_cancel_refused_once_running(client):
    request = verified()
    PrivacyRequest.objects.filter(pk=request.pk).update(status="running")
    html = client.get(_status_url(request)).content.decode()
    assert 'id="cancel-request"' not in html
    response = client.post(_status_url(request), {"action": "cancel"}, follow=True)
    assert "can no longer be canceled" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "running"


def test_progress_from_store_tasks(client):
    request = verified()
    PrivacyRequest.objects.filter(pk=request.pk).update(status="running")
    for store, status in [("app-db", "succeeded"), ("uploads", "running"), ("face", "pending")]:
        StoreTask.objects.create(request=request, store=store, store_kind="sql", phase="erase", status=status)
    html = client.get(_status_url(request)).content.decode()
    assert "1 of 3 steps done" in html
    assert '<progress id="progress-bar" max="3" value="1">' in html
    assert "uploads" in html and "We are deleting your data" in html


def test_resend_from_status_page_replaces_link(client):
    request, old_token = submit()
    mail.outbox.clear()
    with committed():
        client.post(_status_url(request), {"action": "resend"})
    assert "new confirmation link" in mail.outbox[0].subject
    assert client.get(f"/requests/verify/{old_token}/").status_code == 404


def test_unknown_action_is_refused_politely(client):
    request = verified()
    response = client.post(_status_url(request), {"action": "approve"}, follow=True)
    assert "not available on this page" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "verified"


def test_status_page_without_the_secret_is_404(client):
    request = verified()
    assert client.get(f"/requests/status/{request.reference}/").status_code == 404
    assert client.get("/requests/status/ps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/").status_code == 404
    assert client.get(f"/requests/status/{request.status_token_hash}/").status_code == 404


@pytest.mark.usefixtures("one_rate_window")
def test_guessing_status_links_locks_the_address_out(client):
    request = verified()
    for i in range(20):
        client.get(f"/requests/status/ps_guess{i}/")
    assert client.get(_status_url(request)).status_code == 429  # even the right link, for this address
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.get(_status_url(request)).status_code == 200


def test_status_post_without_csrf_refused():
    request = verified()
    response = Client(enforce_csrf_checks=True).post(_status_url(request), {"action": "cancel"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "verified"


def test_find_my_requests_same_page_whether_known_or_not(client):
    verified(email="alice@example.com")
    mail.outbox.clear()
    with committed():
        known = client.post("/requests/find/", {"email": "alice@example.com"})
        unknown = client.post("/requests/find/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert _without_secrets(known.content) == _without_secrets(unknown.content)
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"] and "/requests/status/ps_" in message.body
