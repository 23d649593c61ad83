"""Appeals: the internal complaint against a decision (DSA Art. 20), decided by another moderator."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abuse_app.models.decisions import Decision
from abuse_app.models.notices import Notice


class Appeal(models.Model):
    """An internal complaint against a decision (DSA Art. 20)."""

    class Appellant(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        TARGET = "target", _("Target (the reported person)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Decision upheld")
        OVERTURNED = "overturned", _("Decision overturned")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="appeals")
    appellant = models.CharField(max_length=10, choices=Appellant.choices)
    notice = models.ForeignKey(
        Notice,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
        help_text="The reporter's notice, when a reporter appeals.",
    )
    contact_email = models.EmailField(blank=True)
    statement = models.TextField()
    filed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    outcome_reasons = models.TextField(blank=True)
    new_action = models.CharField(
        max_length=24,
        choices=Decision.Action.choices,
        blank=True,
        help_text="When overturned: what the host app should do now.",
    )
    # Copied from the decision so the database itself can refuse "same moderator".
    original_decider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["filed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decided_by=F("original_decider")),
                name="abuse_appeal_decided_by_another_moderator",
            ),
            models.UniqueConstraint(
                fields=["decision"], condition=Q(appellant="target"), name="abuse_appeal_one_per_target"
            ),
            models.UniqueConstraint(
                fields=["decision", "notice"],
                condition=Q(appellant="reporter"),
                name="abuse_appeal_one_per_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal #{self.pk} by {self.appellant}"
