"""Case carries its state machine and its queries (transition, note, QuerySet methods)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from abuse_app.models import Case, InvalidCaseTransition
from portal.models import AuditEvent
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db


def test_transition_changes_status_and_audits_once(moderator):
    submit()
    case = Case.objects.get()
    case.transition(Case.Status.IN_REVIEW, actor=moderator, action="abuse.assigned", assigned_to=moderator)
    case.refresh_from_db()
    assert case.status == "in_review" and case.assigned_to == moderator
    event = AuditEvent.objects.get(action="abuse.assigned")
    assert (event.from_status, event.to_status) == ("open", "in_review")


def test_transition_not_allowed_is_refused_and_not_audited(moderator):
    submit()
    case = Case.objects.get()
    with pytest.raises(InvalidCaseTransition, match="cannot become"):
        case.transition(Case.Status.CLOSED, actor=moderator, action="abuse.closed")
    case.refresh_from_db()
    assert case.status == "open"
    assert not AuditEvent.objects.filter(action="abuse.closed").exists()


def test_queryset_open_overdue_and_due_within():
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=UTC), tick=False):
        submit(category="harassment", locations="https://app.example.com/h")  # 48 h SLA
        submit(category="other", locations="https://app.example.com/o")  # 14 days
        assert Case.objects.open().count() == 2
        assert Case.objects.due_within(72).count() == 1
        assert not Case.objects.overdue().exists()
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=UTC) + timedelta(days=3), tick=False):
        assert [c.target_display for c in Case.objects.overdue()] == ["https://app.example.com/h"]
