"""The privacy request: its state machine (``portal.transitions``), its queries, its secret status links."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import references
from portal.transitions import InvalidTransition, Transitions


def new_reference() -> str:
    """A privacy request's reference, ``PR-XXXX-XXXX`` (the field default the migrations name)."""
    return references.new_reference("PR")


class PrivacyRequestQuerySet(models.QuerySet["PrivacyRequest"]):
    """The questions asked of privacy requests, each written once."""

    def open(self) -> PrivacyRequestQuerySet:
        """Not yet closed: waiting for confirmation, review, the run, or staff."""
        return self.filter(status__in=PrivacyRequest.OPEN_STATUSES)

    def awaiting_review(self) -> PrivacyRequestQuerySet:
        """Confirmed by the requester, not yet approved or denied by staff."""
        return self.filter(status=PrivacyRequest.Status.VERIFIED)

    def with_deadline(self) -> PrivacyRequestQuerySet:
        """Requests whose legal deadline still runs, annotated with ``effective_due`` (extension or first)."""
        return self.filter(status__in=PrivacyRequest.DEADLINE_STATUSES).annotate(
            effective_due=Coalesce("extended_due_at", "due_at", output_field=models.DateTimeField())
        )

    def due_within(self, period: timedelta, now: datetime | None = None) -> PrivacyRequestQuerySet:
        """Requests with a running deadline that falls before ``now + period`` (overdue ones included)."""
        return self._due_before((now or timezone.now()) + period)

    def overdue(self, now: datetime | None = None) -> PrivacyRequestQuerySet:
        """Requests with a running deadline that has passed."""
        return self._due_before(now or timezone.now())

    def _due_before(self, when: datetime) -> PrivacyRequestQuerySet:
        # A lookup on the annotation as an expression: the type checker knows only the model's fields.
        return self.with_deadline().filter(LessThan(F("effective_due"), when))

    def unconfirmed_since(self, cutoff: datetime) -> PrivacyRequestQuerySet:
        """Never confirmed, and the last confirmation link ran out at or before ``cutoff``."""
        return self.filter(status=PrivacyRequest.Status.UNVERIFIED, verify_expires_at__lte=cutoff)

    def pii_kept_after_close(self, cutoff: datetime) -> PrivacyRequestQuerySet:
        """Closed before ``cutoff`` with the requester's personal data still in the row."""
        return self.filter(closed_at__lt=cutoff, pii_purged_at__isnull=True)

    def locked(self, pk: int) -> PrivacyRequest:
        """The request row, locked until the surrounding transaction ends (call inside ``atomic``)."""
        return self.select_for_update().get(pk=pk)


class PrivacyRequest(Transitions, models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", "Access (a copy of my data)"
        DELETION = "deletion", "Deletion"

    class Jurisdiction(models.TextChoices):
        GDPR = "gdpr", "GDPR (EU/EEA/UK)"
        CCPA = "ccpa", "CCPA (California)"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        # Labels translated: the requester's status page shows them (get_status_display).
        UNVERIFIED = "unverified", _("Waiting for e-mail confirmation")
        VERIFIED = "verified", _("Confirmed, waiting for review")
        APPROVED = "approved", _("Approved, scheduled")
        RUNNING = "running", _("In progress")
        COMPLETED = "completed", _("Completed")
        NEEDS_ATTENTION = "needs_attention", _("Needs staff attention")
        DENIED = "denied", _("Denied")
        EXPIRED = "expired", _("Expired (never confirmed)")
        CANCELED = "canceled", _("Canceled")

    class Channel(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "Public API"
        HOST_APP = "host_app", "Host app (authenticated user)"
        CONSENT_WITHDRAWAL = "consent_withdrawal", "Consent withdrawn"
        STAFF = "staff", "Staff"
        DRP = "drp", "Data Rights Protocol agent"
        AGENT = "agent", "Authorized agent (form or API)"

    S = Status
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        S.UNVERIFIED: {S.VERIFIED, S.EXPIRED, S.CANCELED},
        S.VERIFIED: {S.APPROVED, S.DENIED, S.CANCELED},
        S.APPROVED: {S.RUNNING, S.DENIED, S.CANCELED},
        S.RUNNING: {S.COMPLETED, S.NEEDS_ATTENTION},
        S.NEEDS_ATTENTION: {S.RUNNING, S.COMPLETED},
        S.COMPLETED: set(),
        S.DENIED: set(),
        S.EXPIRED: set(),
        S.CANCELED: set(),
    }
    OPEN_STATUSES = (S.UNVERIFIED, S.VERIFIED, S.APPROVED, S.RUNNING, S.NEEDS_ATTENTION)
    CLOSED_STATUSES = (S.COMPLETED, S.DENIED, S.EXPIRED, S.CANCELED)
    # Statuses in which the legal deadline runs: staff may extend it and are reminded of it.
    DEADLINE_STATUSES = (S.VERIFIED, S.APPROVED, S.RUNNING, S.NEEDS_ATTENTION)
    AUDIT_SUBJECT = "privacy_request"
    NOUN = "request"
    invalid_transition = InvalidTransition

    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNVERIFIED)
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices, default=Jurisdiction.GDPR)
    channel = models.CharField(max_length=24, choices=Channel.choices, default=Channel.WEB)
    # Requester personal data: blanked by the retention purge (pii_purged_at set).
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    identifiers = models.JSONField(default=dict, blank=True, help_text="Extra identifiers, e.g. {'username': 'x'}.")
    language = models.CharField(max_length=8, default="en")
    # Consent withdrawal: only the Azure data sent under this purpose is erased.
    scope_purpose = models.CharField(max_length=64, blank=True)

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    extended_due_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    run_after = models.DateTimeField(null=True, blank=True, help_text="End of the grace period before execution.")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    pii_purged_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_privacy_requests",
    )
    decision_reason = models.TextField(blank=True)
    attention_reason = models.TextField(blank=True, help_text="Why the request needs staff (shown in admin).")

    # Secrets from the e-mails; only hashes are stored (see portal.tokens; status links: StatusLink).
    verify_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    verify_expires_at = models.DateTimeField(null=True, blank=True)

    # Deletion receipt (kept after the personal data is purged; contains none).
    receipt = models.JSONField(null=True, blank=True)
    receipt_signature = models.CharField(max_length=128, blank=True)  # Ed25519 hex; 64 for HMAC (v1)

    objects = PrivacyRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["assigned_to", "status"]),
            models.Index(fields=["status", "run_after"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def effective_due_at(self) -> datetime | None:
        return self.extended_due_at or self.due_at

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        due = self.effective_due_at
        return bool(due and self.is_open and due < timezone.now())

    def transition_fields(self, to: str) -> dict[str, Any]:
        """Closing a request stamps ``closed_at`` (the retention clock starts then), once."""
        if to in self.CLOSED_STATUSES and self.closed_at is None:
            return {"closed_at": timezone.now()}
        return {}


class StatusLinkQuerySet(models.QuerySet["StatusLink"]):
    def active(self) -> StatusLinkQuerySet:
        return self.filter(revoked_at__isnull=True)


class StatusLink(models.Model):
    """One secret status-page link of a request: random, stored as its SHA-256, revocable alone.

    Every e-mail that points at the status page carries a link of its own; they all work until
    revoked (by staff in the admin, or by the requester asking for the links again, which
    revokes the old ones). The raw token is never stored, so nobody — not even whoever holds the
    signing keys — can compute a link.
    """

    class Origin(models.TextChoices):
        EMAIL = "email", "e-mail"
        RESENT = "resent", "sent again on request"
        VERIFIED = "verified", "after confirming"
        API = "api", "host app API"
        LEGACY = "legacy", "HMAC-derived (before random links)"
        AGENT = "agent", "the authorized agent's (status only, never the data)"

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="status_links")
    token_hash = models.CharField(max_length=64, unique=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)

    objects = StatusLinkQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["request", "revoked_at"])]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"status link {self.token_hash[:8]}… of request #{self.request_id} ({state})"
