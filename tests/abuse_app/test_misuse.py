"""DSA Art. 23: repeated manifestly unfounded notices → warning, then suspension (audited)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from abuse_app import services
from abuse_app.models import Case, Notice, ReporterStanding, mask_email
from portal import tokens
from portal.models import AuditEvent
from tests.abuse_app.conftest import report_data, submit

pytestmark = pytest.mark.django_db


def _unfounded(moderator, n: int, email="troll@example.com"):
    for i in range(n):
        submit(email=email, locations=f"https://app.example.com/item/{i}-{email}", ip=f"203.0.113.{i + 1}")
        case = Case.objects.filter(status="open").get(target_display__endswith=f"{i}-{email}")
        services.case_decide(
            case=case,
            actor=moderator,
            action="none",
            ground="",
            legal_reference="",
            facts="The content is a cooking recipe.",
            manifestly_unfounded=True,
        )


def test_misuse_warned_then_suspended_and_audited(client, moderator, settings, django_capture_on_commit_callbacks):
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
    response = client.post("/report/", report_data(reporter_email="troll@example.com"), REMOTE_ADDR="192.0.2.200")
    assert response.status_code == 400
    assert "not processing new reports from you until" in response.content.decode()
    assert Notice.objects.count() == before


def test_misuse_not_counted_for_decisions_with_action(moderator):
    submit()
    with pytest.raises(services.AbuseError, match="no action"):
        services.case_decide(
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


@pytest.mark.usefixtures("one_rate_window")
def test_address_gets_only_a_short_cooldown_never_a_suspension(client, moderator, settings):
    """Everyone behind one NAT address must not be locked out for a month by one person's misuse."""
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 1
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 2
    settings.PORTAL_ABUSE_IP_COOLDOWN_HOURS = 1
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for i in range(2):  # anonymous notices (no e-mail) from one shared address
            submit(email="", name="", locations=f"https://app.example.com/nat/{i}", ip="198.51.100.99")
            case = Case.objects.open().get(target_display__endswith=f"/nat/{i}")
            services.case_decide(
                case=case,
                actor=moderator,
                action="none",
                ground="",
                legal_reference="",
                facts="A recipe.",
                manifestly_unfounded=True,
            )
        standing = ReporterStanding.objects.get(key="ip:" + tokens.pseudonymise("198.51.100.99"))
        assert standing.suspended_until == start + timedelta(hours=1)
        assert standing.warned_at is None and standing.suspended_at is None
        assert AuditEvent.objects.filter(action="abuse.address_cooldown").count() == 1
        # During the cooldown: a 429 with Retry-After, nothing stored.
        before = Notice.objects.count()
        response = client.post("/report/", report_data(reporter_email=""), REMOTE_ADDR="198.51.100.99")
        assert response.status_code == 429
        assert Notice.objects.count() == before
    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        response = client.post("/report/", report_data(reporter_email=""), REMOTE_ADDR="198.51.100.99")
        assert response.status_code == 302


def test_suspension_by_email_does_not_block_the_address(client, moderator, settings):
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 1
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 2
    with time_machine.travel(datetime(2026, 5, 4, 10, 0, tzinfo=UTC), tick=False):
        for i in range(2):
            submit(email="troll@example.com", locations=f"https://app.example.com/t/{i}", ip="198.51.100.5")
            case = Case.objects.open().get(target_display__endswith=f"/t/{i}")
            services.case_decide(
                case=case,
                actor=moderator,
                action="none",
                ground="",
                legal_reference="",
                facts="A recipe.",
                manifestly_unfounded=True,
            )
    with time_machine.travel(datetime(2026, 5, 4, 13, 0, tzinfo=UTC), tick=False):
        assert ReporterStanding.objects.get(key__startswith="email:").is_suspended
        assert not ReporterStanding.objects.get(key__startswith="ip:").is_suspended
        # Someone else behind the same address can still report.
        response = client.post(
            "/report/", report_data(reporter_email="neighbour@example.com"), REMOTE_ADDR="198.51.100.5"
        )
        assert response.status_code == 302


def test_standing_shows_masked_email_beside_hash(moderator, staff_client, settings):
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 1
    settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER = 5
    _unfounded(moderator, 1, email="Alice.Smith@Example.com")
    standing = ReporterStanding.objects.get(key__startswith="email:")
    assert standing.label == "A***@example.com"
    html = staff_client(moderator).get("/admin/abuse_app/reporterstanding/").content.decode()
    assert "A***@example.com" in html and standing.key[:14] in html
    assert "Alice.Smith" not in html
    assert "abuse_app/admin.css" in html  # keeps the table beside the filter panel


def test_mask_email_keeps_first_letter_and_domain():
    assert mask_email("bob@example.org") == "b***@example.org"
    assert mask_email("not-an-address") == "***"
