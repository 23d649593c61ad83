"""Statements of reasons to the DSA Transparency Database (Art. 24(5)), exactly once.

How "exactly once" holds:

- Deciding a case writes a ``StatementSubmission`` row in the same transaction
  (``statement_submission_queue``); the Celery message sent after the commit only
  nudges the sender, and the beat job ``abuse.send_statements`` finds any row a lost
  message or a killed worker left behind.
- A sender *claims* up to 100 due rows (``select_for_update(skip_locked)``) for a lease
  longer than its call can take; a second sender skips them. A sender killed mid-call
  leaves its claim to expire; the rows are then sent again.
- Sending again is harmless: the decision's reference is the ``puid``, which the database
  keeps unique. A repeat answers 422 with ``existing`` (one statement) or
  ``existing_puids`` (a batch); those rows count as sent, and the rest go again.
- 5xx, 429 and timeouts release the claimed rows with an exponential backoff; 401/403
  stop every send and alert staff once per token (a new token resumes).
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from abuse_app.dsa import statements as sor
from abuse_app.dsa.client import Outcome, TransparencyDatabaseClient
from abuse_app.dsa.vocabulary import MAX_STATEMENTS_PER_CALL
from abuse_app.models import Decision, StatementSubmission
from portal import audit, mail
from portal.celery import enqueue
from portal.models import AuditEvent

log = logging.getLogger(__name__)

SEND_TASK = "abuse.send_statements"  # abuse_app.tasks, sent by name (no import circle)

MAX_BACKOFF_SECONDS = 3600


class TransientSubmissionError(Exception):
    """The database could not take the statements now; try again in ``retry_in`` seconds."""

    def __init__(self, message: str, retry_in: int):
        super().__init__(message)
        self.retry_in = retry_in


@dataclass
class SendReport:
    calls: int = 0
    sent: int = 0
    already_there: int = 0
    failed: int = 0
    halted: str = ""
    errors: list[str] = field(default_factory=list)


def statement_submission_queue(decision: Decision) -> StatementSubmission:
    """Record the decision's statement for the database; call inside the deciding transaction."""
    required = sor.is_required(decision)
    submission = StatementSubmission.objects.create(
        decision=decision,
        puid=sor.puid_for(decision),
        status=StatementSubmission.Status.PENDING if required else StatementSubmission.Status.NOT_REQUIRED,
        next_attempt_at=timezone.now() + timedelta(seconds=settings.PORTAL_DSA_TDB_DELAY_SECONDS),
    )
    if required and settings.PORTAL_DSA_TDB_ENABLED:
        delay = settings.PORTAL_DSA_TDB_DELAY_SECONDS
        transaction.on_commit(lambda: enqueue(SEND_TASK, countdown=delay))
    return submission


def statements_backfill(*, since: datetime, dry_run: bool = False) -> int:
    """Queue decisions taken since ``since`` that have no submission row (taken before this feature
    existed, or imported); returns how many restricting decisions that concerns."""
    missing = Decision.objects.filter(decided_at__gte=since, sor_submission__isnull=True).select_related("case")
    count = 0
    for decision in missing.order_by("decided_at", "id").iterator():
        if sor.is_required(decision):
            count += 1
        if not dry_run:
            with transaction.atomic():
                statement_submission_queue(decision)
    return count


def _token_fingerprint() -> str:
    return hashlib.sha256(settings.PORTAL_DSA_TDB_TOKEN.encode()).hexdigest()[:16]


def _halted() -> bool:
    """Whether the database refused the current token (sending waits for a new one)."""
    return AuditEvent.objects.filter(action="abuse.sor_token_refused", data__token=_token_fingerprint()).exists()


def _halt(error: str) -> None:
    """Stop sending and alert staff, once per token: the same refusal twice is not news."""
    # One alert even when two senders hit the 401 together (the cache is shared by every host).
    if not cache.add(f"abuse-sor-token-refused-{_token_fingerprint()}", 1, timeout=300) or _halted():
        return
    with transaction.atomic():
        audit.record(
            subject_type="abuse_sor",
            subject_id="token",
            action="abuse.sor_token_refused",
            actor="system:transparency-db",
            reason=error,
            data={"token": _token_fingerprint(), "url": settings.PORTAL_DSA_TDB_URL},
        )
        mail.send(
            "abuse_sor_token_refused",
            settings.PORTAL_ONCALL_EMAIL,
            {"error": error, "url": settings.PORTAL_DSA_TDB_URL, "pending": _pending().count()},
        )
    log.error("DSA Transparency Database refused the token (%s); sending stopped until a new token is set", error)


def _pending() -> QuerySet[StatementSubmission]:
    return StatementSubmission.objects.filter(status=StatementSubmission.Status.PENDING)


def _claim(now: datetime) -> list[StatementSubmission]:
    with transaction.atomic():
        rows = list(
            StatementSubmission.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("created_at", "id")[:MAX_STATEMENTS_PER_CALL]
        )
        StatementSubmission.objects.filter(pk__in=[r.pk for r in rows]).update(
            claimed_until=now + timedelta(seconds=settings.PORTAL_DSA_TDB_CLAIM_SECONDS), attempts=F("attempts") + 1
        )
    for row in rows:
        row.attempts += 1
    return rows


def _backoff(attempts: int) -> int:
    base = int(min(MAX_BACKOFF_SECONDS, 30 * 2 ** max(0, attempts - 1)))
    return base + random.randint(0, max(1, base // 10))  # noqa: S311 (jitter, not security)


def _fail(row: StatementSubmission, error: str) -> None:
    StatementSubmission.objects.filter(pk=row.pk).update(
        status=StatementSubmission.Status.FAILED, last_error=error[:4000], claimed_until=None
    )
    audit.record(
        subject_type="abuse_case",
        subject_id=row.decision.case_id,
        action="abuse.sor_refused",
        actor="system:transparency-db",
        reason=error[:2000],
        data={"decision": row.decision_id, "puid": row.puid},
    )


def _mark_sent(row: StatementSubmission, statement: dict[str, Any], now: datetime, note: str = "") -> None:
    StatementSubmission.objects.filter(pk=row.pk).update(
        status=StatementSubmission.Status.SENT,
        uuid=str(statement.get("uuid") or "")[:36],
        permalink=str(statement.get("permalink") or "")[:500],
        endpoint=settings.PORTAL_DSA_TDB_URL[:200],
        sent_at=now,
        claimed_until=None,
        last_error=note,
    )


def _release(rows: list[StatementSubmission], *, error: str, delay: int) -> None:
    for row in rows:
        StatementSubmission.objects.filter(pk=row.pk, status=StatementSubmission.Status.PENDING).update(
            claimed_until=None,
            last_error=error[:4000],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )


def _payloads(rows: list[StatementSubmission], report: SendReport) -> list[tuple[StatementSubmission, dict[str, Any]]]:
    """Build each row's statement; a row that cannot be sent (or would leak personal data) fails."""
    ready = []
    for row in rows:
        try:
            payload = sor.statement_payload(row.decision, row.puid)
        except sor.StatementNotSendable as exc:
            _fail(row, str(exc))
            report.failed += 1
            continue
        findings = sor.personal_data_findings(payload, sor.case_identifiers(row.decision.case))
        if findings:
            _fail(row, "Held back: the statement looks like it holds personal data (" + "; ".join(findings) + ").")
            report.failed += 1
            continue
        ready.append((row, payload))
    return ready


def statements_send_due() -> SendReport:
    """Send every due statement, 100 per call, until none is due. Raises TransientSubmissionError."""
    report = SendReport()
    if not settings.PORTAL_DSA_TDB_ENABLED:
        return report
    if _halted():
        report.halted = "the database refused the current token"
        return report
    client = TransparencyDatabaseClient(
        settings.PORTAL_DSA_TDB_URL, settings.PORTAL_DSA_TDB_TOKEN, settings.PORTAL_DSA_TDB_TIMEOUT
    )
    while rows := _claim(timezone.now()):
        for row in rows:
            row.decision = Decision.objects.select_related("case").get(pk=row.decision_id)
        ready = _payloads(rows, report)
        if not ready:
            continue
        report.calls += 1
        outcome = client.send([payload for _row, payload in ready])
        _apply(outcome, ready, client, report)
        if report.halted:
            break
    return report


def _apply(
    outcome: Outcome, ready: list[tuple[StatementSubmission, dict[str, Any]]], client: TransparencyDatabaseClient,
    report: SendReport,
) -> None:  # fmt: skip
    rows = [row for row, _payload in ready]
    if outcome.kind == "created":
        _apply_created(outcome, rows, report)
    elif outcome.kind == "existing":
        _apply_existing(outcome, rows, client, report)
    elif outcome.kind == "invalid":
        _apply_invalid(outcome, rows, report)
    elif outcome.kind == "unauthorised":
        _release(rows, error=outcome.error, delay=0)
        _halt(outcome.error)
        report.halted = outcome.error
    else:
        delay = outcome.retry_after or _backoff(max(r.attempts for r in rows))
        _release(rows, error=outcome.error, delay=delay)
        raise TransientSubmissionError(outcome.error, delay)


def _apply_created(outcome: Outcome, rows: list[StatementSubmission], report: SendReport) -> None:
    now = timezone.now()
    for row in rows:
        statement = outcome.created.get(row.puid)
        if statement is None:  # a 201 that does not list it: ask again later rather than guess
            _release([row], error="the database's answer did not list this statement", delay=_backoff(row.attempts))
            continue
        _mark_sent(row, statement, now)
        report.sent += 1


def _apply_existing(
    outcome: Outcome, rows: list[StatementSubmission], client: TransparencyDatabaseClient, report: SendReport
) -> None:
    now = timezone.now()
    for row in rows:
        if row.puid in outcome.existing:
            _mark_sent(
                row,
                _existing_statement(client, row.puid, outcome.existing[row.puid]),
                now,
                note="Already in the database (sent before; the answer to that call was lost).",
            )
            report.already_there += 1
    _release([r for r in rows if r.puid not in outcome.existing], error="", delay=0)


def _apply_invalid(outcome: Outcome, rows: list[StatementSubmission], report: SendReport) -> None:
    for index, row in enumerate(rows):
        if index in outcome.invalid:
            _fail(row, f"The Transparency Database refused the statement: {outcome.invalid[index]}")
            report.failed += 1
    # The whole batch was refused: the valid ones go again at once, without the invalid ones.
    _release([r for i, r in enumerate(rows) if i not in outcome.invalid], error="", delay=0)


def _existing_statement(client: TransparencyDatabaseClient, puid: str, existing: dict[str, Any]) -> dict[str, Any]:
    """The uuid and permalink of a statement the database already holds, where it tells them."""
    if existing.get("uuid"):
        return existing
    _found, body = client.existing_puid(puid)  # the server's code answers only {"puid": …}
    return body if body.get("uuid") else {}


def statements_resend(*, submissions: QuerySet[StatementSubmission], actor: audit.Actor) -> int:
    """Put failed submissions back in the queue (after staff fixed the cause); returns how many."""
    with transaction.atomic():
        failed = list(submissions.select_for_update().filter(status=StatementSubmission.Status.FAILED))
        StatementSubmission.objects.filter(pk__in=[s.pk for s in failed]).update(
            status=StatementSubmission.Status.PENDING, attempts=0, next_attempt_at=None, claimed_until=None
        )
        for submission in failed:
            audit.record(
                subject_type="abuse_case",
                subject_id=submission.decision.case_id,
                action="abuse.sor_resend",
                actor=actor,
                data={"decision": submission.decision_id, "puid": submission.puid},
            )
        if failed and settings.PORTAL_DSA_TDB_ENABLED:
            transaction.on_commit(lambda: enqueue(SEND_TASK))
    return len(failed)
