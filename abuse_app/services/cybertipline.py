"""Sending a confirmed report to the CyberTipline exactly once: submit → upload → fileinfo → finish.

The ``CyberTiplineReport`` row is the truth. A try *claims* the row (a lease, so two
workers never advance one report at once), counts itself, and saves after every API
step, so a try killed at any point (SIGKILL, a lost machine) resumes where the row says
once the lease has lapsed: the beat sweep hands it out again. Only ``/finish`` makes a
report real, and only for the report id on the row (see ``cybertipline.models``).

Transient failures (no answer, 5xx, 429) are tried again with exponential backoff and
jitter, at most ``PORTAL_CYBERTIPLINE_MAX_TRIES`` tries (fewer than 10) within
``PORTAL_CYBERTIPLINE_GIVE_UP_DAYS`` (30) days of the confirmation; then, or when the API
refuses the report, staff are told once (``PORTAL_ONCALL_EMAIL``, the case timeline).
"""

from __future__ import annotations

import hashlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from abuse_app.cybertipline.client import ALREADY_FINISHED, CyberTiplineClient, RefusedError, TransientApiError
from abuse_app.cybertipline.models import CyberTiplineReport
from abuse_app.cybertipline.xml import Answer, FileDetails, file_details_xml, validate
from abuse_app.models import Evidence
from abuse_app.services import hash_matching
from portal import mail
from portal.celery import enqueue
from portal.models import AuditEvent

ADVANCE_TASK = "abuse.cybertipline_advance"  # abuse_app.cybertipline.tasks, sent by name (no import circle)

log = logging.getLogger(__name__)
ST = CyberTiplineReport.Status
REPORT_DOES_NOT_EXIST = 5001
_SCHEMAS: dict[str, str] = {}  # the API's XSD per base URL, fetched once per process


def client() -> CyberTiplineClient:
    return CyberTiplineClient(
        base_url=settings.PORTAL_CYBERTIPLINE_URL,
        username=settings.PORTAL_CYBERTIPLINE_USERNAME,
        password=settings.PORTAL_CYBERTIPLINE_PASSWORD,
    )


def _schema(api: CyberTiplineClient) -> str:
    if api.base_url not in _SCHEMAS:
        _SCHEMAS[api.base_url] = api.xsd()
    return _SCHEMAS[api.base_url]


def _claim(pk: int, now: datetime) -> CyberTiplineReport | None:
    with transaction.atomic():
        report: CyberTiplineReport | None = (
            CyberTiplineReport.objects.select_for_update(skip_locked=True).due(now).filter(pk=pk).first()
        )
        if report is None:
            return None
        report.attempts += 1
        report.leased_until = now + timedelta(seconds=settings.PORTAL_CYBERTIPLINE_LEASE_SECONDS)
        report.save(update_fields=["attempts", "leased_until"])
        return report


def _save(report: CyberTiplineReport, *fields: str) -> None:
    """Record one finished step and renew the lease (the next step may take as long)."""
    report.leased_until = timezone.now() + timedelta(seconds=settings.PORTAL_CYBERTIPLINE_LEASE_SECONDS)
    report.save(update_fields=[*fields, "leased_until"])


def _end(report: CyberTiplineReport, to: str, action: str, *, reason: str = "", **fields: Any) -> None:
    with transaction.atomic():
        previous = report.status
        report.status = to
        report.leased_until = None
        for name, value in fields.items():
            setattr(report, name, value)
        report.save(update_fields=["status", "leased_until", *fields])
        report.case.note(
            actor="system:cybertipline",
            action=action,
            from_status=previous,
            to_status=to,
            reason=reason or (f"CyberTipline report {report.ncmec_report_id}" if report.ncmec_report_id else ""),
            data={
                "report": report.pk,
                "cybertipline_report_id": report.ncmec_report_id or None,
                "attempts": report.attempts,
            },
        )


def cybertipline_advance(pk: int, *, now: datetime | None = None) -> str | None:
    """One try at a report: as far as it can go. Returns the status after it (None: not due or leased)."""
    now = now or timezone.now()
    report = _claim(pk, now)
    if report is None:
        return None
    try:
        _run(report)
    except TransientApiError as exc:
        _try_later(report, str(exc))
    except RefusedError as exc:
        if exc.answer.response_code == REPORT_DOES_NOT_EXIST and report.ncmec_report_id:
            # NCMEC dropped the unfinished report (it waited too long): open a new one.
            _reopen(report, str(exc))
        else:
            _tell_staff(report, str(exc))
            _end(report, ST.REJECTED, "abuse.cybertipline_rejected", reason=str(exc), last_error=str(exc))
    return report.status


def _run(report: CyberTiplineReport) -> None:
    api = client()
    if report.retract_requested_at:
        _retract(api, report)
        return
    if not report.ncmec_report_id:
        problems = validate(report.report_xml, _schema(api))
        if problems:
            raise RefusedError("the schema check", _schema_answer(problems))
        report.ncmec_report_id = api.submit(report.report_xml)
        report.status = ST.OPEN
        _save(report, "ncmec_report_id", "status")
        report.case.note(
            actor="system:cybertipline",
            action="abuse.cybertipline_opened",
            reason=f"CyberTipline report {report.ncmec_report_id}",
            data={"report": report.pk, "cybertipline_report_id": report.ncmec_report_id},
        )
    evidence = {e.pk: e for e in Evidence.objects.filter(pk__in=[f["evidence"] for f in report.files])}
    for entry in report.files:
        item = evidence.get(entry["evidence"])
        if item is None or not item.file:
            raise RefusedError("the upload", _schema_answer([f"evidence {entry['evidence']} is no longer stored"]))
        if not entry["file_id"]:
            with item.file.open("rb") as handle:
                content = handle.read()
            md5 = hashlib.md5(content).hexdigest()  # noqa: S324  (the API's checksum of the upload)
            answer = api.upload(report.ncmec_report_id, item.original_name or f"evidence-{item.pk}", content)
            if answer.hash and answer.hash.lower() != md5:
                raise TransientApiError(f"upload of evidence {item.pk}: the API's MD5 differs from the file's")
            entry.update(file_id=answer.file_id, md5=md5)
            _save(report, "files")
        if not entry["details_sent"]:
            api.fileinfo(file_details_xml(_file_details(report, entry, item)))
            entry["details_sent"] = True
            _save(report, "files")
    report.refresh_from_db(fields=["retract_requested_at"])
    if report.retract_requested_at:
        _retract(api, report)
        return
    api.finish(report.ncmec_report_id)
    _end(report, ST.FINISHED, "abuse.cybertipline_finished", finished_at=timezone.now(), last_error="")
    _bank_reported_files(report, evidence)


def _bank_reported_files(report: CyberTiplineReport, evidence: dict[int, Evidence]) -> None:
    """Reported files join the hash bank of confirmed cases, so a copy sent later is caught."""
    pairs: list[tuple[str, str]] = []
    for entry in report.files:
        pairs.append(("md5", entry["md5"]))
        item = evidence[entry["evidence"]]
        if item.content_type.startswith("image/"):
            with item.file.open("rb") as handle:
                pdq = hash_matching.pdq_of_image(handle.read())
            if pdq:
                pairs.append(("pdq", pdq))
    if pairs:
        hash_matching.bank_add_hashes(pairs, label=f"CyberTipline {report.ncmec_report_id}")


def _file_details(report: CyberTiplineReport, entry: dict[str, Any], item: Evidence) -> FileDetails:
    viewed = AuditEvent.objects.filter(
        action__in=["abuse.evidence_viewed", "abuse.evidence_revealed"], data__evidence=item.pk
    ).exists()
    return FileDetails(
        report_id=report.ncmec_report_id,
        file_id=entry["file_id"],
        original_name=item.original_name,
        viewed_by_esp=viewed,
        industry_classification=report.industry_classification,
        hashes={"MD5": entry["md5"]},
    )


def _retract(api: CyberTiplineClient, report: CyberTiplineReport) -> None:
    if report.ncmec_report_id:
        answer = api.retract(report.ncmec_report_id)
        if answer.response_code == ALREADY_FINISHED:
            _end(
                report,
                ST.FINISHED,
                "abuse.cybertipline_finished",
                finished_at=timezone.now(),
                reason="The retraction came after the report was finished; it stands.",
            )
            return
    _end(report, ST.RETRACTED, "abuse.cybertipline_retracted", retracted_at=timezone.now())


def _schema_answer(problems: list[str]) -> Answer:
    return Answer("schema", 4100, "; ".join(problems)[:2000], "", "", "")


def _backoff(attempts: int) -> timedelta:
    base = settings.PORTAL_CYBERTIPLINE_BACKOFF_SECONDS
    seconds = min(base * 4 ** max(attempts - 1, 0), 3 * 24 * 3600)
    return timedelta(seconds=seconds + random.uniform(0, seconds / 4))


def _try_later(report: CyberTiplineReport, error: str) -> None:
    now = timezone.now()
    deadline = report.confirmed_at + timedelta(days=settings.PORTAL_CYBERTIPLINE_GIVE_UP_DAYS)
    next_at = now + _backoff(report.attempts)
    if report.attempts >= settings.PORTAL_CYBERTIPLINE_MAX_TRIES or next_at >= deadline:
        _tell_staff(report, error)
        _end(report, ST.GAVE_UP, "abuse.cybertipline_gave_up", reason=error, last_error=error)
        return
    report.last_error, report.next_attempt_at, report.leased_until = error, next_at, None
    report.save(update_fields=["last_error", "next_attempt_at", "leased_until"])
    log.warning("CyberTipline report %s: try %s failed (%s); next at %s", report.pk, report.attempts, error, next_at)


def _reopen(report: CyberTiplineReport, error: str) -> None:
    report.case.note(
        actor="system:cybertipline",
        action="abuse.cybertipline_dropped_by_ncmec",
        data={"report": report.pk, "cybertipline_report_id": report.ncmec_report_id},
    )
    report.ncmec_report_id, report.status = "", ST.QUEUED
    for entry in report.files:
        entry.update(file_id="", md5="", details_sent=False)
    report.last_error, report.next_attempt_at, report.leased_until = error, timezone.now(), None
    report.save(update_fields=["ncmec_report_id", "status", "files", "last_error", "next_attempt_at", "leased_until"])


def _tell_staff(report: CyberTiplineReport, error: str) -> None:
    """E-mail on-call once per report (the row remembers), whatever fails after."""
    with transaction.atomic():
        told = CyberTiplineReport.objects.filter(pk=report.pk, staff_told_at__isnull=True).update(
            staff_told_at=timezone.now()
        )
        if not told:
            return
        mail.send(
            "abuse_cybertipline_failed",
            settings.PORTAL_ONCALL_EMAIL,
            {
                "case": report.case,
                "report": report,
                "error": error,
                "admin_url": mail.absolute(reverse("admin:abuse_app_case_change", args=[report.case_id])),
            },
        )


def cybertipline_sweep(*, now: datetime | None = None) -> int:
    """Hand out every report that is due and not leased (lost messages, killed workers, backoff over)."""
    due = list(CyberTiplineReport.objects.due(now).values_list("pk", flat=True)[:500])
    for pk in due:
        enqueue(ADVANCE_TASK, pk)
    return len(due)
