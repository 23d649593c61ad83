"""Reporters' names and e-mails are purged once their cases and appeal windows are closed.

The clock is frozen: decisions on 2026-01-05, appeal window 184 days (to 2026-07-08),
retention 90 days after that (to 2026-10-06).
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from abuse_app import services
from abuse_app.models import Appeal, Case, Notice, ReporterStanding
from abuse_app.schedule import BEAT_SCHEDULE
from abuse_app.tasks import purge_reporters
from portal import tokens
from portal.models import AuditEvent
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db

DECIDED = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BEFORE_DUE = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)  # window + retention not yet over
AFTER_DUE = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.PORTAL_ABUSE_APPEAL_DAYS = 184
    settings.PORTAL_ABUSE_REPORTER_RETENTION_DAYS = 90


def _decide(case, moderator):
    return services.case_decide(
        case=case, actor=moderator, action="none", ground="", legal_reference="", facts="Nothing wrong."
    )


def _decided_notice(moderator, location="https://app.example.com/r/1", email="alice@example.com"):
    with time_machine.travel(DECIDED, tick=False):
        submitted = submit(locations=location, email=email, name="Alice Reporter")
        _decide(submitted.cases[0], moderator)
    return submitted.notice


def test_purge_blanks_identity_after_window_and_retention_keeps_pseudonym(moderator):
    notice = _decided_notice(moderator)
    with time_machine.travel(BEFORE_DUE, tick=False):
        assert services.reporter_identities_purge() == 0
    with time_machine.travel(AFTER_DUE, tick=False):
        assert purge_reporters() == 1
        assert purge_reporters() == 0  # idempotent
    notice.refresh_from_db()
    assert notice.reporter_name == "" and notice.reporter_email == ""
    assert notice.reporter_purged_at == AFTER_DUE
    assert notice.reporter_pseudonym == "email:" + tokens.pseudonymise("alice@example.com")
    event = AuditEvent.objects.get(action="abuse.reporter_purged")
    assert event.data == {"pseudonym": notice.reporter_pseudonym}
    assert "alice" not in str(event.data).lower()


def test_purge_keeps_open_cases_pending_appeals_and_legal_holds(moderator, moderator2):
    with time_machine.travel(DECIDED, tick=False):
        submit(locations="https://app.example.com/open", email="open@example.com")
        held = submit(locations="https://app.example.com/held", email="held@example.com")
        _decide(held.cases[0], moderator)
        services.case_place_legal_hold(case=held.cases[0], actor=moderator, days=400, reason="police request")
        appealed = submit(locations="https://app.example.com/appealed", email="appeal@example.com")
        decision = _decide(appealed.cases[0], moderator)
        services.appeal_file(decision=decision, appellant="reporter", notice=appealed.notice, statement="No.")
    with time_machine.travel(AFTER_DUE, tick=False):
        assert services.reporter_identities_purge() == 0
    assert Notice.objects.exclude(reporter_email="").count() == 3


def test_purge_waits_for_retention_after_a_late_appeal_decision(moderator, moderator2):
    with time_machine.travel(DECIDED, tick=False):
        submitted = submit(email="late@example.com")
        decision = _decide(submitted.cases[0], moderator)
        appeal = services.appeal_file(
            decision=decision, appellant="reporter", notice=submitted.notice, statement="Please look again."
        )
    with time_machine.travel(datetime(2026, 9, 1, tzinfo=UTC), tick=False):
        services.appeal_decide(appeal=appeal, actor=moderator2, outcome="upheld", reasons="Still fine.")
    with time_machine.travel(AFTER_DUE, tick=False):  # 36 days after the appeal decision
        assert services.reporter_identities_purge() == 0
    with time_machine.travel(datetime(2026, 12, 1, tzinfo=UTC), tick=False):
        assert services.reporter_identities_purge() == 1
    assert Appeal.objects.get().contact_email == ""


def test_purge_blanks_target_appellant_contact(moderator, moderator2):
    with time_machine.travel(DECIDED, tick=False):
        submitted = submit()
        decision = services.case_decide(
            case=submitted.cases[0],
            actor=moderator,
            action="remove_content",
            ground="terms",
            legal_reference="§1",
            facts="x",
        )
        appeal = services.appeal_file(
            decision=decision, appellant="target", statement="Mine.", contact_email="owner@example.net"
        )
        services.appeal_decide(appeal=appeal, actor=moderator2, outcome="upheld", reasons="Stays.")
    with time_machine.travel(AFTER_DUE, tick=False):
        services.reporter_identities_purge()
    assert Appeal.objects.get().contact_email == ""
    assert AuditEvent.objects.filter(action="abuse.appellant_contact_purged").count() == 1


def test_misuse_history_survives_the_purge(moderator, settings):
    settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER = 5
    with time_machine.travel(DECIDED, tick=False):
        submitted = submit(email="troll@example.com")
        services.case_decide(
            case=submitted.cases[0],
            actor=moderator,
            action="none",
            ground="",
            legal_reference="",
            facts="A recipe.",
            manifestly_unfounded=True,
        )
    with time_machine.travel(AFTER_DUE, tick=False):
        services.reporter_identities_purge()
    submitted.notice.refresh_from_db()
    assert ReporterStanding.objects.filter(key=submitted.notice.reporter_pseudonym).exists()


def test_purge_command_dry_run_and_beat_entry(moderator):
    _decided_notice(moderator)
    out = StringIO()
    with time_machine.travel(AFTER_DUE, tick=False):
        call_command("purge_abuse_reporters", "--dry-run", stdout=out)
    assert "would purge the reporter's name and e-mail of 1 notice(s)" in out.getvalue()
    assert Notice.objects.exclude(reporter_email="").count() == 1
    assert BEAT_SCHEDULE["abuse-purge-reporters"]["task"] == "abuse.purge_reporters"


def test_purge_batches_updates_one_audit_insert_per_notice(moderator, django_assert_max_num_queries):
    for i in range(6):
        _decided_notice(moderator, location=f"https://app.example.com/q/{i}", email=f"r{i}@example.com")
    with time_machine.travel(AFTER_DUE, tick=False), django_assert_max_num_queries(16):
        assert services.reporter_identities_purge() == 6
    assert Case.objects.count() == 6
