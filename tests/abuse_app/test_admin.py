"""Moderators' admin: case list, case page, decision form, evidence view, roles."""

import pytest
from django.urls import reverse

from abuse_app.models import Case, Decision, Evidence
from portal.models import AuditEvent
from tests.abuse_app.conftest import PNG, report_data, submit, upload

pytestmark = pytest.mark.django_db


def _report_with_evidence(client):
    client.post("/report/", report_data(evidence=[upload("shot.png", PNG)]))
    return Evidence.objects.get()


def test_case_list_child_safety_first_with_counts(moderator, staff_client, django_assert_max_num_queries):
    submit(category="spam", locations="https://app.example.com/s")
    submit(category="spam", locations="https://app.example.com/s", email="b@example.com")
    submit(category="minors", locations="https://app.example.com/m", email="", name="")
    client = staff_client(moderator)
    with django_assert_max_num_queries(20):
        response = client.get("/admin/abuse_app/case/")
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows[0].is_child_safety
    assert rows[1].notice_count == 2


def test_case_list_filters_and_search(moderator, staff_client):
    submitted = submit(category="harassment")
    client = staff_client(moderator)
    assert client.get("/admin/abuse_app/case/?sla=overdue").status_code == 200
    found = client.get(f"/admin/abuse_app/case/?q={submitted.notice.reference}")
    assert list(found.context["cl"].result_list) == [Case.objects.get()]


def test_case_page_shows_notices_evidence_and_decide_link(client, moderator, staff_client):
    evidence = _report_with_evidence(client)
    case = Case.objects.get()
    html = staff_client(moderator).get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    assert evidence.notice.reference in html
    assert reverse("admin:abuse_app_evidence_download", args=[evidence.pk]) in html
    assert reverse("admin:abuse_app_case_decide", args=[case.pk]) in html
    assert "Case opened" in html and "→ New" in html and "abuse.case_opened" not in html  # timeline, in words


def test_case_decide_form_records_statement_of_reasons(moderator, staff_client):
    submit()
    case = Case.objects.get()
    client = staff_client(moderator)
    bad = client.post(f"/admin/abuse_app/case/{case.pk}/decide/", {"action": "remove_content", "facts": "x"})
    assert bad.status_code == 200 and "Choose a ground" in bad.content.decode()
    ok = client.post(
        f"/admin/abuse_app/case/{case.pk}/decide/",
        {
            "action": "suspend_account",
            "ground": "illegal",
            "legal_reference": "GDPR Art. 9",
            "facts": "Biometric data processed without consent.",
        },
    )
    assert ok.status_code == 302
    decision = Decision.objects.get()
    assert decision.decided_by == moderator and not decision.automated


def test_case_note_added_and_assignment_audited(moderator, staff_client):
    submit()
    case = Case.objects.get()
    client = staff_client(moderator)
    client.post(f"/admin/abuse_app/case/{case.pk}/note/", {"body": "Checked with host app."})
    assert case.notes.get().body == "Checked with host app."
    client.post("/admin/abuse_app/case/", {"action": "assign_to_me", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.assigned_to == moderator and case.status == Case.Status.IN_REVIEW
    assert AuditEvent.objects.filter(action="abuse.assigned", subject_id=str(case.pk)).exists()


def test_evidence_download_is_attachment_nosniff_and_audited(client, moderator, staff_client):
    evidence = _report_with_evidence(client)
    response = staff_client(moderator).get(reverse("admin:abuse_app_evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == PNG
    assert AuditEvent.objects.filter(action="abuse.evidence_viewed", actor=moderator).exists()


def test_evidence_never_reachable_without_staff_login(client):
    evidence = _report_with_evidence(client)
    response = client.get(reverse("admin:abuse_app_evidence_download", args=[evidence.pk]))
    assert response.status_code == 302 and "/login" in response["Location"]
    assert client.get(f"/never-served/{evidence.file.name}").status_code == 404
    assert not AuditEvent.objects.filter(action="abuse.evidence_viewed").exists()


def test_auditor_reads_cases_but_cannot_decide_or_download(client, auditor, staff_client):
    evidence = _report_with_evidence(client)
    case = Case.objects.get()
    admin = staff_client(auditor)
    assert admin.get("/admin/abuse_app/case/").status_code == 200
    page = admin.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    assert reverse("admin:abuse_app_case_decide", args=[case.pk]) not in page
    assert admin.post(f"/admin/abuse_app/case/{case.pk}/decide/", {"action": "none", "facts": "x"}).status_code == 403
    # Reading is their job, so they may open evidence, and that is logged like anyone's access.
    assert admin.get(reverse("admin:abuse_app_evidence_download", args=[evidence.pk])).status_code == 200
    assert AuditEvent.objects.filter(action="abuse.evidence_viewed", actor=auditor).exists()
    assert admin.post(
        "/admin/abuse_app/case/", {"action": "assign_to_me", "_selected_action": [case.pk]}
    ).status_code in (200, 403)
    case.refresh_from_db()
    assert case.assigned_to is None


def test_moderator_sees_abuse_not_privacy_requests(moderator, officer):
    assert moderator.has_perm("abuse_app.change_case")
    assert not moderator.has_perm("requests_app.view_privacyrequest")
    assert not officer.has_perm("abuse_app.view_case")


def test_moderator_admin_index_lists_abuse_only(moderator, staff_client):
    client = staff_client(moderator)
    index = client.get("/admin/").content.decode()
    assert "/admin/abuse_app/case/" in index
    assert "/admin/requests_app/" not in index
    assert client.get("/admin/requests_app/privacyrequest/").status_code == 403


def test_case_timeline_shows_reasons_of_decisions_and_appeals(moderator, moderator2, staff_client):
    from abuse_app import services
    from abuse_app.models import Case
    from tests.abuse_app.conftest import submit

    submit()
    case = Case.objects.get()
    decision = services.case_decide(
        case=case,
        actor=moderator,
        action="remove_content",
        ground="terms",
        legal_reference="Terms §4.2",
        facts="Faces shown without consent.",
    )
    appeal = services.appeal_file(decision=decision, appellant="target", statement="It is my own face.")
    services.appeal_decide(appeal=appeal, actor=moderator2, outcome="upheld", reasons="The others did not agree.")
    html = staff_client(moderator).get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    timeline = html[html.index("Timeline") :]
    assert "Terms §4.2" in timeline and "Faces shown without consent." in timeline
    assert "Decision upheld: The others did not agree." in timeline


def test_bulk_actions_say_what_they_did_in_a_sentence(moderator, staff_client):
    from abuse_app.models import Case
    from tests.abuse_app.conftest import submit

    submit(locations="https://app.example.com/1")
    submit(locations="https://app.example.com/2")
    client = staff_client(moderator)
    ids = list(Case.objects.values_list("pk", flat=True))
    response = client.post("/admin/abuse_app/case/", {"action": "assign_to_me", "_selected_action": ids}, follow=True)
    assert "2 cases assigned to you." in response.content.decode()
    response = client.post(
        "/admin/abuse_app/case/", {"action": "place_legal_hold", "_selected_action": ids[:1]}, follow=True
    )
    assert "1 case placed on legal hold for one year." in response.content.decode()


def test_webhook_retry_action_goes_through_the_service(
    moderator, staff_client, settings, django_capture_on_commit_callbacks
):
    from unittest import mock

    from abuse_app.models import WebhookDelivery
    from portal.models import AuditEvent

    settings.PORTAL_ABUSE_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    failed = WebhookDelivery.objects.create(event="abuse.decision", payload={}, status="failed", attempts=8)
    with mock.patch("abuse_app.tasks.deliver_webhook.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = staff_client(moderator).post(
            "/admin/abuse_app/webhookdelivery/",
            {"action": "retry", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "1 failed delivery queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.attempts == 0
    delay.assert_called_once_with(failed.pk)
    assert AuditEvent.objects.filter(action="abuse.webhook_retried").exists()


def test_decide_form_offers_scope_and_duration_with_defaults(moderator, staff_client, settings):
    from abuse_app.models import Case
    from tests.abuse_app.conftest import submit

    settings.PORTAL_ABUSE_TERRITORIAL_SCOPE = "EU/EEA and Switzerland"
    submit()
    case = Case.objects.get()
    client = staff_client(moderator)
    html = client.get(f"/admin/abuse_app/case/{case.pk}/decide/").content.decode()
    assert 'value="EU/EEA and Switzerland"' in html and 'value="indefinite"' in html
    response = client.post(
        f"/admin/abuse_app/case/{case.pk}/decide/",
        {
            "action": "restrict_account",
            "ground": "terms",
            "legal_reference": "§3",
            "facts": "Spam.",
            "territorial_scope": "EU/EEA and Switzerland",
            "duration": "until",
        },
    )
    assert "Give the last day of the restriction" in response.content.decode()
