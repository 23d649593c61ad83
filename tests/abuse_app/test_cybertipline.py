"""CyberTipline reports: built from the case, valid against the API's XSD, finished exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from abuse_app.cybertipline import accounts
from abuse_app.cybertipline.models import CyberTiplineReport
from abuse_app.cybertipline.xml import IpEvent, ReportedPerson, validate
from abuse_app.fakes.cybertipline import XSD_PATH
from abuse_app.services import AbuseError
from abuse_app.services import cybertipline as submission
from abuse_app.services.child_safety import case_confirm_reportable, cybertipline_retract
from portal.models import AuditEvent
from tests.abuse_app.conftest import child_safety_case

pytestmark = pytest.mark.django_db
ST = CyberTiplineReport.Status
CSAM = "Child Pornography (possession, manufacture, and distribution)"


def confirm(case, who, **kw):
    return case_confirm_reportable(case=case, actor=who, incident_type=kw.pop("incident_type", CSAM), **kw)


def run_until_settled(report, limit: int = 20) -> CyberTiplineReport:
    """Run tries as the beat would: each at the report's next attempt time, until it settles."""
    for _ in range(limit):
        report.refresh_from_db()
        if not report.is_active:
            return report
        with time_machine.travel(max(report.next_attempt_at, timezone.now()) + timedelta(seconds=1), tick=False):
            submission.cybertipline_advance(report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def account_source():
    def lookup(account_id):
        return ReportedPerson(
            screen_name="sam_1", emails=("sam@example.net",), ip_events=(IpEvent("203.0.113.7", "Upload"),)
        )

    accounts.register_account_source(lookup)
    yield lookup
    accounts.unregister_account_source(lookup)


def test_report_built_from_case_validates_against_the_fake_xsd(client, cs_moderator, cybertipline, account_source):
    case = child_safety_case(client)
    report = confirm(case, cs_moderator, escalate_reason="The child may be in danger now.")
    assert validate(report.report_xml, XSD_PATH.read_text()) == []
    for fragment in (
        "<espIdentifier>user-42</espIdentifier>",
        "<screenName>sam_1</screenName>",
        "<email>sam@example.net</email>",
        "<ipAddress>203.0.113.7</ipAddress>",
        "<url>https://app.example.com/p/9</url>",
        "<escalateToHighPriority>",
        "<incidentDateTime>",
        "<legalURL>https://example.com/terms</legalURL>",
    ):
        assert fragment in report.report_xml
    case.refresh_from_db()
    assert case.legal_hold_until >= timezone.now() + timedelta(days=364)
    # The account's id and e-mail are held (hashed) for privacy deletions: portal.legal_holds answers.
    from abuse_app.cybertipline.models import HeldIdentity
    from portal import legal_holds

    assert HeldIdentity.objects.filter(case=case).count() == 2
    assert legal_holds.held_until({"email": {"SAM@example.net"}}) == case.legal_hold_until
    assert legal_holds.held_until({"user_id": {"someone-else"}}) is None


def test_moderator_without_the_role_cannot_confirm(client, moderator, cybertipline):
    case = child_safety_case(client)
    with pytest.raises(AbuseError, match="child-safety moderators"):
        confirm(case, moderator)
    assert not CyberTiplineReport.objects.exists()


def test_confirm_refused_while_reporting_is_off(client, cs_moderator, settings):
    settings.PORTAL_CYBERTIPLINE_URL = ""
    with pytest.raises(AbuseError, match="PORTAL_CYBERTIPLINE_URL"):
        confirm(child_safety_case(client), cs_moderator)


def test_confirmed_case_goes_submit_upload_fileinfo_finish(client, cs_moderator, cybertipline):
    case = child_safety_case(client)
    report = run_until_settled(confirm(case, cs_moderator, industry_classification="A1"))
    assert report.status == ST.FINISHED and report.attempts == 1
    assert cybertipline.calls == ["GET /xsd", "POST /submit", "POST /upload", "POST /fileinfo", "POST /finish"]
    [sent] = cybertipline.finished()
    assert str(sent.report_id) == report.ncmec_report_id
    [details] = [f["details"] for f in sent.files.values()]
    assert "<industryClassification>A1</industryClassification>" in details
    assert f'<originalFileHash hashType="MD5">{report.files[0]["md5"]}</originalFileHash>' in details
    finished = AuditEvent.objects.get(action="abuse.cybertipline_finished", subject_id=str(case.pk))
    assert finished.data["cybertipline_report_id"] == report.ncmec_report_id
    # The reported file joins the bank of confirmed cases: a later copy is caught by /media-checks/.
    from abuse_app.hashmatch.models import BankedHash

    assert BankedHash.objects.filter(bank__name="confirmed-cases", kind="md5", value=report.files[0]["md5"]).exists()


def test_exactly_once_under_30_percent_5xx_and_lost_replies(client, cs_moderator, cybertipline):
    cybertipline.fault_rate, cybertipline.lost_reply_rate = 0.3, 0.1
    reports = [confirm(child_safety_case(client, f"https://app.example.com/p/{i}"), cs_moderator) for i in range(6)]
    settled = [run_until_settled(r) for r in reports]
    assert [r.status for r in settled] == [ST.FINISHED] * 6
    finished = cybertipline.finished()
    assert sorted(str(r.report_id) for r in finished) == sorted(r.ncmec_report_id for r in settled)
    by_id = {str(r.report_id): r for r in finished}
    for ours in settled:  # every file we recorded arrived with its details (a lost reply means one more upload)
        assert all(by_id[ours.ncmec_report_id].files[f["file_id"]]["details"] for f in ours.files)
    assert all(r.attempts < 10 for r in settled)


def test_try_killed_mid_way_resumes_after_the_lease_without_resending(client, cs_moderator, cybertipline, monkeypatch):
    report = confirm(child_safety_case(client), cs_moderator)

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    real = submission.CyberTiplineClient.fileinfo
    monkeypatch.setattr(submission.CyberTiplineClient, "fileinfo", lambda *a: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        submission.cybertipline_advance(report.pk)
    monkeypatch.setattr(submission.CyberTiplineClient, "fileinfo", real)
    report.refresh_from_db()
    assert report.status == ST.OPEN and report.files[0]["file_id"] and report.leased_until
    assert submission.cybertipline_sweep() == 0  # the lease is live: nobody else takes it
    with time_machine.travel(report.leased_until + timedelta(seconds=1), tick=False):
        assert submission.cybertipline_sweep() == 1
        assert submission.cybertipline_advance(report.pk) == ST.FINISHED
    assert cybertipline.calls.count("POST /submit") == 1 and cybertipline.calls.count("POST /upload") == 1
    assert len(cybertipline.finished()) == 1


def test_gives_up_after_nine_tries_and_tells_staff_once(
    client, cs_moderator, cybertipline, django_capture_on_commit_callbacks
):
    cybertipline.fail_next(503, count=100)
    report = confirm(child_safety_case(client), cs_moderator)
    with django_capture_on_commit_callbacks(execute=True):
        report = run_until_settled(report, limit=30)
    assert report.status == ST.GAVE_UP and report.attempts == 9
    assert report.next_attempt_at - report.confirmed_at < timedelta(days=30)
    assert len(mail.outbox) == 1
    assert report.case.reference in mail.outbox[-1].subject and "NOT sent" in mail.outbox[-1].subject
    assert submission.cybertipline_sweep(now=timezone.now() + timedelta(days=5)) == 0
    assert AuditEvent.objects.filter(action="abuse.cybertipline_gave_up").count() == 1


def test_report_breaking_the_schema_is_never_sent(client, cs_moderator, cybertipline):
    report = confirm(child_safety_case(client), cs_moderator)
    CyberTiplineReport.objects.filter(pk=report.pk).update(report_xml=report.report_xml.replace(CSAM, "Something else"))
    assert submission.cybertipline_advance(report.pk) == ST.REJECTED
    assert "POST /submit" not in cybertipline.calls
    report.refresh_from_db()
    assert "incidentType" in report.last_error and report.staff_told_at


def test_retract_before_finish_retracts_at_the_api(client, cs_moderator, cybertipline):
    report = confirm(child_safety_case(client), cs_moderator)
    cybertipline.fail_next(503, path="/finish")
    assert submission.cybertipline_advance(report.pk) == ST.OPEN
    cybertipline_retract(report=report, actor=cs_moderator)
    report = run_until_settled(report)
    assert report.status == ST.RETRACTED and report.retracted_at
    assert cybertipline.reports[int(report.ncmec_report_id)].status == "retracted"
    assert not cybertipline.finished()


def test_finished_report_cannot_be_retracted(client, cs_moderator, cybertipline):
    report = run_until_settled(confirm(child_safety_case(client), cs_moderator))
    with pytest.raises(AbuseError, match="finished"):
        cybertipline_retract(report=report, actor=cs_moderator)


def test_report_dropped_by_ncmec_is_opened_again(client, cs_moderator, cybertipline):
    report = confirm(child_safety_case(client), cs_moderator)
    cybertipline.fail_next(503, path="/upload")
    submission.cybertipline_advance(report.pk)
    report.refresh_from_db()
    first = report.ncmec_report_id
    cybertipline.reports[int(first)].status = "dropped"  # left unfinished too long
    report = run_until_settled(report)
    assert report.status == ST.FINISHED and report.ncmec_report_id != first
    assert AuditEvent.objects.filter(action="abuse.cybertipline_dropped_by_ncmec").count() == 1


def test_fake_refuses_wrong_credentials_and_invalid_xml(cybertipline):
    from abuse_app.cybertipline.client import CyberTiplineClient, RefusedError

    with pytest.raises(RefusedError, match="2000"):
        CyberTiplineClient(cybertipline.url, "esp-user", "wrong").status()
    good = CyberTiplineClient(cybertipline.url, cybertipline.username, cybertipline.password)
    assert "Remote User : esp-user" in good.status().description
    with pytest.raises(RefusedError, match="4100"):
        good.submit("<report><incidentSummary/></report>")
    with pytest.raises(RefusedError, match="4110"):
        good.submit("<report>")


def test_check_command_reports_credentials_and_schema(cybertipline, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("check_cybertipline", stdout=out)
    assert "Remote User : esp-user" in out.getvalue() and "(test)" in out.getvalue()
    settings.PORTAL_CYBERTIPLINE_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="code 2000.*PORTAL_CYBERTIPLINE_PASSWORD"):
        call_command("check_cybertipline")
