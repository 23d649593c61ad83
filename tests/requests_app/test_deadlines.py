"""Legal deadlines (computed in the configured time zone, stored) and the daily reminder to staff."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from portal import schedule
from requests_app import deadlines
from requests_app.models import PrivacyRequest, new_reference
from requests_app.services.decisions import request_extend
from requests_app.services.schedule import deadline_reminders_send
from requests_app.services.validation import RequestError
from tests.helpers import wait_until
from tests.requests_app.intake_helpers import committed, verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def test_gdpr_due_one_month_in_configured_time_zone():
    # 31 Jan 23:30 UTC is already 1 Feb in Berlin: the month counts from the local date.
    verified_at = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    due = deadlines.first_due("gdpr", verified_at)
    assert due.astimezone(BERLIN) == datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN)


def test_gdpr_month_end_is_clamped():
    due = deadlines.first_due("gdpr", datetime(2026, 1, 31, 10, 0, tzinfo=BERLIN))
    assert due.astimezone(BERLIN).date().isoformat() == "2026-02-28"


def test_gdpr_extension_two_more_months():
    due = datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN)
    assert deadlines.extended_due("gdpr", due).astimezone(BERLIN).date().isoformat() == "2026-05-01"


def test_ccpa_45_days_plus_45():
    verified_at = datetime(2026, 1, 10, 9, 0, tzinfo=BERLIN)
    due = deadlines.first_due("ccpa", verified_at)
    assert due.astimezone(BERLIN).date().isoformat() == "2026-02-24"
    assert deadlines.extended_due("ccpa", due).astimezone(BERLIN).date().isoformat() == "2026-04-10"


def test_due_date_stored_at_verification_and_never_recomputed():
    request = verified(jurisdiction="ccpa")
    assert request.due_at == deadlines.first_due("ccpa", request.verified_at)
    stored = request.due_at
    PrivacyRequest.objects.filter(pk=request.pk).update(jurisdiction="gdpr")
    request.refresh_from_db()
    assert request.due_at == stored


def test_extension_uses_stored_due_date(officer):
    request = verified(jurisdiction="ccpa")
    request = request_extend(request=request, actor=officer, reason="Complex")
    assert request.extended_due_at - request.due_at == timedelta(days=45)
    assert request.effective_due_at == request.extended_due_at


def test_extension_reason_required(officer):
    request = verified()
    with pytest.raises(RequestError, match="reason is required"):
        request_extend(request=request, actor=officer, reason="   ")


def test_extension_refused_for_unverified():
    from tests.requests_app.intake_helpers import submit

    request, _ = submit()
    with pytest.raises(RequestError, match="Only a confirmed, open request"):
        request_extend(request=request, actor=None, reason="x")


def _due(days, **fields):
    now = timezone.now()
    return PrivacyRequest.objects.create(
        kind="deletion",
        email=f"{new_reference().lower()}@example.com",
        status=fields.pop("status", "verified"),
        verified_at=now,
        due_at=now + timedelta(days=days),
        **fields,
    )


def test_reminders_go_to_assignee_or_privacy_officers(officer, admin_user):
    mine = _due(3, assigned_to=admin_user)
    overdue = _due(-2)
    later = _due(30)
    closed = _due(-5, status="completed")
    extended = _due(-1, extended_due_at=timezone.now() + timedelta(days=50))
    with committed():
        sent = deadline_reminders_send()
    assert sent == 2
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {admin_user.email, officer.email}
    assert mine.reference in by_recipient[admin_user.email].body
    officer_mail = by_recipient[officer.email]
    assert overdue.reference in officer_mail.body and "OVERDUE" in officer_mail.body
    assert "1 overdue, 0 due within 7 days" in officer_mail.subject
    for absent in (later, closed, extended):
        assert all(absent.reference not in m.body for m in mail.outbox)
    assert all("@example.com" not in m.body for m in mail.outbox)  # no requester data to staff by e-mail
    assert f"/admin/requests_app/privacyrequest/{overdue.pk}/change/" in officer_mail.body


def test_reminders_without_officers_go_to_operator_contact():
    _due(1)
    with committed():
        deadline_reminders_send()
    assert mail.outbox[0].to == [django_settings.PORTAL_OPERATOR_CONTACT]


def test_intake_beat_entries_registered():
    tasks = {entry["task"] for entry in schedule.entries().values()}
    assert {"requests.expire_unverified", "requests.purge_closed_pii", "requests.deadline_reminders"} <= tasks


@pytest.mark.django_db(transaction=True)
def test_reminder_task_runs_on_a_real_worker(celery_worker, officer):
    from requests_app.tasks import deadline_reminders

    _due(2)
    mail.outbox.clear()
    deadline_reminders.delay()
    assert wait_until(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == [officer.email]
