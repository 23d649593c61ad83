"""Records of the DSA duties that reach outside the portal.

- ``StatementSubmission``: one decision's statement of reasons on its way to the
  Commission's DSA Transparency Database (Art. 24(5)). The row is the truth; Celery
  messages only nudge the sender, so a lost message or a killed worker delays a
  statement but never loses or doubles it (the ``puid`` makes a repeat harmless).
- ``AuthorityNotification``: a notification to law enforcement (Art. 18), recorded
  with what was sent, to whom, when and by whom.

Imported by ``abuse_app.models`` so Django sees them as abuse_app models.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StatementSubmissionQuerySet(models.QuerySet["StatementSubmission"]):
    def due(self, now: datetime | None = None) -> StatementSubmissionQuerySet:
        """Pending submissions whose retry time has come and that no sender holds right now."""
        now = now or timezone.now()
        return self.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=StatementSubmission.Status.PENDING,
        )


class StatementSubmission(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("In the Transparency Database")
        FAILED = "failed", _("Refused; needs staff")
        NOT_REQUIRED = "not_required", _("Not required (nothing was restricted)")

    decision = models.OneToOneField("abuse_app.Decision", on_delete=models.PROTECT, related_name="sor_submission")
    puid = models.CharField(
        max_length=500, unique=True, help_text="The platform's unique id of the statement: the decision's reference."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the row while its call is in flight; a killed sender's hold simply expires.
    claimed_until = models.DateTimeField(null=True, blank=True)
    uuid = models.CharField(max_length=36, blank=True, help_text="The database's id of the statement.")
    permalink = models.URLField(max_length=500, blank=True)
    endpoint = models.CharField(
        max_length=200, blank=True, help_text="The database it went to (sandbox or production)."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = StatementSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = "statement of reasons submission"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="abuse_sor_sent_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.puid


class AuthorityNotification(models.Model):
    """A notification of a suspected criminal offence threatening life or safety (DSA Art. 18)."""

    class Recipient(models.TextChoices):
        MEMBER_STATE = "member_state", _("Law enforcement of the member state concerned")
        ESTABLISHMENT = "establishment", _("Law enforcement of the member state of establishment")
        EUROPOL = "europol", _("Europol")

    case = models.ForeignKey("abuse_app.Case", on_delete=models.PROTECT, related_name="authority_notifications")
    recipient = models.CharField(max_length=16, choices=Recipient.choices)
    member_state = models.CharField(
        max_length=2, blank=True, help_text="ISO code of the member state (empty for Europol)."
    )
    authority = models.CharField(
        max_length=200, help_text="Which authority, e.g. the national police's cybercrime unit."
    )
    channel = models.CharField(max_length=200, help_text="How it was sent (the authority's portal, e-mail address…).")
    notice_text = models.TextField(help_text="Exactly what was sent.")
    reporter_data_included = models.BooleanField(default=False)
    authority_reference = models.CharField(max_length=200, blank=True, help_text="The authority's reference, if given.")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        permissions = [("notify_authorities", "Can notify law enforcement of a threat to life or safety (DSA Art. 18)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient="europol", member_state="") | (~Q(recipient="europol") & ~Q(member_state="")),
                name="abuse_art18_member_state_unless_europol",
            ),
        ]

    def __str__(self) -> str:
        return f"Art. 18 notification on case {self.case_id} ({self.get_recipient_display()})"
