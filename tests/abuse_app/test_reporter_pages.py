"""Reporter side: the appeal page names the reporter's own reference, confirms an appeal, and a
file dropped by a form error is said so at the field."""

import pytest
from django.urls import reverse

from abuse_app import services
from abuse_app.models import Case
from tests.abuse_app.conftest import PNG, report_data, submit, upload

pytestmark = pytest.mark.django_db


def _decided(moderator):
    submitted = submit(locations="https://app.example.com/" + "very-long-path/" * 20)
    case = Case.objects.get()
    decision = services.case_decide(
        case=case, actor=moderator, action="none", ground="", legal_reference="", facts="No violation."
    )
    return submitted, case, decision


def test_appeal_page_headed_with_reporters_reference_not_case_number(client, moderator):
    submitted, case, decision = _decided(moderator)
    html = client.get(reverse("abuse-appeal", args=[submitted.status_token, decision.pk])).content.decode()
    h1 = html.split("<h1>")[1].split("</h1>")[0]
    assert submitted.notice.reference in h1 and case.reference not in h1


def test_appeal_sent_shows_confirmation_once(client, moderator):
    submitted, _case, decision = _decided(moderator)
    url = reverse("abuse-appeal", args=[submitted.status_token, decision.pk])
    response = client.post(url, {"statement": "The post is still harassing me."}, follow=True)
    html = response.content.decode()
    assert "Appeal sent" in html and "confirmation-panel" in html and submitted.notice.reference in html
    again = client.get(url).content.decode()
    assert "confirmation-panel" not in again and "Status of your appeal" in again


def test_status_page_wraps_long_reported_address(client, moderator):
    submitted, _case, _decision = _decided(moderator)
    html = client.get(reverse("abuse-status", args=[submitted.status_token])).content.decode()
    assert '<h2 class="reported-target">' in html


def test_evidence_dropped_by_form_error_is_said_at_the_field(client):
    response = client.post("/report/", report_data(explanation="", evidence=[upload("shot.png", PNG)]))
    assert response.status_code == 400
    assert "Your file was not kept because the form had errors; choose it again." in response.content.decode()


def test_no_dropped_file_message_without_a_file(client):
    response = client.post("/report/", report_data(explanation=""))
    assert "was not kept" not in response.content.decode()
