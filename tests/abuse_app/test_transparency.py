"""Transparency figures (DSA Art. 15): page, JSON and CSV for a period."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from abuse_app import services
from abuse_app.models import Appeal, Case, Decision
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(moderator, moderator2):
    # Decisions land 10 h after the notice: freeze the clock early in the day so "today" holds them
    # whatever hour the suite runs at (it failed every afternoon before).
    with time_machine.travel(datetime(2026, 6, 15, 6, 0, tzinfo=UTC), tick=True):
        yield _history(moderator, moderator2)


def _history(moderator, moderator2):
    submit(category="privacy", locations="https://a.example/1")
    submit(category="privacy", locations="https://a.example/2", email="b@example.com")
    submit(category="spam", locations="https://a.example/3", email="c@example.com", channel="api")
    cases = list(Case.objects.order_by("id"))
    first = services.case_decide(
        case=cases[0],
        actor=moderator,
        action="remove_content",
        ground="illegal",
        legal_reference="GDPR Art. 6",
        facts="No consent.",
    )
    services.case_decide(
        case=cases[1],
        actor=moderator,
        action="none",
        ground="",
        legal_reference="",
        facts="Nothing wrong.",
        automated=True,
    )
    Decision.objects.filter(pk=first.pk).update(decided_at=cases[0].first_received_at + timedelta(hours=10))
    appeal = services.appeal_file(decision=first, appellant="target", statement="Mine.")
    services.appeal_decide(appeal=appeal, actor=moderator2, outcome=Appeal.Status.UPHELD, reasons="Still no consent.")


def test_transparency_figures_count_notices_decisions_appeals(history):
    today = timezone.localdate()
    figures = services.transparency_figures(*_day_range(today))
    assert figures["notices"]["total"] == 3
    assert figures["notices"]["by_category"] == {"privacy": 2, "spam": 1}
    assert figures["notices"]["by_channel"] == {"api": 1, "web": 2}
    assert figures["decisions"]["by_action"] == {"none": 1, "remove_content": 1}
    assert figures["decisions"]["by_ground"] == {"illegal": 1, "none": 1}
    assert figures["decisions"]["automated_share"] == 0.5
    assert figures["decisions"]["median_hours_to_decision"] is not None
    assert figures["appeals"] == {"total": 1, "by_outcome": {"upheld": 1}, "by_appellant": {"target": 1}}


def _day_range(day):
    from datetime import datetime, time

    tz = timezone.get_current_timezone()
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def test_transparency_page_json_and_csv(client, history):
    page = client.get("/transparency/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Privacy invasion or harvesting personal data without consent" in html and "50.0 %" in html
    data = client.get("/transparency/?format=json").json()
    assert data["notices"]["total"] == 3
    response = client.get("/transparency/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "key", "value"]
    assert ["notices.by_category", "privacy", "2"] in rows


def test_transparency_bad_dates_explained_not_500(client):
    response = client.get("/transparency/?from=yesterday&to=2025-13-40")
    assert response.status_code == 200
    assert "Dates must look like" in response.content.decode()
    reversed_range = client.get("/transparency/?from=2025-02-01&to=2025-01-01")
    assert "end date is before the start date" in reversed_range.content.decode()


def test_transparency_past_period_excludes_today(client, history):
    data = client.get("/transparency/?from=2020-01-01&to=2020-12-31&format=json").json()
    assert data["notices"]["total"] == 0 and data["decisions"]["median_hours_to_decision"] is None


def test_transparency_counts_people_suspended_not_keys(client, moderator, settings):
    """One reporter suspended (e-mail + address behind them) is one person, not two."""
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 1
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 2
    with time_machine.travel(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), tick=False):
        for i in range(2):
            submit(email="troll@example.com", locations=f"https://a.example/u/{i}", ip="198.51.100.4")
            services.case_decide(
                case=Case.objects.open().get(target_display__endswith=f"/u/{i}"),
                actor=moderator,
                action="none",
                ground="",
                legal_reference="",
                facts="Nothing wrong.",
                manifestly_unfounded=True,
            )
        data = client.get("/transparency/?from=2026-07-01&to=2026-07-31&format=json").json()
    assert data["reporters_suspended"] == 1
    earlier = client.get("/transparency/?from=2026-06-01&to=2026-06-30&format=json").json()
    assert earlier["reporters_suspended"] == 0


def test_transparency_numbers_right_aligned(client, history):
    html = client.get("/transparency/").content.decode()
    assert '<td class="num">2</td>' in html


# Every date parameter a person (or a fuzzer) can send: the page answers 200 with a form error, the
# machine formats a 400 naming the rule; never a 500 (9999-12-31 overflowed "the day after").
_ODD_DATES = [
    "9999-12-31",
    "0001-01-01",
    "1999-12-31",
    "2100-01-01",
    "2026-02-30",
    "2026-13-01",
    "-2026-01-01",
    "+2026-01-01",
    "20260101x",
    "2026-W01-1",
    "2026-01-01T00:00",
    "9" * 40,
    "",
    " ",
    "2026-01-01\u0660",
    "%00",
    "2026-01-01\n",
    "0000-00-00",
    "2026-1-1",
]


@pytest.mark.parametrize("param", ["from", "to"])
@pytest.mark.parametrize("value", _ODD_DATES)
def test_transparency_dates_never_500(client, param, value):
    other = {"from": "2026-01-01", "to": "2026-01-31"}
    query = {**other, param: value}
    page = client.get("/transparency/", query)
    assert page.status_code in (200, 400)
    for fmt in ("json", "csv"):
        response = client.get("/transparency/", {**query, "format": fmt})
        assert response.status_code in (200, 400), (value, fmt)
        if response.status_code == 400 and response["Content-Type"].startswith("application/json"):
            assert "2025-01-31" in response.json()["error"]["message"]


def test_transparency_far_future_end_is_a_form_error(client):
    page = client.get("/transparency/?to=9999-12-31")
    assert page.status_code == 200
    assert "Dates must lie between 2000-01-01 and 2099-12-31" in page.content.decode()
    data = client.get("/transparency/?from=2026-01-01&to=9999-12-31&format=json")
    assert data.status_code == 400
    assert data.json()["error"]["code"] == "invalid_period"
