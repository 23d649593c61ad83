"""The CyberTipline report of a child-safety case: one row, advanced one API step at a time.

Exactly once: only ``/finish`` makes a report real at NCMEC, and the portal finishes only
the report id it has recorded. If a worker dies after ``/submit`` but before the id is
saved, the next try opens a new report; the orphan is never finished and NCMEC drops
unfinished reports after a while. A repeated ``/finish`` answers "already finished",
which counts as done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Set
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IncidentType(models.TextChoices):
    # The CyberTipline's own incident types, spelled as its schema spells them.
    CHILD_PORNOGRAPHY = (
        "Child Pornography (possession, manufacture, and distribution)",
        _("Child sexual abuse material (possession, manufacture, distribution)"),
    )
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking", _("Child sex trafficking")
    CHILD_SEX_TOURISM = "Child Sex Tourism", _("Child sex tourism")
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation", _("Child sexual molestation")
    MISLEADING_DOMAIN = "Misleading Domain Name", _("Misleading domain name")
    MISLEADING_WORDS = (
        "Misleading Words or Digital Images on the Internet",
        _("Misleading words or digital images on the internet"),
    )
    ONLINE_ENTICEMENT = (
        "Online Enticement of Children for Sexual Acts",
        _("Online enticement of children for sexual acts"),
    )
    UNSOLICITED_OBSCENE = (
        "Unsolicited Obscene Material Sent to a Child",
        _("Unsolicited obscene material sent to a child"),
    )


class IndustryClassification(models.TextChoices):
    NONE = "", _("Not classified")
    A1 = "A1", _("A1: prepubescent minor, sex act")
    A2 = "A2", _("A2: prepubescent minor, lascivious exhibition")
    B1 = "B1", _("B1: pubescent minor, sex act")
    B2 = "B2", _("B2: pubescent minor, lascivious exhibition")


class CyberTiplineReportQuerySet(models.QuerySet["CyberTiplineReport"]):
    def due(self, now: datetime | None = None) -> CyberTiplineReportQuerySet:
        """Reports a worker should advance now: active, their backoff over, no live lease."""
        now = now or timezone.now()
        return self.filter(status__in=CyberTiplineReport.ACTIVE, next_attempt_at__lte=now).filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        )


class CyberTiplineReport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Confirmed, waiting to be sent")
        OPEN = "open", _("Opened at the CyberTipline, files being sent")
        FINISHED = "finished", _("Reported (finished)")
        RETRACTED = "retracted", _("Retracted before it was finished")
        REJECTED = "rejected", _("Refused by the CyberTipline (staff told)")
        GAVE_UP = "gave_up", _("Not sent after every try (staff told)")

    ACTIVE = (Status.QUEUED, Status.OPEN)
    LIVE = (Status.QUEUED, Status.OPEN, Status.FINISHED)
    TRANSITIONS: dict[str, set[str]] = {
        Status.QUEUED: {Status.OPEN, Status.RETRACTED, Status.REJECTED, Status.GAVE_UP},
        Status.OPEN: {Status.OPEN, Status.FINISHED, Status.RETRACTED, Status.REJECTED, Status.GAVE_UP},
        Status.FINISHED: set(),
        Status.RETRACTED: set(),
        Status.REJECTED: set(),
        Status.GAVE_UP: set(),
    }

    case = models.ForeignKey("abuse_app.Case", on_delete=models.PROTECT, related_name="cybertipline_reports")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    environment = models.CharField(max_length=12, help_text="'test' or 'production', from the settings then.")
    incident_type = models.CharField(max_length=80, choices=IncidentType.choices)
    escalate_reason = models.CharField(
        max_length=500, blank=True, help_text="Given when a child may be in imminent danger (escalateToHighPriority)."
    )
    industry_classification = models.CharField(
        max_length=2, choices=IndustryClassification.choices, blank=True, default=""
    )
    report_xml = models.TextField(help_text="The report exactly as built and sent (kept under the legal hold).")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)
    ncmec_report_id = models.CharField(max_length=20, blank=True, db_index=True)
    # Per evidence file: {"evidence": pk, "file_id": "...", "md5": "...", "details_sent": bool}.
    files = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retract_requested_at = models.DateTimeField(null=True, blank=True)
    retract_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retracted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    staff_told_at = models.DateTimeField(null=True, blank=True)

    objects = CyberTiplineReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("CyberTipline report")
        ordering = ["-confirmed_at"]
        permissions = [
            ("handle_child_safety", "Can see child-safety evidence and report cases to the CyberTipline"),
        ]
        constraints = [
            # One live report per case; after a refusal, giving up or a retraction staff may confirm again.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["queued", "open", "finished"]),
                name="abuse_cybertipline_one_live_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(status="finished") | ~Q(ncmec_report_id=""),
                name="abuse_cybertipline_finished_has_report_id",
            ),
        ]

    def __str__(self) -> str:
        return f"CyberTipline {self.ncmec_report_id or '(not yet opened)'} for {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def can_become(self, to: str) -> bool:
        return to in self.TRANSITIONS[self.status]


def identity_digest(kind: str, value: str) -> str:
    """How a held identity is stored and looked up: never the identifier itself."""
    return hashlib.sha256(f"{kind}\x00{value.strip().lower()}".encode()).hexdigest()


class HeldIdentity(models.Model):
    """An identifier of a reported account, preserved as long as its case's legal hold lasts.

    Privacy deletions of a subject with any of these identities withhold what the hold covers
    (``portal.legal_holds``); extending the case's hold extends these too.
    """

    case = models.ForeignKey("abuse_app.Case", on_delete=models.CASCADE, related_name="held_identities")
    kind = models.CharField(max_length=40, help_text="The identity kind of the stores file, e.g. user_id or email.")
    digest = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "digest"], name="abuse_held_identity_once_per_case")]

    def __str__(self) -> str:
        return f"{self.kind} held by {self.case_id}"


def held_until(identities: Mapping[str, Set[str]], now: datetime) -> datetime | None:
    """The ``portal.legal_holds`` source of abuse_app: the latest hold of a case holding any identity."""
    digests = [identity_digest(kind, value) for kind, values in identities.items() for value in values]
    if not digests:
        return None
    end: datetime | None = HeldIdentity.objects.filter(digest__in=digests, case__legal_hold_until__gt=now).aggregate(
        end=models.Max("case__legal_hold_until")
    )["end"]
    return end
