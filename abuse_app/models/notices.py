"""Notices (DSA Art. 16): one report from one person or the host app, its category and the files attached."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.references import new_reference

if TYPE_CHECKING:
    from abuse_app.models.cases import Case


def _case_model() -> type[Case]:
    """Case, from the app registry: cases.py imports this module, so importing it back would close a circle."""
    return cast("type[Case]", apps.get_model("abuse_app", "Case"))


def notice_reference() -> str:
    return new_reference("AR")


class Category(models.TextChoices):
    PRIVACY = "privacy", _("Privacy invasion or harvesting personal data without consent")
    MINORS = "minors", _("Harm or exploitation of minors")
    HARASSMENT = "harassment", _("Harassment, stalking or threats")
    DEFAMATION = "defamation", _("Defamation")
    ILLEGAL = "illegal", _("Other illegal content")
    AI_MISUSE = "ai_misuse", _("Misuse of AI features (e.g. faces or voices used without consent)")
    SPAM = "spam", _("Spam or fraud")
    OTHER = "other", _("Something else")


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")
    LOW = 4, _("Low")


# Priority and time to decision per category. Child safety first, then
# categories where people are hurt while content stays up.
CATEGORY_POLICY: dict[str, tuple[int, timedelta]] = {
    Category.MINORS: (Priority.CRITICAL, timedelta(hours=24)),
    Category.HARASSMENT: (Priority.HIGH, timedelta(hours=48)),
    Category.PRIVACY: (Priority.HIGH, timedelta(hours=72)),
    Category.AI_MISUSE: (Priority.HIGH, timedelta(hours=72)),
    Category.ILLEGAL: (Priority.NORMAL, timedelta(days=5)),
    Category.DEFAMATION: (Priority.NORMAL, timedelta(days=7)),
    Category.SPAM: (Priority.LOW, timedelta(days=7)),
    Category.OTHER: (Priority.LOW, timedelta(days=14)),
}

# Notices that claim content is illegal: the DSA expects the law concerned and,
# except for child sexual abuse material, the notifier's name and e-mail.
ILLEGAL_CONTENT_CATEGORIES = {Category.PRIVACY, Category.HARASSMENT, Category.DEFAMATION, Category.ILLEGAL}


class NoticeQuerySet(models.QuerySet["Notice"]):
    def reporter_purgeable(self, now: datetime | None = None) -> NoticeQuerySet:
        """Notices whose reporter's name and e-mail no case or appeal needs any more.

        Every case of the notice is decided, no appeal is pending, the appeal window
        closed ``PORTAL_ABUSE_REPORTER_RETENTION_DAYS`` ago (and so did the last appeal
        decision), and no case is under legal hold (child-safety cases are, for a year
        at least).
        """
        Case = _case_model()
        now = now or timezone.now()
        retention = timedelta(days=settings.PORTAL_ABUSE_REPORTER_RETENTION_DAYS)
        return (
            self.filter(reporter_purged_at__isnull=True)
            .exclude(reporter_name="", reporter_email="")
            .exclude(cases__in=Case.objects.needing_reporter(now - retention, now))
        )


class Notice(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        API = "api", _("Public API")
        HOST_APP = "host_app", _("Host app (in-app report)")
        TRUSTED_FLAGGER = "trusted_flagger", _("Trusted flagger")

    reference = models.CharField(max_length=16, unique=True, default=notice_reference, editable=False)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    category = models.CharField(max_length=20, choices=Category.choices)
    law = models.CharField(max_length=300, blank=True, help_text="The law the reporter says is broken.")
    locations = models.JSONField(default=list, help_text="URLs or content ids exactly as reported.")
    explanation = models.TextField()
    good_faith = models.BooleanField(help_text="The reporter confirmed the notice is accurate and in good faith.")
    # Reporter personal data: optional, never asked in the child-safety lane, never sent to the target.
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(max_length=254, blank=True)
    language = models.CharField(max_length=8, default="en")
    ip_hash = models.CharField(max_length=32, blank=True, help_text="Keyed hash of the sender's IP address.")
    # Host-app reports: the reported content's id, its owner's account and a snapshot
    # taken when the report was made (so evidence survives the author deleting it).
    content_id = models.CharField(max_length=200, blank=True)
    target_account_id = models.CharField(max_length=200, blank=True)
    snapshot = models.JSONField(null=True, blank=True)
    api_key = models.ForeignKey("portal.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    status_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    manifestly_unfounded = models.BooleanField(default=False)
    # Set when the reporter's name and e-mail were purged under the retention rules;
    # the pseudonym ('email:<keyed hash>', as in ReporterStanding) keeps the trail.
    reporter_purged_at = models.DateTimeField(null=True, blank=True)
    reporter_pseudonym = models.CharField(max_length=40, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=Q(good_faith=True), name="abuse_notice_good_faith"),
            models.CheckConstraint(
                condition=~Q(category="minors") | (Q(reporter_name="") & Q(reporter_email="")),
                name="abuse_notice_no_identity_in_child_safety_lane",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_child_safety(self) -> bool:
        return self.category == Category.MINORS


def evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name never contains the uploader's file name.
    return f"abuse/evidence/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    def purgeable(self, now: datetime | None = None) -> EvidenceQuerySet:
        """Evidence no case or appeal can need any more (see ``CaseQuerySet.needing_evidence``)."""
        Case = _case_model()
        return self.filter(purged_at__isnull=True).exclude(notice__cases__in=Case.objects.needing_evidence(now))


class Evidence(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=200, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=60, help_text="Sniffed from the content, not from the name.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name or 'file'} ({self.content_type}, {self.size} bytes)"
