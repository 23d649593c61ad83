"""Evidence: audited access and the retention purge of files."""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.models import (
    Evidence,
)
from abuse_app.services.errors import AbuseError
from portal import audit


def evidence_open(*, evidence: Evidence, actor: User) -> FieldFile:
    """Open a stored file for a staff member; every access is audited."""
    if evidence.purged_at or not evidence.file:
        raise AbuseError(
            _("This file was deleted on %(date)s under the retention rules.")
            % {"date": evidence.purged_at.strftime("%Y-%m-%d") if evidence.purged_at else "?"}
        )
    audit.record(
        subject_type="abuse_notice",
        subject_id=evidence.notice_id,
        action="abuse.evidence_viewed",
        actor=actor,
        data={"evidence": evidence.pk, "sha256": evidence.sha256},
    )
    handle: FieldFile = evidence.file.open("rb")  # django-stubs types a FileField's value as Any
    return handle


def evidence_reveal(*, evidence: Evidence, case_id: int, actor: User) -> None:
    """A moderator un-blurs a child-safety preview: recorded on the case, once per click."""
    audit.record(
        subject_type="abuse_case",
        subject_id=case_id,
        action="abuse.evidence_revealed",
        actor=actor,
        data={"evidence": evidence.pk, "notice": evidence.notice_id, "sha256": evidence.sha256},
    )


def evidence_purge(*, now: datetime | None = None, dry_run: bool = False) -> int:
    now = now or timezone.now()
    rows = list(Evidence.objects.purgeable(now).select_related("notice"))
    if dry_run:
        return len(rows)
    for evidence in rows:
        with transaction.atomic():
            name = evidence.file.name
            evidence.file = ""
            evidence.purged_at = now
            evidence.save(update_fields=["file", "purged_at"])
            audit.record(
                subject_type="abuse_notice",
                subject_id=evidence.notice_id,
                action="abuse.evidence_purged",
                actor="system:evidence-retention",
                data={"evidence": evidence.pk, "sha256": evidence.sha256},
            )
            if name:
                transaction.on_commit(functools.partial(evidence.file.storage.delete, name))
    return len(rows)
