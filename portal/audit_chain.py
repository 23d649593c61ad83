"""The audit trail as a hash chain: an edited, removed or reordered event is found.

Each sealed ``AuditEvent`` carries ``seq`` (1, 2, 3… without gaps), the hash of
the event before it (``prev_hash``) and its own ``hash`` = SHA-256 of
``prev_hash`` and the event's canonical content. Changing any field of any
event, or deleting one, breaks every hash from there on; ``manage.py
verify_audit`` names the first broken link.

Sealing happens right after the transaction that wrote the events commits
(``transaction.on_commit``) — except for intake (``sealed_by_queue``: a public
form or API POST, whose reply must not wait on the one lock every writer
shares; the message its intake queues runs in a worker that writes its own
event and seals everything before it) — in a short transaction of its own that holds one
lock — ``pg_advisory_xact_lock`` on PostgreSQL; SQLite allows one writer at a
time anyway — and the unique ``seq`` refuses a fork if two sealers ever raced.
Writing events never waits for that lock, so the audit write inside a request's
own transaction cannot deadlock with row locks; the chain order is the order of
sealing. A beat job seals anything left over (a process killed between commit
and seal) and, once a day, writes an **anchor** — the head ``seq`` and
``hash`` — to the operator's log and e-mail. Someone with write access to the
database could recompute the whole chain; they cannot change the anchors
already in the operator's mailbox: ``verify_audit --anchor SEQ:HASH`` checks the
chain against one.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from portal import audit, mail
from portal.models import AuditEvent

logger = logging.getLogger("portal.audit")

GENESIS = "0" * 64
_LOCK_KEY = 0x41554449  # "AUDI": the advisory lock that serialises sealing on PostgreSQL
STALE_UNSEALED_SECONDS = 600


def content(event: AuditEvent) -> dict[str, Any]:
    """What the hash covers: everything an event says (not the actor FK, which user deletion nulls)."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor_type": event.actor_type,
        "actor_label": event.actor_label,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "data": event.data,
    }


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def seal(batch_size: int = 1000) -> int:
    """Chain every committed, unsealed event (oldest id first); returns how many were sealed."""
    sealed = 0
    while True:
        with transaction.atomic():
            _lock()
            head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "hash").first()
            seq: int = head.seq if head and head.seq else 0
            prev = head.hash if head else GENESIS
            pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            for event in pending:
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = prev = event_hash(prev, event)
                AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq, prev_hash=event.prev_hash, hash=event.hash)
        sealed += len(pending)
        if len(pending) < batch_size:
            return sealed


_BY_QUEUE: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_sealed_by_queue", default=False)


@contextlib.contextmanager
def sealed_by_queue() -> Iterator[None]:
    """Events written inside are not sealed by this process (a view decorator for intake).

    The next seal anywhere chains them: the worker running the message the intake queues
    (its e-mail, acknowledgement or start) writes an event and seals every one before it;
    beat's ``audit-seal`` catches what is left within five minutes.
    """
    token = _BY_QUEUE.set(True)
    try:
        yield
    finally:
        _BY_QUEUE.reset(token)


# Set inside ``sealing_deferred``: the steps in it only say a seal is wanted, and it seals once at its end.
_DEFERRED: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("audit_seal_deferred", default=None)


@contextlib.contextmanager
def sealing_deferred() -> Iterator[None]:
    """Seal once when the block ends, not after each commit inside it (a worker running one
    request's steps back to back: start, store tasks, finish). The events stay unsealed only
    while the block runs, within the beat job's bound (it seals leftovers every 5 minutes);
    the block's end seals even when a step raised."""
    wanted: list[bool] = []
    token = _DEFERRED.set(wanted)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
        if wanted:
            seal_after_commit()  # outside a transaction: now


def seal_after_commit() -> None:
    """Seal once the current transaction commits (once per transaction, however many events it wrote)."""
    if _BY_QUEUE.get():
        return
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.append(True)
        return
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(getattr(entry[1], "portal_audit_seal", False) for entry in conn.run_on_commit):
        return
    transaction.on_commit(_seal_quietly)


@receiver(post_save, sender=AuditEvent, dispatch_uid="portal.audit_chain.seal")
def _seal_new_event(
    sender: type[AuditEvent], instance: AuditEvent, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Every event written (``AuditEvent.save``) is sealed once its transaction commits."""
    if created and not raw:
        seal_after_commit()


def _seal_quietly() -> None:
    try:
        seal()
    except Exception:  # never fail the caller's request; the beat job seals what is left
        logger.exception("sealing the audit trail failed; the next beat run retries")


_seal_quietly.portal_audit_seal = True  # type: ignore[attr-defined]


@dataclass
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str = ""
    unsealed_stale: int = 0


def _link_problem(event: AuditEvent, prev: str, expected_seq: int) -> str:
    """Why ``event`` does not continue the chain after ``prev`` (empty when it does)."""
    where = (
        f"event seq {event.seq} (id {event.pk}, {event.action} on {event.subject_type} "
        f"{event.subject_id}, {event.at:%Y-%m-%d %H:%M:%S})"
    )
    if event.seq != expected_seq:
        return f"seq {expected_seq} is missing before {where}: an event was deleted"
    if event.prev_hash != prev:
        return f"{where} does not link to the event before it: an event before it was changed, removed or reordered"
    if event_hash(prev, event) != event.hash:
        return f"{where} was changed after it was written (its content no longer matches its hash)"
    return ""


def verify(anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain from the first event; stop at the first broken link and say which and why."""
    prev, expected_seq, checked, anchor_seen = GENESIS, 1, 0, anchor is None
    events = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    for event in events.iterator(chunk_size=5000):
        problem = _link_problem(event, prev, expected_seq)
        if problem:
            return ChainReport(False, checked, expected_seq - 1, prev, problem)
        if anchor and event.seq == anchor[0]:
            if event.hash != anchor[1]:
                return ChainReport(
                    False,
                    checked,
                    event.seq,
                    event.hash,
                    f"the chain at seq {anchor[0]} differs from the anchor "
                    f"({anchor[1][:16]}…): the trail was rewritten since the anchor was sent",
                )
            anchor_seen = True
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return _end_of_chain(anchor, anchor_seen, checked, expected_seq, prev)


def _end_of_chain(
    anchor: tuple[int, str] | None, anchor_seen: bool, checked: int, expected_seq: int, prev: str
) -> ChainReport:
    """The verdict once every sealed event linked: the anchor reached, and nothing left unsealed."""
    stale = AuditEvent.objects.filter(
        seq__isnull=True, at__lt=timezone.now() - timedelta(seconds=STALE_UNSEALED_SECONDS)
    ).count()
    if anchor is not None and not anchor_seen:
        return ChainReport(
            False,
            checked,
            expected_seq - 1,
            prev,
            f"the anchor's seq {anchor[0]} is beyond the end of the chain (seq {expected_seq - 1}): "
            "events were deleted since the anchor was sent",
            stale,
        )
    if stale:
        return ChainReport(
            False,
            checked,
            expected_seq - 1,
            prev,
            f"{stale} event(s) older than {STALE_UNSEALED_SECONDS // 60} minutes are not in the "
            "chain (is the beat process running?)",
            stale,
        )
    return ChainReport(True, checked, expected_seq - 1, prev)


def anchor() -> ChainReport:
    """Seal, then send the head of the chain to the operator's log and e-mail (daily beat job)."""
    seal()
    report = verify()
    line = (
        f"audit anchor: seq {report.head_seq} head {report.head_hash} events {report.checked} "
        f"chain {'intact' if report.ok else 'BROKEN: ' + report.problem}"
    )
    (logger.info if report.ok else logger.error)(line)
    mail.send(
        "audit_anchor", settings.PORTAL_AUDIT_ANCHOR_EMAIL, {"report": report, "base_url": settings.PORTAL_BASE_URL}
    )
    audit.record(
        subject_type="audit",
        subject_id=report.head_seq,
        action="audit.anchor",
        actor="system:beat",
        data={"seq": report.head_seq, "hash": report.head_hash, "ok": report.ok},
    )
    return report
