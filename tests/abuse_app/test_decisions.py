"""Decisions with a statement of reasons; both sides told; the reporter never disclosed to the target."""

import json

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from abuse_app import services
from abuse_app.models import Appeal, Case, Decision, WebhookDelivery
from portal import tokens
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db


def _decide(case, moderator, **overrides):
    kwargs = {
        "action": "remove_content",
        "ground": "terms",
        "legal_reference": "Terms §4.2 (no faces without consent)",
        "facts": "The photo shows a person who did not agree to face matching.",
    }
    kwargs.update(overrides)
    return services.case_decide(case=case, actor=moderator, **kwargs)


def test_decision_notifies_reporters_and_host_app_without_leaking_reporter(
    moderator, webhook, django_capture_on_commit_callbacks
):
    first = submit(email="alice@example.com", name="Alice Reporter", ip="198.51.100.7")
    submit(email="bob@example.org", name="Bob", ip="198.51.100.8", target_account_id=None or "")
    case = Case.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = _decide(case, moderator)
    # Each reporter gets the statement of reasons by e-mail.
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.org"]
    assert "Terms §4.2" in mail.outbox[0].body and "did not agree" in mail.outbox[0].body
    # The host app gets a signed call telling it what to do.
    delivery = WebhookDelivery.objects.get()
    services.webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    call = webhook.calls[0]
    body = call["body"]
    timestamp = call["headers"]["X-Portal-Timestamp"]
    signature = call["headers"]["X-Portal-Signature"].removeprefix("sha256=")
    assert tokens.hmac_verify(timestamp.encode() + b"." + body, signature)
    payload = call["json"]
    assert payload["action"] == "remove_content" and payload["ground"] == "terms"
    assert payload["target"]["url"] == "https://app.example.com/p/1"
    assert payload["appeal_url"].startswith("http://testserver/report/decision/tok_")
    # Nothing about who reported: no names, e-mails, notice references, IP hashes.
    text = json.dumps(payload)
    for secret in (
        "alice",
        "Alice",
        "bob@",
        "Bob",
        first.notice.reference,
        first.notice.ip_hash,
        "198.51.100",
    ):
        assert secret not in text
    assert decision.case.status == Case.Status.DECIDED


def test_decision_shown_on_reporter_status_page_with_appeal_button(client, moderator):
    submitted = submit()
    decision = _decide(Case.objects.get(), moderator)
    html = client.get(submitted.status_url).content.decode()
    assert "Remove or disable the content" in html and "Terms §4.2" in html
    assert f"/appeal/{decision.pk}/" in html


def test_decision_without_ground_or_reference_refused_with_message(moderator):
    submit()
    case = Case.objects.get()
    with pytest.raises(services.AbuseError, match="which ground"):
        _decide(case, moderator, ground="")
    with pytest.raises(services.AbuseError, match="law or the terms"):
        _decide(case, moderator, legal_reference=" ")
    assert not Decision.objects.exists()


def test_decision_on_decided_case_refused(moderator):
    submit()
    case = Case.objects.get()
    _decide(case, moderator)
    with pytest.raises(services.AbuseError, match="already decided"):
        _decide(case, moderator)


def test_notice_after_decision_opens_a_new_case(moderator):
    submit()
    _decide(Case.objects.get(), moderator)
    submit(email="carol@example.com")
    assert Case.objects.count() == 2


def test_webhook_not_configured_delivery_skipped(moderator, settings):
    settings.PORTAL_ABUSE_WEBHOOK_URL = ""
    submit()
    _decide(Case.objects.get(), moderator)
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SKIPPED


def test_webhook_503_retried_with_retry_after_then_delivered(moderator, webhook):
    webhook.statuses = [503]
    submit()
    _decide(Case.objects.get(), moderator)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(services.TransientWebhookError) as exc:
        services.webhook_deliver(delivery.pk)
    assert exc.value.retry_after == 7
    assert services.webhook_deliver(delivery.pk).status == WebhookDelivery.Status.DELIVERED
    assert len(webhook.calls) == 2


def test_webhook_400_fails_for_good_with_error_shown(moderator, webhook):
    webhook.statuses = [400]
    submit()
    _decide(Case.objects.get(), moderator)
    delivery = services.webhook_deliver(WebhookDelivery.objects.get().pk)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "HTTP 400" in delivery.last_error


def test_webhook_delivered_by_real_worker(transactional_db, moderator, webhook, celery_worker):
    from tests.helpers import wait_until

    submit()
    _decide(Case.objects.get(), moderator)
    assert wait_until(lambda: WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED)
    assert webhook.calls[0]["json"]["event"] == "abuse.decision"


def test_decision_db_refuses_human_decision_without_decider():
    submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(case=Case.objects.get(), action="none", facts="x", automated=False)


# --- Appeals -------------------------------------------------------------------------------------


def _target_token_decision(case, moderator):
    """Decide and return (decision, the target's raw appeal token from the webhook payload)."""
    decision = _decide(case, moderator)
    payload = WebhookDelivery.objects.get(case=case).payload
    return decision, payload


def test_appeal_by_target_decided_by_another_moderator(
    client, moderator, moderator2, staff_client, webhook, django_capture_on_commit_callbacks
):
    submitted = submit()
    case = Case.objects.get()
    decision, payload = _target_token_decision(case, moderator)
    target_path = payload["appeal_url"].removeprefix("http://testserver")
    # The target appeals through the link the host app passed on.
    page = client.get(target_path)
    assert page.status_code == 200 and "Terms §4.2" in page.content.decode()
    assert "alice" not in page.content.decode().lower()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            target_path,
            {"statement": "The person in the photo is me.", "contact_email": "target@example.net"},
        )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.appellant == "target" and appeal.original_decider == moderator
    assert Case.objects.get().status == Case.Status.APPEALED
    assert mail.outbox[-1].to == ["target@example.net"]
    # The original moderator may not decide it: service, admin and database all refuse.
    with pytest.raises(services.AbuseError, match="Another moderator"):
        services.appeal_decide(appeal=appeal, actor=moderator, outcome="overturned", reasons="x", new_action="none")
    admin = staff_client(moderator)
    refused = admin.post(
        f"/admin/abuse_app/appeal/{appeal.pk}/decide/", {"outcome": "upheld", "reasons": "I was right."}
    )
    assert refused.status_code == 403 and "Another moderator" in refused.content.decode()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(decided_by=moderator)
    # A different moderator decides; both the appellant and the host app are told.
    admin = staff_client(moderator2)
    form_page = admin.get(f"/admin/abuse_app/appeal/{appeal.pk}/decide/")
    assert form_page.status_code == 200 and "The person in the photo is me." in form_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = admin.post(
            f"/admin/abuse_app/appeal/{appeal.pk}/decide/",
            {"outcome": "overturned", "reasons": "The uploader is the person shown.", "new_action": "none"},
        )
    assert ok.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "overturned" and appeal.decided_by == moderator2
    assert Case.objects.get().status == Case.Status.CLOSED
    assert mail.outbox[-1].to == ["target@example.net"] and "The uploader is the person shown." in mail.outbox[-1].body
    outcome = WebhookDelivery.objects.get(event="abuse.appeal_decided").payload
    assert outcome["outcome"] == "overturned" and outcome["new_action"] == "none"
    assert submitted.notice.reference not in json.dumps(outcome)


def test_appeal_by_reporter_from_status_page(client, moderator):
    submitted = submit()
    decision = _decide(
        Case.objects.get(),
        moderator,
        action="none",
        ground="",
        legal_reference="",
        facts="The photo shows no person.",
    )
    url = f"{submitted.status_url}appeal/{decision.pk}/"
    assert client.post(url, {"statement": ""}).status_code == 400
    assert client.post(url, {"statement": "It clearly shows me."}).status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.appellant == "reporter" and appeal.notice == submitted.notice
    assert appeal.contact_email == "alice@example.com"
    assert "Pending" in client.get(submitted.status_url).content.decode()
    # A second appeal on the same decision by the same reporter is refused.
    with pytest.raises(services.AbuseError, match="already appealed"):
        services.appeal_file(decision=decision, appellant="reporter", notice=submitted.notice, statement="again")


def test_appeal_after_six_months_refused(moderator, settings):
    from datetime import timedelta

    from django.utils import timezone

    submitted = submit()
    decision = _decide(Case.objects.get(), moderator)
    Decision.objects.filter(pk=decision.pk).update(decided_at=timezone.now() - timedelta(days=185))
    decision.refresh_from_db()
    with pytest.raises(services.AbuseError, match="time to appeal"):
        services.appeal_file(decision=decision, appellant="reporter", notice=submitted.notice, statement="late")


def test_appeal_link_of_another_decision_is_404(client, moderator):
    submitted = submit()
    submit(locations="https://app.example.com/other", email="zed@example.com")
    other_case = Case.objects.get(target_display="https://app.example.com/other")
    other = _decide(other_case, moderator)
    assert client.get(f"{submitted.status_url}appeal/{other.pk}/").status_code == 404


def test_target_appeal_form_says_optional_once(client, moderator, webhook):
    submit()
    _decide(Case.objects.get(), moderator)
    path = WebhookDelivery.objects.get().payload["appeal_url"].removeprefix("http://testserver")
    html = client.get(path).content.decode()
    assert "(optional) (optional)" not in html
    assert html.count("(optional)") == 1
