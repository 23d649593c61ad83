"""Abuse reports, modelled on the EU Digital Services Act notice-and-action rules.

- ``Notice``: one report from one person or the host app (DSA Art. 16 elements).
- ``Case``: notices about the same target (normalised URL or content id) grouped,
  so staff decide once and every reporter hears back (Art. 16(5), 17).
- ``Evidence``: files attached to a notice, stored privately, sniffed, hashed.
- ``Decision``: the statement of reasons (Art. 17).
- ``Appeal``: the internal complaint (Art. 20), decided by a *different* moderator.
- ``ReporterStanding``: misuse handling (Art. 23): warn, then suspend.
- ``WebhookDelivery``: the outbox of signed calls telling the host app what to do.

Invariants that the database can hold are constraints here; workflows that span
models live in ``abuse_app.services``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.references import new_reference
from portal.transitions import InvalidTransition, Transitions


def notice_reference() -> str:
    return new_reference("AR")


def case_reference() -> str:
    return new_reference("AC")


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


def evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name never contains the uploader's file name.
    return f"abuse/evidence/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    def purgeable(self, now: datetime | None = None) -> EvidenceQuerySet:
        """Evidence no case or appeal can need any more (see ``CaseQuerySet.needing_evidence``)."""
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


class Decision(models.Model):
    """A statement of reasons (DSA Art. 17)."""

    class Action(models.TextChoices):
        NONE = "none", _("No action")
        REMOVE_CONTENT = "remove_content", _("Remove or disable the content")
        RESTRICT_ACCOUNT = "restrict_account", _("Restrict the account")
        SUSPEND_ACCOUNT = "suspend_account", _("Suspend the account")
        FORWARD_MICROSOFT = "forward_microsoft", _("Forward to Microsoft")
        REFER_AUTHORITIES = "refer_authorities", _("Refer to the authorities")

    class Ground(models.TextChoices):
        NONE = "", _("No violation found")
        ILLEGAL = "illegal", _("Illegal content")
        TERMS = "terms", _("Incompatible with the terms of service")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=24, choices=Action.choices)
    ground = models.CharField(max_length=10, choices=Ground.choices, blank=True)
    legal_reference = models.CharField(
        max_length=300, blank=True, help_text="The law (for illegal content) or the terms' clause."
    )
    facts = models.TextField(help_text="Facts and circumstances the decision relies on.")
    # DSA Art. 17(3)(a): where and for how long a restriction applies.
    territorial_scope = models.CharField(
        max_length=200, blank=True, help_text="Where the restriction applies (empty when nothing is restricted)."
    )
    restricted_until = models.DateField(
        null=True, blank=True, help_text="Last day of the restriction; empty means indefinite."
    )
    # DSA Art. 17(3)(c): automated means, for detection and for the decision, said separately.
    automated_detection = models.BooleanField(
        default=False, help_text="The content was detected or identified by automated means."
    )
    automated = models.BooleanField(default=False, help_text="The decision was taken by automated means.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    manifestly_unfounded = models.BooleanField(
        default=False, help_text="The notices were manifestly unfounded (misuse)."
    )
    target_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action="none") | ~Q(ground=""), name="abuse_decision_action_has_ground"),
            models.CheckConstraint(
                condition=Q(ground="") | ~Q(legal_reference=""), name="abuse_decision_ground_has_reference"
            ),
            models.CheckConstraint(
                condition=Q(automated=True) | Q(decided_by__isnull=False),
                name="abuse_decision_human_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.case_id})"

    @property
    def appeal_deadline(self) -> datetime:
        return self.decided_at + timedelta(days=settings.PORTAL_ABUSE_APPEAL_DAYS)

    @property
    def restricts(self) -> bool:
        """Whether the action restricts the content or the account (scope and duration apply)."""
        return self.action in RESTRICTING_ACTIONS

    @property
    def scope_display(self) -> str:
        return self.territorial_scope if self.restricts else str(_("Not applicable (nothing is restricted)"))

    @property
    def duration_display(self) -> str:
        if not self.restricts:
            return str(_("Not applicable (nothing is restricted)"))
        if self.restricted_until is None:
            return str(_("Indefinite"))
        return str(_("Until %(date)s") % {"date": date_format(self.restricted_until, "DATE_FORMAT")})

    def redress_routes(self) -> list[dict[str, Any]]:
        """Every way to challenge the decision (DSA Art. 17(3)(f)), in the active language.

        The operator's details come from settings (docs/abuse.md, "Redress"); the
        sentences are translated in locale/.
        """
        operator = f"{settings.PORTAL_OPERATOR_NAME} ({settings.PORTAL_OPERATOR_CONTACT})"
        deadline = timezone.localtime(self.appeal_deadline).date()
        body = settings.PORTAL_ABUSE_DISPUTE_BODY
        courts = settings.PORTAL_ABUSE_COURTS
        return [
            {
                "route": "internal_appeal",
                "title": str(_("Internal appeal")),
                "deadline": deadline.isoformat(),
                "text": str(
                    _(
                        "You can appeal to %(operator)s until %(date)s, free of charge. "
                        "A moderator who did not take this decision reviews it."
                    )
                    % {"operator": operator, "date": date_format(deadline, "DATE_FORMAT")}
                ),
            },
            {
                "route": "out_of_court_dispute_settlement",
                "title": str(_("Out-of-court dispute settlement")),
                "url": settings.PORTAL_ABUSE_DISPUTE_URL,
                "text": str(
                    (
                        _(
                            "You can refer the dispute to a certified out-of-court dispute settlement "
                            "body (Digital Services Act, Art. 21), for example %(body)s. "
                            "%(operator)s will take part in good faith."
                        )
                        if body
                        else _(
                            "You can refer the dispute to a certified out-of-court dispute settlement "
                            "body of your choice (Digital Services Act, Art. 21). "
                            "%(operator)s will take part in good faith."
                        )
                    )
                    % {"body": body, "operator": operator}
                ),
            },
            {
                "route": "courts",
                "title": str(_("Courts")),
                "text": str(
                    (
                        _("You can take the matter to court at any time, for example %(courts)s.")
                        if courts
                        else _("You can take the matter to the competent courts at any time.")
                    )
                    % {"courts": courts}
                ),
            },
        ]

    def statement(self) -> dict[str, Any]:
        """The statement of reasons as data (webhook, transparency JSON); nothing about the reporters."""
        return {
            "decision_id": self.pk,
            "decision": self.action,
            "decision_label": str(self.get_action_display()),
            "territorial_scope": self.territorial_scope if self.restricts else None,
            "duration": (
                None
                if not self.restricts
                else {
                    "indefinite": self.restricted_until is None,
                    "until": (self.restricted_until.isoformat() if self.restricted_until else None),
                }
            ),
            "facts": self.facts,
            "automated_detection": self.automated_detection,
            "automated_decision": self.automated,
            "ground": self.ground or None,
            "legal_reference": self.legal_reference or None,
            "decided_at": self.decided_at.isoformat(),
            "appeal_deadline": self.appeal_deadline.isoformat(),
            "redress": self.redress_routes(),
        }

    @property
    def appeal_window_open(self) -> bool:
        return timezone.now() <= self.appeal_deadline


# Actions that restrict someone: the statement of reasons gives their scope and duration.
RESTRICTING_ACTIONS = {
    Decision.Action.REMOVE_CONTENT,
    Decision.Action.RESTRICT_ACCOUNT,
    Decision.Action.SUSPEND_ACCOUNT,
}


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


class ReporterStandingQuerySet(models.QuerySet["ReporterStanding"]):
    def people(self) -> ReporterStandingQuerySet:
        """Standings of reporters (by e-mail), not of network addresses."""
        return self.filter(key__startswith="email:")

    def active_for(self, keys: list[str], now: datetime | None = None) -> ReporterStandingQuerySet:
        """Suspensions and cooldowns in force for any of ``keys``, the longest first."""
        return self.filter(key__in=keys, suspended_until__gt=now or timezone.now()).order_by("-suspended_until")

    def suspended_between(self, start: datetime, end: datetime) -> ReporterStandingQuerySet:
        return self.people().filter(suspended_at__gte=start, suspended_at__lt=end)


class ReporterStanding(models.Model):
    """How often a reporter (by pseudonymised e-mail or IP) sent manifestly unfounded notices."""

    key = models.CharField(max_length=40, unique=True, help_text="'email:<hash>' or 'ip:<hash>'.")
    label = models.CharField(
        max_length=120, blank=True, help_text="Masked e-mail or address, to recognise the reporter (a***@example.com)."
    )
    unfounded_count = models.PositiveIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_until = models.DateTimeField(
        null=True, blank=True, help_text="E-mail: a suspension. Address: only a short cooldown."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReporterStandingQuerySet.as_manager()

    class Meta:
        verbose_name = "reporter standing"

    def __str__(self) -> str:
        return self.key

    @property
    def is_suspended(self) -> bool:
        return bool(self.suspended_until and self.suspended_until > timezone.now())

    @property
    def is_address(self) -> bool:
        return self.key.startswith("ip:")


def mask_email(email: str) -> str:
    """``alice@example.com`` → ``a***@example.com``: recognisable to staff, not a full address."""
    local, _sep, domain = email.strip().partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain.lower()}"


class WebhookDeliveryQuerySet(models.QuerySet["WebhookDelivery"]):
    def stale(self, older_than: timedelta, now: datetime | None = None) -> WebhookDeliveryQuerySet:
        """Pending deliveries older than ``older_than``: their Celery message was lost."""
        return self.filter(status=WebhookDelivery.Status.PENDING, created_at__lt=(now or timezone.now()) - older_than)


class WebhookDelivery(models.Model):
    """One signed call to the host app; the row is the truth, the Celery message only a nudge."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed for good")
        SKIPPED = "skipped", _("No webhook configured")

    event = models.CharField(max_length=40)
    case = models.ForeignKey(Case, null=True, on_delete=models.SET_NULL, related_name="webhook_deliveries")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"


# Models in their own modules, still abuse_app models: the CyberTipline report of a child-safety
# case, the hash banks, and the DSA duties outside the portal (Transparency Database, Art. 18).
from abuse_app.cybertipline.models import CyberTiplineReport as CyberTiplineReport  # noqa: E402
from abuse_app.dsa.models import AuthorityNotification as AuthorityNotification  # noqa: E402
from abuse_app.dsa.models import StatementSubmission as StatementSubmission  # noqa: E402
from abuse_app.hashmatch.models import BankedHash as BankedHash  # noqa: E402
from abuse_app.hashmatch.models import HashBank as HashBank  # noqa: E402
