"""The requester's status page: reachable only with the secret link; state, due date, timeline, cancel."""

import re

import pytest
from django.core import mail
from django.test import Client

from requests_app.models import PrivacyRequest, StoreTask
from requests_app.services.decisions import request_deny, request_extend
from requests_app.services.intake import request_verify
from requests_app.services.links import issue_status_token
from tests.requests_app.intake_helpers import (
    committed,
    status_path,
    submit,
    verified,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _without_secrets(content: bytes) -> str:
    """Page text minus per-response tokens (CSRF, CSP nonce)."""
    return re.sub(r'(csrfmiddlewaretoken" value|nonce)="[^"]*"', "", content.decode())


def _status_url(request):
    if not hasattr(request, "_test_status_token"):
        request._test_status_token = issue_status_token(request)
    return f"/requests/status/{request._test_status_token}/"


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
        request_extend(request=request, actor=officer, reason="Many systems to search.")
    request.refresh_from_db()
    html = client.get(_status_url(request)).content.decode()
    assert 'id="due"' in html and "(extended)" in html
    assert "Your request was confirmed." in html
    assert "We extended the deadline: Many systems to search." in html
    assert officer.username not in html


def test_each_email_has_its_own_random_link_and_all_keep_working(client, officer):
    request, _token = submit(kind="deletion")
    first = status_path(mail.outbox[0])
    request = request_verify(token=_token)
    mail.outbox.clear()
    with committed():
        request_deny(request=request, actor=officer, reason="Not our data.")
    later = status_path(mail.outbox[0])
    assert later != first
    for path in (first, later):
        html = client.get(path).content.decode()
        assert "Not our data." in html
        assert 'id="cancel-request"' not in html


def test_status_link_tokens_are_random_not_derived_from_the_reference(settings):
    request, _token = submit()
    a, b = issue_status_token(request), issue_status_token(request)
    assert a != b and a.startswith("ps_") and len(a) == 46
    assert request.status_links.active().count() == 3  # the e-mail's, and these two
    assert not any(link.token_hash in (a, b) for link in request.status_links.all())  # only hashes kept


def test_staff_revokes_one_status_link_and_only_that_one_stops(client, officer):
    request, _token = submit()
    keep, drop = issue_status_token(request), issue_status_token(request)
    from portal.tokens import hash_token

    staff = Client()
    staff.force_login(officer)
    link = request.status_links.get(token_hash=hash_token(drop))
    response = staff.post("/admin/requests_app/statuslink/", {"action": "revoke", "_selected_action": [link.pk]})
    assert response.status_code == 302
    assert client.get(f"/requests/status/{drop}/").status_code == 404
    assert client.get(f"/requests/status/{keep}/").status_code == 200
    link.refresh_from_db()
    assert link.revoked_by == officer.username
    assert request.timeline().filter(action="request.status_links_revoked").exists()


def test_send_me_my_link_again_issues_a_new_one_and_revokes_the_old(client):
    request, _token = submit()
    old = status_path(mail.outbox[0])
    mail.outbox.clear()
    with committed():
        client.post("/requests/find/", {"email": request.email})
    new = status_path(mail.outbox[0])
    assert new != old
    assert client.get(old).status_code == 404
    assert "Get your status links again by e-mail" in client.get(old).content.decode()
    assert client.get(new).status_code == 200


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
    assert "We are deleting your data" in html
    # Plain words per place, not the engine's store names, phases and task states.
    assert "Your account data" in html and "deleting" in html and "deleted" in html
    assert "app-db" not in html and "Succeeded" not in html


def _completed(kind, found):
    request = verified(kind=kind)
    PrivacyRequest.objects.filter(pk=request.pk).update(status="completed")
    StoreTask.objects.create(
        request=request, store="app-db", store_kind="sql", phase="discover", status="succeeded", found_count=found
    )
    return request


def test_completed_request_that_found_nothing_says_so(client):
    html = client.get(_status_url(_completed("access", 0))).content.decode()
    assert "found nothing about you" in html and "Download my data" not in html


def test_completed_access_shows_the_download_while_the_package_is_valid(client):
    from datetime import timedelta

    from django.utils import timezone

    from requests_app.models import AccessPackage

    request = _completed("access", 3)
    package = AccessPackage.objects.create(
        request=request, path="x.zip", download_token_hash="h", expires_at=timezone.now() + timedelta(days=1)
    )
    url = _status_url(request)
    html = client.get(url).content.decode()
    assert "Download my data" in html and f"{url}download/" in html
    step = client.get(f"{url}download/")
    assert step.status_code == 200 and b'value="send_code"' in step.content
    AccessPackage.objects.filter(pk=package.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert "Download my data" not in client.get(url).content.decode()


def test_completed_deletion_shows_the_receipt(client):
    from requests_app.engine import receipt

    request = _completed("deletion", 2)
    document, signature = receipt.sign({"reference": request.reference, "stores": []})
    PrivacyRequest.objects.filter(pk=request.pk).update(receipt=document, receipt_signature=signature)
    url = _status_url(request)
    html = client.get(url).content.decode()
    assert f"{url}receipt.json" in html and "/receipts/verify/" in html
    signed = client.get(f"{url}receipt.json")
    assert signed.status_code == 200 and receipt.check_here(receipt.parse(signed.content)).genuine
    readable = client.get(f"{url}receipt.html")
    assert readable.status_code == 200 and "sha256-" in readable["Content-Security-Policy"]


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
    _status_url(request)
    assert client.get(f"/requests/status/{request.status_links.first().token_hash}/").status_code == 404


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
