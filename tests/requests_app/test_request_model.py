"""PrivacyRequest and StoreTask carry their state machines and their queries (issue 25)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.models import AuditEvent
from portal.transitions import InvalidTransition
from requests_app.models import PrivacyRequest, StoreTask

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
Status = PrivacyRequest.Status


def _request(status=Status.VERIFIED, *, due_in_days=None, **fields):
    due = NOW + timedelta(days=due_in_days) if due_in_days is not None else None
    return PrivacyRequest.objects.create(
        kind="access", email="sam@example.com", status=status, due_at=due, received_at=NOW, **fields
    )


def test_transition_saves_only_its_fields_and_audits_once():
    request = _request()
    PrivacyRequest.objects.filter(pk=request.pk).update(decision_reason="written meanwhile by another step")
    request.transition(Status.APPROVED, actor="system:test", action="request.approved", approved_at=NOW)
    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.approved_at == NOW
    assert request.decision_reason == "written meanwhile by another step"  # a stale copy overwrites nothing
    event = AuditEvent.objects.get(subject_id=str(request.pk))
    assert (event.action, event.from_status, event.to_status) == ("request.approved", "verified", "approved")


def test_transition_to_a_closed_status_stamps_closed_at_once():
    with time_machine.travel(NOW, tick=False):
        request = _request(Status.VERIFIED)
        request.transition(Status.DENIED, actor=None, action="request.denied")
    request.refresh_from_db()
    assert request.closed_at == NOW


def test_transition_not_allowed_is_refused_and_not_audited():
    request = _request(Status.UNVERIFIED)
    with pytest.raises(InvalidTransition, match="A request that is “waiting for e-mail confirmation” cannot become"):
        request.transition(Status.RUNNING, actor=None, action="execution_started")
    request.refresh_from_db()
    assert request.status == Status.UNVERIFIED and not AuditEvent.objects.exists()


def test_note_records_the_current_status_on_both_sides():
    request = _request(Status.RUNNING)
    request.note(actor="system:test", action="request.looked_at")
    event = AuditEvent.objects.get()
    assert (event.from_status, event.to_status) == ("running", "running")
    assert list(request.timeline()) == [event]


def test_note_with_one_side_given_records_that_change():
    request = _request(Status.UNVERIFIED)
    request.note(actor="system:test", action="request.imported", to_status=Status.UNVERIFIED)
    event = AuditEvent.objects.get()
    assert (event.from_status, event.to_status) == ("", "unverified")


def test_queryset_open_awaiting_review_and_deadlines():
    with time_machine.travel(NOW, tick=False):
        overdue = _request(Status.RUNNING, due_in_days=-1)
        soon = _request(Status.VERIFIED, due_in_days=3)
        later = _request(Status.APPROVED, due_in_days=30)
        extended = _request(Status.VERIFIED, due_in_days=-2, extended_due_at=NOW + timedelta(days=40))
        _request(Status.UNVERIFIED)
        _request(Status.COMPLETED, due_in_days=-5)
        requests = PrivacyRequest.objects
        assert requests.open().count() == 5
        assert set(requests.awaiting_review()) == {soon, extended}
        assert set(requests.overdue()) == {overdue}
        assert set(requests.due_within(timedelta(days=7))) == {overdue, soon}
        assert {r.pk: r.effective_due for r in requests.with_deadline()}[extended.pk] == extended.extended_due_at
        assert later not in requests.due_within(timedelta(days=7))


def _task(status=StoreTask.Status.PENDING):
    return StoreTask.objects.create(
        request=_request(Status.RUNNING), store="db", store_kind="sql", phase="erase", status=status
    )


def test_store_task_runs_then_succeeds_saving_the_named_result_fields():
    task = _task()
    task.start_attempt(now=NOW)
    task.erased_count = 3
    task.succeed(now=NOW, also=["erased_count"])
    task.refresh_from_db()
    assert (task.status, task.attempts, task.started_at, task.finished_at) == ("succeeded", 1, NOW, NOW)
    assert task.erased_count == 3


def test_store_task_retry_later_then_fail_keeps_the_error():
    task = _task()
    task.start_attempt(now=NOW)
    task.retry_later(at=NOW + timedelta(minutes=1), error="timeout", dispatched_at=NOW)
    task.refresh_from_db()
    assert (task.status, task.next_attempt_at, task.last_error) == ("pending", NOW + timedelta(minutes=1), "timeout")
    task.start_attempt(now=NOW)
    task.fail(now=NOW, error="x" * 3000)
    task.refresh_from_db()
    assert task.status == "failed" and task.attempts == 2 and len(task.last_error) == 2000


def test_store_task_refuses_a_move_its_state_machine_does_not_allow():
    task = _task(StoreTask.Status.SUCCEEDED)
    with pytest.raises(InvalidTransition, match="cannot become “running”"):
        task.start_attempt(now=NOW)
    task.refresh_from_db()
    assert task.status == "succeeded" and task.attempts == 0


def test_reset_for_retry_gives_failed_and_waiting_tasks_a_fresh_budget():
    failed, done = _task(StoreTask.Status.FAILED), _task(StoreTask.Status.SUCCEEDED)
    StoreTask.objects.filter(pk=failed.pk).update(attempts=5)
    assert StoreTask.objects.filter(pk__in=[failed.pk, done.pk]).reset_for_retry() == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
