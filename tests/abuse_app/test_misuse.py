"""DSA Art. 23: repeated manifestly unfounded notices → warning, then suspension (audited)."""

import pytest
from django.core import mail

from abuse_app import services
from abuse_app.models import Case, Notice, ReporterStanding
from portal import tokens
from portal.models import AuditEvent
from tests.abuse_app.conftest import report_data, submit

pytestmark = pytest.mark.django_db


def _unfounded(moderator, n: int, email="troll@example.com"):
    for i in range(n):
        submit(email=email, locations=f"https://app.example.com/item/{i}-{email}", ip=f"203.0.113.{i + 1}")
        case = Case.objects.filter(status="open").get(target_display__endswith=f"{i}-{email}")
        services.decide(
            case=case,
            actor=moderator,
            action="none",
            ground="",
            legal_reference="",
            facts="The content is a cooking recipe.",
            manifestly_unfounded=True,
        )


def test_misuse_warned_then_suspended_and_audited(
    client, moderator, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 2
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 3
    settings.PORTAL_ABUSE_SUSPENSION_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        _unfounded(moderator, 2)
    standing = ReporterStanding.objects.get(key="email:" + tokens.pseudonymise("troll@example.com"))
    assert standing.warned_at and not standing.is_suspended
    assert any("manifestly unfounded" in m.body and m.to == ["troll@example.com"] for m in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        _unfounded(moderator, 1)  # third strike
    standing.refresh_from_db()
    assert standing.is_suspended and standing.unfounded_count == 3
    assert AuditEvent.objects.filter(
        subject_type="abuse_reporter", subject_id=str(standing.pk), action="abuse.reporter_warned"
    ).exists()
    assert AuditEvent.objects.filter(
        subject_type="abuse_reporter", subject_id=str(standing.pk), action="abuse.reporter_suspended"
    ).exists()
    # Further notices from that e-mail are refused with a clear message; nothing stored.
    before = Notice.objects.count()
    response = client.post(
        "/report/", report_data(reporter_email="troll@example.com"), REMOTE_ADDR="192.0.2.200"
    )
    assert response.status_code == 400
    assert "not processing new reports from you until" in response.content.decode()
    assert Notice.objects.count() == before


def test_misuse_not_counted_for_decisions_with_action(moderator):
    submit()
    with pytest.raises(services.AbuseError, match="no action"):
        services.decide(
            case=Case.objects.get(),
            actor=moderator,
            action="remove_content",
            ground="terms",
            legal_reference="§1",
            facts="x",
            manifestly_unfounded=True,
        )
    assert not ReporterStanding.objects.exists()


def test_misuse_suspension_lifted_by_admin_action_audited(moderator, staff_client, settings):
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 1
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 2
    _unfounded(moderator, 2)
    standing = ReporterStanding.objects.get(key__startswith="email:")
    assert standing.is_suspended
    response = staff_client(moderator).post(
        "/admin/abuse_app/reporterstanding/", {"action": "lift_suspension", "_selected_action": [standing.pk]}
    )
    assert response.status_code == 302
    standing.refresh_from_db()
    assert not standing.is_suspended
    assert AuditEvent.objects.filter(action="abuse.suspension_lifted", actor=moderator).exists()
