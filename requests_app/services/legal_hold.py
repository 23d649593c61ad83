"""Deletions a legal hold withheld are completed once the hold has ended (beat, daily).

The engine withholds and records (``requests_app.engine.legal_hold``); this files the
follow-up deletion for the same person, with the same scope, that completes what was
withheld. A completed request stays completed and its receipt stays true; the follow-up has
its own receipt. This module reaches the engine; the engine never reaches back (no import
circle).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from requests_app.engine import legal_hold
from requests_app.engine.plan import schedule_start
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.services.intake import request_file_approved

log = logging.getLogger(__name__)


def release_withheld(*, now: datetime | None = None) -> int:
    """File a follow-up deletion for every completed request whose withheld data is no longer held."""
    now = now or timezone.now()
    released = 0
    candidates = (
        StoreTask.objects.filter(
            phase=StoreTask.Phase.ERASE,
            request__kind=PrivacyRequest.Kind.DELETION,
            request__status=PrivacyRequest.Status.COMPLETED,
            detail__withheld__basis=legal_hold.BASIS,
        )
        .exclude(detail__withheld__has_key="continued_by")
        .select_related("request")
    )
    for request_id in sorted({t.request_id for t in candidates}):
        tasks = [t for t in candidates if t.request_id == request_id]
        if any(datetime.fromisoformat(t.detail["withheld"]["until"]) > now for t in tasks):
            continue
        original = tasks[0].request
        if not original.email:
            log.warning("request %s: withheld data released, but its e-mail was purged; staff must act", request_id)
            continue
        _file_follow_up(original, tasks)
        released += 1
    return released


def _file_follow_up(original: PrivacyRequest, tasks: list[StoreTask]) -> None:
    with transaction.atomic():
        follow_up = request_file_approved(
            kind="deletion",
            email=original.email,
            actor="system:legal-hold",
            reason=f"Completes {original.reference}: data withheld under a legal obligation that has ended.",
        )
        # Same person, same scope: a consent withdrawal's follow-up erases only that purpose's data.
        follow_up.identifiers = original.identifiers
        follow_up.language = original.language
        follow_up.jurisdiction = original.jurisdiction
        follow_up.scope_purpose = original.scope_purpose
        follow_up.save(update_fields=["identifiers", "language", "jurisdiction", "scope_purpose"])
        for task in tasks:
            task.detail["withheld"]["continued_by"] = follow_up.reference
            task.save(update_fields=["detail"])
        original.note(actor="system:legal-hold", action="legal_hold_released", data={"follow_up": follow_up.reference})
        schedule_start(follow_up)
