"""The moderator's decision page: no preselected outcome, the reports and their evidence shown, and
the child-safety lane's blurred preview whose reveal is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from abuse_app.models import Case, Decision, Evidence
from portal.models import AuditEvent
from tests.abuse_app.conftest import PDF, PNG, report_data, submit, upload

pytestmark = pytest.mark.django_db


def _case_with_evidence(client, *files):
    client.post("/report/", report_data(explanation="They posted my passport photo.", evidence=list(files)))
    return Case.objects.get()


def _decide_url(case):
    return reverse("admin:abuse_app_case_decide", args=[case.pk])


def test_decide_form_preselects_no_action_or_ground(moderator, staff_client):
    submit()
    case = Case.objects.get()
    html = staff_client(moderator).get(_decide_url(case)).content.decode()
    assert 'name="action"' in html and 'name="ground"' in html
    assert "checked" not in html.split('id="field-action"')[1].split('id="field-legal_reference"')[0]


def test_decide_without_choices_says_what_to_choose(moderator, staff_client):
    submit()
    case = Case.objects.get()
    response = staff_client(moderator).post(_decide_url(case), {"facts": "Looked at it."})
    html = response.content.decode()
    assert "Choose an action" in html and "Choose a ground" in html
    assert not Decision.objects.exists()


def test_decide_no_violation_is_recorded_with_blank_ground(moderator, staff_client):
    submit()
    case = Case.objects.get()
    response = staff_client(moderator).post(
        _decide_url(case), {"action": "none", "ground": "none", "facts": "Nothing against the rules."}
    )
    assert response.status_code == 302
    assert Decision.objects.get().ground == ""


def test_decide_page_shows_report_text_and_image_preview(client, moderator, staff_client):
    case = _case_with_evidence(client, upload("shot.png", PNG), upload("doc.pdf", PDF))
    png, pdf = Evidence.objects.order_by("pk")
    html = staff_client(moderator).get(_decide_url(case)).content.decode()
    assert "They posted my passport photo." in html
    assert reverse("admin:abuse_app_evidence_preview", args=[png.pk]) in html
    assert reverse("admin:abuse_app_evidence_preview", args=[pdf.pk]) not in html  # only images preview
    assert "abuse-preview-blurred" not in html


def test_preview_is_inline_image_and_audited(client, moderator, staff_client):
    _case_with_evidence(client, upload("shot.png", PNG))
    png = Evidence.objects.get()
    response = staff_client(moderator).get(reverse("admin:abuse_app_evidence_preview", args=[png.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="abuse.evidence_viewed", data__evidence=png.pk).exists()


def test_preview_refuses_files_that_are_not_images(client, moderator, staff_client):
    _case_with_evidence(client, upload("doc.pdf", PDF))
    pdf = Evidence.objects.get()
    assert staff_client(moderator).get(reverse("admin:abuse_app_evidence_preview", args=[pdf.pk])).status_code == 404


def test_child_safety_preview_blurred_until_revealed_and_reveal_audited(client, moderator, cs_moderator, staff_client):
    case = _case_with_evidence(client, upload("shot.png", PNG))
    Case.objects.filter(pk=case.pk).update(is_child_safety=True, legal_hold_until=timezone.now() + timedelta(days=9))
    png = Evidence.objects.get()
    reveal = reverse("admin:abuse_app_case_reveal", args=[case.pk])
    # The lane is the child-safety role's: other moderators get no preview and cannot reveal.
    other = staff_client(moderator)
    refused_page = other.get(_decide_url(case)).content.decode()
    assert "abuse-preview" not in refused_page and "restricted to child-safety moderators" in refused_page
    assert other.post(reveal, {"evidence": png.pk}).status_code == 403
    moderator = cs_moderator
    admin = staff_client(moderator)
    assert "abuse-preview-blurred" in admin.get(_decide_url(case)).content.decode()

    assert admin.post(reveal, {"evidence": png.pk}).status_code == 302
    event = AuditEvent.objects.get(action="abuse.evidence_revealed")
    assert event.subject_id == str(case.pk) and event.data["evidence"] == png.pk and event.actor == moderator
    assert "abuse-preview-blurred" not in admin.get(_decide_url(case)).content.decode()


def test_reveal_needs_post_and_evidence_of_this_case(client, moderator, staff_client):
    case = _case_with_evidence(client, upload("shot.png", PNG))
    png = Evidence.objects.get()
    admin = staff_client(moderator)
    admin.get(reverse("admin:abuse_app_case_reveal", args=[case.pk]), {"evidence": png.pk})
    assert not AuditEvent.objects.filter(action="abuse.evidence_revealed").exists()
    other_case = reverse("admin:abuse_app_case_reveal", args=[case.pk + 1])
    assert admin.post(other_case, {"evidence": png.pk}).status_code == 404


def test_case_list_and_page_fit_without_inline_styles(client, moderator, staff_client):
    case = _case_with_evidence(client, upload("shot.png", PNG))
    admin = staff_client(moderator)
    listing = admin.get("/admin/abuse_app/case/").content.decode()
    assert "abuse_app/admin.css" in listing and 'style="' not in listing.split('id="result_list"')[1]
    page = admin.get(reverse("admin:abuse_app_case_change", args=[case.pk])).content.decode()
    assert 'class="abuse-note"' in page
