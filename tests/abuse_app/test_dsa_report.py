"""The DSA transparency report for a seeded month matches hand-counted figures, as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import load_workbook

from abuse_app import services
from abuse_app.dsa import report as r
from abuse_app.models import Appeal, Case, Decision, ReporterStanding
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db

MARCH = r.period(date(2026, 3, 1), date(2026, 3, 31))


def _at(day: int, hour: int = 9, month: int = 3):
    return time_machine.travel(datetime(2026, month, day, hour, tzinfo=UTC), tick=False)


def _notice_and_decision(moderator, *, category, channel, target, hours, **decision):
    with _at(5):
        submit(category=category, channel=channel, locations=f"https://app.example.com/{target}", name="", email="")
    case = Case.objects.get(target_key__endswith=target)
    with time_machine.travel(datetime(2026, 3, 5, 9, tzinfo=UTC) + timedelta(hours=hours), tick=False):
        return services.case_decide(case=case, actor=moderator, facts="Facts.", **decision)


@pytest.fixture
def seeded_march(moderator, moderator2):
    with _at(27, month=2):
        submit(category="privacy", locations="https://app.example.com/february", name="", email="")
    privacy = _notice_and_decision(
        moderator,
        category="privacy",
        channel="web",
        target="a",
        hours=10,
        action="remove_content",
        ground="terms",
        legal_reference="Terms 4",
    )
    _notice_and_decision(
        moderator,
        category="harassment",
        channel="trusted_flagger",
        target="b",
        hours=20,
        action="suspend_account",
        ground="illegal",
        legal_reference="§ 238 StGB",
    )
    _notice_and_decision(
        moderator, category="spam", channel="web", target="c", hours=30, action="none", ground="", legal_reference=""
    )
    defamation = _notice_and_decision(
        moderator,
        category="defamation",
        channel="api",
        target="d",
        hours=40,
        action="restrict_account",
        ground="illegal",
        legal_reference="§ 186 StGB",
    )
    Appeal.objects.create(
        decision=privacy,
        appellant="target",
        statement="No.",
        status="overturned",
        new_action="none",
        filed_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
        decided_at=datetime(2026, 3, 22, 9, tzinfo=UTC),
        decided_by=moderator2,
        original_decider=moderator,
    )
    Appeal.objects.create(
        decision=defamation,
        appellant="reporter",
        statement="More.",
        filed_at=datetime(2026, 3, 25, 9, tzinfo=UTC),
        original_decider=moderator,
    )
    march = datetime(2026, 3, 12, tzinfo=UTC)
    ReporterStanding.objects.create(key="email:abc", suspended_at=march, suspended_until=march + timedelta(days=30))
    ReporterStanding.objects.create(key="ip:def", suspended_at=march, suspended_until=march + timedelta(hours=1))
    assert Decision.objects.count() == 4


EXPECTED = [
    (r.NOTICES, "Notices received", "total", 4),
    (
        r.NOTICES,
        "Notices received by type of alleged illegal content",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        1,
    ),
    (r.NOTICES, "Notices received by type of alleged illegal content", "STATEMENT_CATEGORY_CYBER_VIOLENCE", 1),
    (r.NOTICES, "Notices received by type of alleged illegal content", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", 1),
    (
        r.NOTICES,
        "Notices received by type of alleged illegal content",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        1,
    ),
    (r.NOTICES, "Notices received by type of alleged illegal content", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", 0),
    (r.NOTICES, "Notices submitted by trusted flaggers", "", 1),
    (r.NOTICES, "Actions taken on notices", "on the basis of the law", 2),
    (r.NOTICES, "Actions taken on notices", "on the basis of the terms and conditions", 1),
    (r.NOTICES, "Decisions on notices taking no action", "", 1),
    (r.NOTICES, "Notices processed by automated means", "", 0),
    (r.NOTICES, "Median time to take action (hours)", "", 25.0),
    (r.OWN, "Measures taken on the provider's own initiative", "total", 0),
    (r.RESTRICTIONS, "Decisions by type of restriction", "decision_visibility", 1),
    (r.RESTRICTIONS, "Decisions by type of restriction", "decision_provision", 1),
    (r.RESTRICTIONS, "Decisions by type of restriction", "decision_account", 1),
    (r.RESTRICTIONS, "Decisions by type of restriction", "no restriction", 1),
    (r.RESTRICTIONS, "Decisions by ground", "illegal content", 2),
    (r.RESTRICTIONS, "Decisions by ground", "incompatible with the terms", 1),
    (r.RESTRICTIONS, "Decisions by ground", "none", 1),
    (r.COMPLAINTS, "Complaints received", "total", 2),
    (r.COMPLAINTS, "Complaints received", "by target", 1),
    (r.COMPLAINTS, "Complaints received", "by reporter", 1),
    (r.COMPLAINTS, "Complaints decided", "decision upheld", 0),
    (r.COMPLAINTS, "Complaints decided", "decision reversed", 1),
    (r.COMPLAINTS, "Complaints pending at the end of the period", "", 1),
    (r.COMPLAINTS, "Median time to decide (days)", "", 2.0),
    (r.SUSPENSIONS, "Suspensions for providing manifestly illegal content", "", 1),
    (r.SUSPENSIONS, "Suspensions for manifestly unfounded notices", "", 1),
]


def test_march_figures_match_hand_count(seeded_march):
    report = r.build_report(*MARCH)
    for section, item, breakdown, value in EXPECTED:
        assert report.value(section, item, breakdown) == value, (section, item, breakdown)
    assert report.value("0. Identification", "Reporting period end") == "2026-03-31"


def test_unknown_cells_are_empty_and_listed(seeded_march):
    report = r.build_report(*MARCH)
    listed = {(section, item) for section, item, _why in report.unknown}
    assert (r.DISPUTES, "Disputes submitted") in listed
    assert ("H. Average monthly active recipients (Art. 24(2))", "Average monthly active recipients") in listed
    for section, item in listed:
        assert report.value(section, item) is None


def test_xlsx_reads_back_with_the_same_figures(seeded_march, tmp_path):
    target = tmp_path / "march.xlsx"
    call_command("dsa_transparency_report", "--from", "2026-03-01", "--to", "2026-03-31", "-o", str(target))
    book = load_workbook(target)
    cells = {}
    for sheet in book.worksheets[:-1]:
        section = sheet["A1"].value
        for item, breakdown, value in sheet.iter_rows(min_row=3, values_only=True):
            cells[(section, item, breakdown or "")] = value
    for section, item, breakdown, value in EXPECTED:
        assert cells[(section, item, breakdown)] == value, (section, item, breakdown)
    unknown = list(book["Not known to the portal"].iter_rows(min_row=2, values_only=True))
    assert (r.DISPUTES, "Disputes submitted") in [(s, i) for s, i, _w in unknown]


def test_csv_has_the_same_figures(seeded_march, capsys):
    call_command("dsa_transparency_report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == list(r.HEADER)
    assert [r.NOTICES, "Notices received", "total", "4"] in rows
    assert [r.COMPLAINTS, "Median time to decide (days)", "", "2.0"] in rows


def test_admin_page_downloads_the_report(seeded_march, moderator, staff_client):
    client = staff_client(moderator)
    url = "/admin/abuse_app/statementsubmission/transparency-report/"
    assert client.get(url).status_code == 200
    response = client.get(url, {"first": "2026-03-01", "last": "2026-03-31", "format": "xlsx"})
    assert response["Content-Disposition"].endswith('"dsa-transparency-report-2026-03-01-2026-03-31.xlsx"')
    assert load_workbook(io.BytesIO(response.content))["B. Notices"]["C3"].value == 4
    bad = client.get(url, {"first": "2026-03-31", "last": "2026-03-01", "format": "csv"})
    assert b"before the first day" in bad.content


def test_command_refuses_a_bad_date():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("dsa_transparency_report", "--from", "2026-13-01", "--to", "2026-03-31", "--format", "csv")
