"""Child-safety material: only the dedicated role sees it; previews are greyscale and blurred until revealed."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from PIL import Image, ImageStat

from abuse_app.cybertipline.models import CyberTiplineReport
from abuse_app.models import Case, Evidence
from portal import roles
from portal.models import AuditEvent
from tests.abuse_app.conftest import child_safety_case, real_png, report_data, upload
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    browser = Client()
    login_staff(browser, user)
    return browser


def preview_url(evidence) -> str:
    return f"/admin/abuse_app/notice/evidence/{evidence.pk}/preview/"


def reveal(browser: Client, case, evidence, **data):
    """The decision page's reveal (one mechanism for every preview): the case's URL, the evidence posted."""
    return browser.post(f"/admin/abuse_app/case/{case.pk}/reveal/", {"evidence": evidence.pk, **data})


def sharpness(png: bytes) -> float:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "L"  # greyscale, always
    return ImageStat.Stat(image).stddev[0]


def test_only_the_child_safety_role_holds_the_restricted_permission(moderator, cs_moderator, auditor):
    codename = "handle_child_safety"
    assert Group.objects.get(name=roles.CHILD_SAFETY_MODERATORS).permissions.filter(codename=codename).exists()
    for role in (roles.MODERATORS, roles.AUDITORS, roles.ADMINS, roles.PRIVACY_OFFICERS):
        assert not Group.objects.get(name=role).permissions.filter(codename=codename).exists()


def test_moderator_without_the_role_gets_403_on_child_safety_evidence(client, moderator, auditor, cs_moderator):
    case = child_safety_case(client, content=real_png())
    evidence = Evidence.objects.get(notice__cases=case)
    for user in (moderator, auditor):
        browser = logged_in(user)
        assert browser.get(f"/admin/abuse_app/notice/evidence/{evidence.pk}/download/").status_code == 403
        assert browser.get(preview_url(evidence)).status_code == 403
        assert reveal(browser, case, evidence).status_code == 403
        page = browser.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
        assert "restricted to child-safety moderators" in page and preview_url(evidence) not in page
        assert "Report to the CyberTipline" not in page
        assert browser.get(f"/admin/abuse_app/cybertiplinereport/confirm/{case.pk}/").status_code == 403
        assert browser.get("/admin/abuse_app/cybertiplinereport/").status_code == 403
    assert not AuditEvent.objects.filter(action__in=["abuse.evidence_viewed", "abuse.evidence_revealed"]).exists()
    assert logged_in(cs_moderator).get(f"/admin/abuse_app/notice/evidence/{evidence.pk}/download/").status_code == 200


def test_other_evidence_stays_open_to_moderators(client, moderator):
    client.post("/report/", report_data(locations="https://app.example.com/x", evidence=[upload("a.png", real_png())]))
    evidence = Evidence.objects.get()
    browser = logged_in(moderator)
    assert browser.get(preview_url(evidence)).status_code == 200
    # Other lanes keep the decision page's previews only: no blurred section on the case page.
    case = Case.objects.get()
    assert 'id="evidence-previews"' not in browser.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()


def test_preview_is_blurred_until_revealed_and_the_reveal_is_audited(client, cs_moderator):
    case = child_safety_case(client, content=real_png())
    evidence = Evidence.objects.get(notice__cases=case)
    browser = logged_in(cs_moderator)
    page = browser.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    assert preview_url(evidence) in page and "Reveal (logged)" in page
    blurred = browser.get(preview_url(evidence))
    assert blurred["Content-Type"] == "image/png" and "no-store" in blurred["Cache-Control"]
    response = reveal(browser, case, evidence, next=f"/admin/abuse_app/case/{case.pk}/change/")
    assert response.status_code == 302 and response["Location"].endswith(f"#evidence-{evidence.pk}")
    clear = browser.get(preview_url(evidence))
    assert sharpness(clear.content) > 3 * sharpness(blurred.content)
    event = AuditEvent.objects.get(action="abuse.evidence_revealed")
    assert event.actor == cs_moderator and event.data["evidence"] == evidence.pk
    # Another session of the same person starts blurred again.
    assert sharpness(logged_in(cs_moderator).get(preview_url(evidence)).content) < sharpness(clear.content) / 3


def test_dashboard_counts_each_moderators_exposure_today(client, cs_moderator, admin_user):
    case = child_safety_case(client, content=real_png())
    evidence = Evidence.objects.get(notice__cases=case)
    browser = logged_in(cs_moderator)
    reveal(browser, case, evidence)
    browser.get(f"/admin/abuse_app/notice/evidence/{evidence.pk}/download/")
    page = logged_in(admin_user).get("/admin/").content.decode()
    assert "Exposure to evidence today" in page
    assert "<td>cora</td><td>1</td><td>1</td>" in page


def test_confirm_form_reports_the_case(client, cs_moderator, cybertipline):
    case = child_safety_case(client)
    browser = logged_in(cs_moderator)
    assert "Report to the CyberTipline" in browser.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    url = f"/admin/abuse_app/cybertiplinereport/confirm/{case.pk}/"
    refused = browser.post(url, {"incident_type": "Child Sex Tourism"})
    assert "Tick the confirmation" in refused.content.decode() and not CyberTiplineReport.objects.exists()
    response = browser.post(
        url, {"incident_type": "Child Sex Tourism", "industry_classification": "B2", "confirmed": "on"}
    )
    assert response.status_code == 302
    report = CyberTiplineReport.objects.get(case=case)
    assert report.confirmed_by == cs_moderator and report.industry_classification == "B2"
    assert Case.objects.get(pk=case.pk).legal_hold_until
    CyberTiplineReport.objects.filter(pk=report.pk).update(ncmec_report_id="4564654", status="finished")
    page = browser.get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    assert "Report 4564654" in page and "Reported (finished)" in page
