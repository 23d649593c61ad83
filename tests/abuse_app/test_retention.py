"""Evidence retention: purged after the appeal window, never for child safety or legal hold."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from abuse_app import services
from abuse_app.models import Case, Decision, Evidence
from abuse_app.tasks import purge_evidence
from portal.models import AuditEvent
from tests.abuse_app.conftest import PNG, report_data, upload

pytestmark = pytest.mark.django_db


def _case_with_evidence(client, location):
    client.post("/report/", report_data(locations=location, evidence=[upload("e.png", PNG)]))
    return Case.objects.get(target_display=location)


def _decided_long_ago(case, moderator, days=200):
    decision = services.case_decide(
        case=case,
        actor=moderator,
        action="remove_content",
        ground="terms",
        legal_reference="§2",
        facts="Facts.",
    )
    old = timezone.now() - timedelta(days=days)
    Decision.objects.filter(pk=decision.pk).update(decided_at=old)
    Case.objects.filter(pk=case.pk).update(decided_at=old)


def test_purge_deletes_only_evidence_past_appeal_window(client, moderator, django_capture_on_commit_callbacks):
    old = _case_with_evidence(client, "https://app.example.com/old")
    recent = _case_with_evidence(client, "https://app.example.com/recent")
    _case_with_evidence(client, "https://app.example.com/open")
    _decided_long_ago(old, moderator)
    _decided_long_ago(recent, moderator, days=10)
    old_evidence = Evidence.objects.get(notice__cases=old)
    path = old_evidence.file.path
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_evidence() == 1
    old_evidence.refresh_from_db()
    assert old_evidence.purged_at and not old_evidence.file
    assert old_evidence.sha256  # proof of what was received stays
    import os

    assert not os.path.exists(path)
    assert Evidence.objects.filter(purged_at__isnull=True).count() == 2
    assert AuditEvent.objects.filter(action="abuse.evidence_purged").count() == 1


def test_purge_never_touches_child_safety_or_legal_hold(client, moderator):
    held = _case_with_evidence(client, "https://app.example.com/held")
    services.case_place_legal_hold(case=held, actor=moderator, days=365, reason="police request")
    _decided_long_ago(held, moderator)
    # A child-safety notice joining a case that already had evidence puts it all under hold.
    joined = _case_with_evidence(client, "https://app.example.com/joined")
    client.post(
        "/report/?lane=child-safety",
        {
            "lane": "child-safety",
            "category": "minors",
            "locations": "https://app.example.com/joined",
            "explanation": "A child is shown.",
            "good_faith": "on",
        },
    )
    joined.refresh_from_db()
    assert joined.is_child_safety and joined.legal_hold_until
    _decided_long_ago(joined, moderator, days=400)
    assert services.evidence_purge(now=timezone.now()) == 0
    assert Evidence.objects.filter(purged_at__isnull=True).count() == 2


def test_purge_command_dry_run_counts_without_deleting(client, moderator):
    _decided_long_ago(_case_with_evidence(client, "https://app.example.com/x"), moderator)
    out = StringIO()
    call_command("purge_abuse_evidence", "--dry-run", stdout=out)
    assert "would delete 1" in out.getvalue()
    assert Evidence.objects.filter(purged_at__isnull=True).count() == 1


def test_purged_evidence_download_explains_why(client, moderator, staff_client):
    case = _case_with_evidence(client, "https://app.example.com/gone")
    _decided_long_ago(case, moderator)
    services.evidence_purge()
    evidence = Evidence.objects.get()
    response = staff_client(moderator).get(f"/admin/abuse_app/notice/evidence/{evidence.pk}/download/", follow=True)
    assert "was deleted on" in response.content.decode()
