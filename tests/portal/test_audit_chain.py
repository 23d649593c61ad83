"""The audit trail is a hash chain: verify_audit finds an edited, deleted or reordered event."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase

from portal import audit, audit_chain
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(n: int = 5) -> list[AuditEvent]:
    with time_machine.travel("2026-12-01 10:00:00+00:00", tick=False):
        events = [
            audit.record(
                subject_type="privacy_request",
                subject_id=i,
                action="request.received",
                actor="requester",
                to_status="unverified",
                data={"n": i},
            )
            for i in range(n)
        ]
    audit_chain.seal()
    return events


def _raw_update(pk: int, **fields) -> None:
    """What someone with database access does: bypass the model (which refuses updates)."""
    AuditEvent.objects.filter(pk=pk).update(**fields)


def test_events_are_chained_in_order():
    events = _events()
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5] and [r.pk for r in rows] == [e.pk for e in events]
    assert rows[0].prev_hash == audit_chain.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
    report = audit_chain.verify()
    assert report.ok and report.checked == 5 and report.head_hash == rows[-1].hash


def test_verify_audit_catches_an_edited_row_and_names_it(capsys):
    events = _events()
    call_command("verify_audit")
    assert "OK: 5 event(s)" in capsys.readouterr().out
    _raw_update(events[2].pk, reason="nothing happened here")
    with pytest.raises(
        CommandError,
        match=rf"BROKEN after 2 good event\(s\): event seq 3 \(id {events[2].pk}, "
        r"request.received.*was changed after it was written",
    ):
        call_command("verify_audit")


@pytest.mark.parametrize(
    "field, value",
    [("action", "request.canceled"), ("actor_label", "someone else"), ("data", {"n": 99}), ("subject_id", "77")],
)
def test_any_edited_field_breaks_the_chain(field, value):
    events = _events()
    _raw_update(events[1].pk, **{field: value})
    report = audit_chain.verify()
    assert not report.ok and "seq 2" in report.problem


def test_a_deleted_event_is_found():
    events = _events()
    with connection.cursor() as cursor:  # the model refuses delete(); raw SQL does not
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[3].pk])
    report = audit_chain.verify()
    assert not report.ok and "seq 4 is missing" in report.problem


def test_a_recomputed_chain_is_caught_by_the_anchor():
    events = _events()
    head = audit_chain.verify()
    _raw_update(events[0].pk, reason="rewritten")
    # The attacker recomputes every hash after the edit: the chain alone looks fine again...
    prev = audit_chain.GENESIS
    for event in AuditEvent.objects.order_by("seq"):
        _raw_update(event.pk, prev_hash=prev, hash=audit_chain.event_hash(prev, event))
        prev = audit_chain.event_hash(prev, event)
    assert audit_chain.verify().ok
    # ...but not against the anchor the operator received by e-mail.
    with pytest.raises(CommandError, match="differs from the anchor"):
        call_command("verify_audit", anchor=f"{head.head_seq}:{head.head_hash}")


def test_events_are_sealed_when_their_transaction_commits():
    with TestCase.captureOnCommitCallbacks(execute=True):
        audit.record(subject_type="api_key", subject_id=1, action="api_key.created", actor="system")
        audit.record(subject_type="api_key", subject_id=1, action="api_key.revoked", actor="system")
    assert list(AuditEvent.objects.order_by("id").values_list("seq", flat=True)) == [1, 2]


def test_unsealed_events_older_than_ten_minutes_are_reported():
    with time_machine.travel("2026-12-01 10:00:00+00:00", tick=False):
        audit.record(subject_type="api_key", subject_id=1, action="api_key.created", actor="system")
    with time_machine.travel("2026-12-01 10:11:00+00:00", tick=False):
        report = audit_chain.verify()
    assert not report.ok and "not in the chain" in report.problem


def test_daily_anchor_goes_to_the_log_and_the_operator(settings, caplog):
    settings.PORTAL_AUDIT_ANCHOR_EMAIL = "auditor-mailbox@example.org"
    _events(3)
    with caplog.at_level("INFO", logger="portal.audit"), TestCase.captureOnCommitCallbacks(execute=True):
        report = audit_chain.anchor()
    assert report.ok and report.head_seq == 3
    assert f"audit anchor: seq 3 head {report.head_hash} events 3 chain intact" in caplog.text
    [message] = mail.outbox
    assert message.to == ["auditor-mailbox@example.org"] and report.head_hash in message.body
    assert f"verify_audit --anchor 3:{report.head_hash}" in message.body
    assert AuditEvent.objects.filter(action="audit.anchor").exists()


def test_verify_audit_rejects_a_malformed_anchor():
    with pytest.raises(CommandError, match="expected SEQ:HASH"):
        call_command("verify_audit", anchor="12:nothex")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_keep_one_chain():
    """Eight threads write and seal at once (each its own connection); one linear chain results."""
    import threading

    from django.db import connections

    def work(n: int) -> None:
        try:
            for i in range(10):
                with TestCase.captureOnCommitCallbacks(execute=True):
                    audit.record(
                        subject_type="privacy_request",
                        subject_id=n,
                        action="request.noted",
                        actor="system",
                        data={"i": i},
                    )
                audit_chain.seal()
        finally:
            connections.close_all()

    if connection.vendor == "sqlite":
        pytest.skip("SQLite allows one writer at a time; the lock matters on PostgreSQL")
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = audit_chain.verify()
    assert report.ok and report.checked == 80
