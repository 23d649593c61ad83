"""Cases: notices about the same target grouped, so staff decide once (DSA Art. 16(5), 17); staff notes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abuse_app.models.notices import Category, Notice, Priority
from portal.references import new_reference
from portal.transitions import InvalidTransition, Transitions

if TYPE_CHECKING:
    from abuse_app.models.decisions import Decision


def case_reference() -> str:
    return new_reference("AC")


class InvalidCaseTransition(InvalidTransition):
    """A status change the case's state machine does not allow."""


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=Case.OPEN_STATUSES)

    def overdue(self, now: datetime | None = None) -> CaseQuerySet:
        return self.open().filter(sla_due_at__lt=now or timezone.now())

    def due_within(self, hours: int, now: datetime | None = None) -> CaseQuerySet:
        now = now or timezone.now()
        return self.open().filter(sla_due_at__gte=now, sla_due_at__lt=now + timedelta(hours=hours))

    def _unsettled(self, now: datetime, closed_before: datetime) -> CaseQuerySet:
        """Cases that are undecided, appealed, under legal hold, or decided after ``closed_before``."""
        return self.filter(
            Q(legal_hold_until__gt=now)
            | Q(status__in=[*Case.OPEN_STATUSES, Case.Status.APPEALED])
            | Q(decided_at__isnull=True)
            | Q(decided_at__gt=closed_before)
        )

    def needing_evidence(self, now: datetime | None = None) -> CaseQuerySet:
        """Cases whose evidence must stay: child safety (never auto-deleted), legal hold,
        undecided or appealed, or still within the appeal window."""
        now = now or timezone.now()
        window_start = now - timedelta(days=settings.PORTAL_ABUSE_APPEAL_DAYS)
        return self._unsettled(now, window_start) | self.filter(is_child_safety=True)

    def needing_reporter(self, closed_before: datetime, now: datetime | None = None) -> CaseQuerySet:
        """Cases that still need their reporters' identity: unsettled, or whose appeal window
        (or last appeal decision) ended after ``closed_before``."""
        now = now or timezone.now()
        window_start = closed_before - timedelta(days=settings.PORTAL_ABUSE_APPEAL_DAYS)
        return self._unsettled(now, window_start) | self.filter(decisions__appeals__decided_at__gt=closed_before)


class Case(Transitions, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("New")
        IN_REVIEW = "in_review", _("In review")
        DECIDED = "decided", _("Decided")
        APPEALED = "appealed", _("Appeal pending")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.OPEN, Status.IN_REVIEW)
    # A closed case is appealed again when the other side appeals within the window.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.IN_REVIEW, Status.DECIDED},
        Status.IN_REVIEW: {Status.DECIDED},
        Status.DECIDED: {Status.APPEALED},
        Status.APPEALED: {Status.APPEALED, Status.CLOSED},
        Status.CLOSED: {Status.APPEALED},
    }
    # Status changes and notes go through portal.transitions (one behaviour with privacy requests).
    AUDIT_SUBJECT = "abuse_case"
    NOUN = "case"
    invalid_transition = InvalidCaseTransition

    reference = models.CharField(max_length=16, unique=True, default=case_reference, editable=False)
    target_key = models.CharField(
        max_length=600, db_index=True, help_text="Normalised URL ('url:…') or content id ('content:…')."
    )
    target_display = models.CharField(max_length=600)
    target_account_id = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    is_child_safety = models.BooleanField(default=False, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    sla_due_at = models.DateTimeField(db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_abuse_cases",
    )
    first_received_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    legal_hold_until = models.DateTimeField(
        null=True, blank=True, help_text="Evidence is kept at least until then and never auto-deleted."
    )
    notices = models.ManyToManyField(Notice, related_name="cases")

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-is_child_safety", "priority", "sla_due_at"]
        indexes = [models.Index(fields=["status", "priority", "sla_due_at"])]
        constraints = [
            # One open case per target: later notices about it join that case.
            models.UniqueConstraint(
                fields=["target_key"],
                condition=Q(status__in=["open", "in_review"]),
                name="abuse_case_one_open_per_target",
            ),
            models.CheckConstraint(
                condition=Q(is_child_safety=False) | Q(legal_hold_until__isnull=False),
                name="abuse_case_child_safety_on_legal_hold",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.sla_due_at < timezone.now()

    @property
    def latest_decision(self) -> Decision | None:
        return self.decisions.order_by("-decided_at", "-id").first()


class CaseNote(models.Model):
    """An internal note by staff. Never shown outside admin, never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on {self.case_id} at {self.created_at:%Y-%m-%d %H:%M}"
