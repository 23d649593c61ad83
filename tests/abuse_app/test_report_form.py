"""The public report form: ordinary report, child-safety lane, grouping, bad inputs, floods."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from abuse_app.models import Case, Evidence, Notice, Priority
from portal.models import AuditEvent
from tests.abuse_app.conftest import EXE, PNG, report_data, upload

pytestmark = pytest.mark.django_db
URL = "/report/"


def _stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _nothing_stored(settings):
    assert Notice.objects.count() == 0
    assert Case.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert _stored_files(settings) == []


def test_report_url_is_named_abuse_report_and_linked_from_pages(client):
    assert reverse("abuse-report") == URL
    assert 'href="/report/"' in client.get("/").content.decode()


def test_report_ordinary_full_path_receipt_email_case_and_status(client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, report_data(evidence=[upload("shot.png", PNG, "image/png")]))
    assert response.status_code == 302
    receipt = client.get(response["Location"])
    html = receipt.content.decode()
    notice = Notice.objects.get()
    assert notice.reference in html
    status_url = re.search(r"http://testserver(/report/status/st_[\w-]+/)", html).group(1)
    assert receipt["Cache-Control"] == "no-store"
    # Acknowledgement e-mail with the same secret link.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert status_url in mail.outbox[0].body
    # Case: normalised target, priority and SLA of the category.
    case = Case.objects.get()
    assert case.target_display == "https://app.example.com/photos/123"
    assert case.priority == Priority.HIGH
    assert case.sla_due_at == notice.received_at + timedelta(hours=72)
    assert not case.is_child_safety and case.legal_hold_until is None
    # Evidence stored privately, hashed, type sniffed.
    evidence = Evidence.objects.get()
    assert evidence.content_type == "image/png" and evidence.size == len(PNG)
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()
    assert "shot" not in evidence.file.name
    assert evidence.file.read() == PNG
    # The status page shows the case and no decision yet; the receipt cannot be reloaded.
    status = client.get(status_url)
    assert status.status_code == 200 and "reviewing" in status.content.decode()
    assert client.get(reverse("abuse-received")).status_code == 302
    assert AuditEvent.objects.filter(
        subject_type="abuse_case", subject_id=str(case.pk), action="abuse.case_opened"
    ).exists()


def test_report_child_safety_lane_form_has_no_upload_and_no_identity_fields(client, settings):
    settings.PORTAL_CHILD_SAFETY_HOTLINE_TEXT = "Call the national hotline XYZ."
    html = client.get(URL + "?lane=child-safety").content.decode()
    assert 'type="file"' not in html
    assert 'name="reporter_email"' not in html and 'name="reporter_name"' not in html
    assert "Call the national hotline XYZ." in html


def test_report_child_safety_lane_page_carries_the_minors_category(client):
    # The browser posts back what the page holds: the hidden category must say "minors".
    html = client.get(URL + "?lane=child-safety").content.decode()
    assert re.search(r'<input type="hidden" name="category" value="minors"', html), html


def test_report_child_safety_full_path_priority_oncall_legal_hold(client, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_ONCALL_EMAIL = "pager@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL + "?lane=child-safety",
            {
                "lane": "child-safety",
                "category": "minors",
                "locations": "https://app.example.com/v/9",
                "explanation": "A video exploiting a child.",
                "good_faith": "on",
            },
        )
    assert response.status_code == 302
    receipt = client.get(response["Location"]).content.decode()
    assert settings.PORTAL_CHILD_SAFETY_HOTLINE_TEXT in receipt
    notice = Notice.objects.get()
    assert notice.reporter_email == "" and notice.reporter_name == ""
    case = Case.objects.get()
    assert case.is_child_safety and case.priority == Priority.CRITICAL
    assert case.legal_hold_until >= notice.received_at + timedelta(days=365)
    assert [m.to for m in mail.outbox] == [["pager@example.com"]]
    assert case.reference in mail.outbox[0].body or f"/admin/abuse_app/case/{case.pk}/" in mail.outbox[0].body


def test_report_minors_category_with_upload_refused_nothing_stored(client, settings):
    response = client.post(URL, report_data(category="minors", evidence=[upload("a.png", PNG)]))
    assert response.status_code == 400
    assert "do not upload anything" in response.content.decode()
    _nothing_stored(settings)


def test_report_minors_category_name_and_email_not_kept(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, report_data(category="minors"))
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.reporter_email == "" and notice.reporter_name == ""
    assert all("alice@example.com" not in m.to for m in mail.outbox)


def test_report_duplicates_grouped_into_one_case_by_normalised_target(client):
    client.post(URL, report_data(locations="https://app.example.com/photos/123", category="spam"))
    client.post(
        URL,
        report_data(
            locations="HTTPS://APP.example.com:443/photos/123/?fbclid=1",
            reporter_email="bob@example.org",
            category="harassment",
        ),
    )
    client.post(URL, report_data(locations="https://app.example.com/photos/999"))
    assert Notice.objects.count() == 3
    grouped = Case.objects.get(target_display="https://app.example.com/photos/123")
    assert grouped.notices.count() == 2
    # The more urgent category wins the priority; SLA follows the earliest due notice.
    assert grouped.category == "harassment" and grouped.priority == Priority.HIGH
    assert Case.objects.count() == 2


def test_report_several_locations_open_several_cases(client):
    client.post(URL, report_data(locations="https://app.example.com/a\nphoto:77"))
    notice = Notice.objects.get()
    assert sorted(c.target_key for c in notice.cases.all()) == [
        "content:photo:77",
        "url:https://app.example.com/a",
    ]


@pytest.mark.parametrize(
    "overrides,field_message",
    [
        ({"evidence": [upload("photo.jpg", EXE, "image/jpeg")]}, "is a program or script"),
        ({"good_faith": None}, "good faith"),
        ({"locations": "not a place"}, "neither a web address"),
        ({"category": "illegal", "law": ""}, "name the law"),
        ({"reporter_email": "alice@"}, "e-mail address looks incomplete"),
        ({"category": "nonsense"}, "Choose one of the listed"),
    ],
)
def test_report_bad_input_refused_with_message_nothing_stored(client, settings, overrides, field_message):
    response = client.post(URL, report_data(**overrides))
    assert response.status_code == 400
    assert field_message in response.content.decode()
    _nothing_stored(settings)


def test_report_oversized_file_refused_nothing_stored(client, settings):
    settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES = 1024
    response = client.post(URL, report_data(evidence=[upload("big.png", PNG + b"\x00" * 4096)]))
    assert response.status_code == 400
    assert "each file may be at most 1.0" in response.content.decode()
    _nothing_stored(settings)


def test_report_too_many_files_refused_nothing_stored(client, settings):
    settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES = 2
    response = client.post(URL, report_data(evidence=[upload(f"{i}.png", PNG) for i in range(3)]))
    assert response.status_code == 400
    assert "at most 2 are accepted" in response.content.decode()
    _nothing_stored(settings)


@pytest.mark.usefixtures("one_rate_window")
def test_report_flood_from_one_ip_refused_with_429_after_limit(client, settings):
    settings.PORTAL_ABUSE_IP_RATE = "3/day"
    for i in range(3):
        assert client.post(URL, report_data(reporter_email=f"r{i}@example.com")).status_code == 302
    response = client.post(URL, report_data(reporter_email="r9@example.com"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "try again" in response.content.decode()
    assert Notice.objects.count() == 3


@pytest.mark.usefixtures("one_rate_window")
def test_report_flood_from_one_email_refused_across_ips(client, settings):
    settings.PORTAL_ABUSE_EMAIL_RATE = "2/day"
    for ip in ("10.0.0.1", "10.0.0.2"):
        assert client.post(URL, report_data(), REMOTE_ADDR=ip).status_code == 302
    assert client.post(URL, report_data(), REMOTE_ADDR="10.0.0.3").status_code == 429
    assert Notice.objects.count() == 2


def test_status_unknown_token_is_404(client):
    assert client.get("/report/status/st_unknown/").status_code == 404


def test_report_failure_after_upload_leaves_no_file_behind(client, settings, monkeypatch):
    from abuse_app.services import intake

    def broken_join(*args, **kwargs):  # fault injection: the database fails after the file was written
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake, "_join_case", broken_join)
    client.raise_request_exception = False
    response = client.post(URL, report_data(evidence=[upload("shot.png", PNG, "image/png")]))
    assert response.status_code == 500
    _nothing_stored(settings)
