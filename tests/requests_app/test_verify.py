"""The e-mailed confirmation link: GET shows one button, only POST confirms; single use; expiry; resend."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest
from requests_app.services.intake import request_verify
from requests_app.services.validation import RequestError
from tests.requests_app.intake_helpers import (
    committed,
    status_path,
    submit,
    verify_path,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def _url(token):
    return f"/requests/verify/{token}/"


def test_get_shows_one_button_and_does_not_verify(client):
    request, token = submit()
    response = client.get(_url(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('type="submit"') == 2  # ours + the language switcher in the header
    assert "Confirm my request" in html and request.reference in html
    request.refresh_from_db()
    assert request.status == "unverified"


def test_post_verifies_sets_deadline_and_redirects_to_status(client):
    request, token = submit(kind="deletion")
    mail.outbox.clear()
    with committed():
        response = client.post(_url(token))
    assert response.status_code == 302
    assert response["Location"].startswith("/requests/status/ps_")
    assert client.get(response["Location"]).status_code == 200
    assert client.get(status_path(mail.outbox[-1])).status_code == 200  # the e-mail's own link works too
    request.refresh_from_db()
    assert request.status == "verified" and request.verified_at is not None
    assert request.due_at is not None and request.verify_token_hash == ""
    event = AuditEvent.objects.get(subject_id=str(request.pk), action="request.verified")
    assert event.actor_type == "requester"
    (message,) = mail.outbox
    assert "is confirmed" in message.subject


def test_access_request_auto_approved_on_verify(client):
    request, token = submit(kind="access")
    with committed():
        client.post(_url(token))
    request.refresh_from_db()
    assert request.status == "approved" and request.approved_at is not None
    approved = AuditEvent.objects.get(subject_id=str(request.pk), action="request.approved")
    assert approved.actor_type == "system" and "auto-approval" in approved.actor_label


def test_deletion_auto_approval_setting_and_grace_period(client, settings):
    settings.PORTAL_AUTO_APPROVE = ["access", "deletion"]
    settings.PORTAL_DELETION_GRACE_HOURS = 48
    request, token = submit(kind="deletion")
    with committed():
        client.post(_url(token))
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.run_after - request.approved_at == timedelta(hours=48)


def test_replayed_link_is_refused(client):
    request, token = submit()
    with committed():
        client.post(_url(token))
    again = client.post(_url(token))
    assert again.status_code == 404
    assert "work only once" in again.content.decode()
    assert client.get(_url(token)).status_code == 404
    assert AuditEvent.objects.filter(subject_id=str(request.pk), action="request.verified").count() == 1


def test_expired_link_refused_and_offers_new_one(client):
    request, token = submit()
    PrivacyRequest.objects.filter(pk=request.pk).update(verify_expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(_url(token))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    response = client.post(_url(token))  # pressing confirm on an expired link
    assert response.status_code == 410
    request.refresh_from_db()
    assert request.status == "unverified"
    mail.outbox.clear()
    with committed():
        response = client.post(_url(token), {"action": "resend"})
    assert response.status_code == 200
    new_token = verify_path(mail.outbox[-1]).split("/")[-2]
    assert new_token != token
    assert client.get(_url(token)).status_code == 404  # the old link stops working
    with committed():
        assert client.post(_url(new_token)).status_code == 302


def test_link_expiry_is_configurable(settings):
    settings.PORTAL_VERIFY_LINK_HOURS = 2
    request, _token = submit()
    assert timedelta(hours=1, minutes=59) < request.verify_expires_at - timezone.now() <= timedelta(hours=2)


@pytest.mark.usefixtures("one_rate_window")
def test_guessed_tokens_are_404_then_locked_out(client):
    submit()
    for i in range(20):
        assert client.get(_url(f"pv_guess{i:02d}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")).status_code == 404
    assert client.get(_url("pv_guess99xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")).status_code == 429


def test_verify_post_without_csrf_refused():
    request, token = submit()
    response = Client(enforce_csrf_checks=True).post(_url(token))
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "unverified"


def test_verify_service_rejects_unknown_and_used_tokens():
    with pytest.raises(RequestError):
        request_verify(token="pv_nope")
    _request, token = submit()
    request_verify(token=token)
    with pytest.raises(RequestError):
        request_verify(token=token)
