"""Privacy requests, the execution engine's rows, the Azure transmission ledger, consent.

The database is the truth for every state: a Celery message only says "look
at row N again". Status changes go through ``PrivacyRequest.transition`` which
checks the state machine and writes the audit event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal import audit, references
from portal.transitions import InvalidTransition as InvalidTransition  # this app's refusal (engine, services)
from portal.transitions import Transitions


def new_reference() -> str:
    """A privacy request's reference, ``PR-XXXX-XXXX`` (the field default the migrations name)."""
    return references.new_reference("PR")


class PrivacyRequestQuerySet(models.QuerySet):
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
        return self.with_deadline().filter(effective_due__lt=(now or timezone.now()) + period)

    def overdue(self, now: datetime | None = None) -> PrivacyRequestQuerySet:
        """Requests with a running deadline that has passed."""
        return self.with_deadline().filter(effective_due__lt=now or timezone.now())

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
        UNVERIFIED = "unverified", "Waiting for e-mail confirmation"
        VERIFIED = "verified", "Confirmed, waiting for review"
        APPROVED = "approved", "Approved, scheduled"
        RUNNING = "running", "In progress"
        COMPLETED = "completed", "Completed"
        NEEDS_ATTENTION = "needs_attention", "Needs staff attention"
        DENIED = "denied", "Denied"
        EXPIRED = "expired", "Expired (never confirmed)"
        CANCELED = "canceled", "Canceled"

    class Channel(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "Public API"
        HOST_APP = "host_app", "Host app (authenticated user)"
        CONSENT_WITHDRAWAL = "consent_withdrawal", "Consent withdrawn"
        STAFF = "staff", "Staff"

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
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="assigned_privacy_requests")
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


@dataclass(frozen=True)
class Progress:
    """How far a request's store tasks are: for the status page (a bar and a table) and the API."""

    done: int = 0  # succeeded or skipped
    failed: int = 0
    total: int = 0
    tasks: list[dict[str, str]] = field(default_factory=list)  # store, phase, status (words), state

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class StoreTaskQuerySet(models.QuerySet["StoreTask"]):
    def progress(self) -> Progress:
        """The progress of these tasks, in one query (``Progress.total`` is 0 before the engine plans)."""
        tasks = list(self.only("store", "phase", "status").order_by("id"))
        finished = (StoreTask.Status.SUCCEEDED, StoreTask.Status.SKIPPED)
        return Progress(
            done=sum(1 for t in tasks if t.status in finished),
            failed=sum(1 for t in tasks if t.status == StoreTask.Status.FAILED),
            total=len(tasks),
            tasks=[
                {
                    "store": t.store,
                    "phase": t.get_phase_display(),
                    "status": t.get_status_display(),
                    "state": t.status,
                }
                for t in tasks
            ],
        )

    def reset_for_retry(self) -> int:
        """Failed and waiting tasks start again with a fresh budget of attempts (staff pressed retry)."""
        return self.filter(status__in=[StoreTask.Status.FAILED, StoreTask.Status.PENDING]).update(
            status=StoreTask.Status.PENDING, attempts=0, next_attempt_at=None, dispatched_at=None, heartbeat_at=None
        )


class StoreTask(models.Model):
    """One (request, store, phase) unit of work. The row, not the broker message, is the truth."""

    class Phase(models.TextChoices):
        DISCOVER = "discover", "Discover"
        EXPORT = "export", "Export"
        ERASE = "erase", "Erase"
        VERIFY = "verify", "Verify gone"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    # Failed → pending happens in bulk when staff retry (StoreTaskQuerySet.reset_for_retry).
    TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.RUNNING},
        Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.PENDING},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
        Status.SKIPPED: set(),
    }

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="store_tasks")
    store = models.CharField(max_length=64)
    store_kind = models.CharField(max_length=32)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    found_count = models.PositiveIntegerField(default=0)
    exported_count = models.PositiveIntegerField(default=0)
    erased_count = models.PositiveIntegerField(default=0)
    anonymised_count = models.PositiveIntegerField(default=0)
    verified_gone = models.BooleanField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="Per-table/per-item counts; no personal data.")

    objects = StoreTaskQuerySet.as_manager()

    class Meta:
        ordering = ["request_id", "id"]
        constraints = [models.UniqueConstraint(fields=["request", "store", "phase"], name="one_task_per_store_phase")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.store}/{self.phase}"

    # The status changes only through the methods below, each saving what it changed (and the result
    # fields the caller names in ``also``). Call them on a row locked with select_for_update.
    def start_attempt(self, *, now: datetime) -> None:
        """A worker claims this pending task: running, one attempt more, heartbeat now."""
        self._move(self.Status.RUNNING, attempts=self.attempts + 1, started_at=self.started_at or now,
                   heartbeat_at=now)

    def succeed(self, *, now: datetime, also: Iterable[str] = ()) -> None:
        """The store did its part; ``also`` names the result fields the caller set (counts, detail...)."""
        self._move(self.Status.SUCCEEDED, also, finished_at=now, heartbeat_at=now, next_attempt_at=None)

    def fail(self, *, now: datetime, error: str, also: Iterable[str] = ()) -> None:
        """Given up on: no attempt is left, or the error is one no retry mends."""
        self._move(self.Status.FAILED, also, finished_at=now, last_error=error[:2000])

    def retry_later(self, *, at: datetime | None, error: str, dispatched_at: datetime | None = None,
                    also: Iterable[str] = ()) -> None:
        """Back to pending, to run again at ``at`` (None: when the sweep hands it out again)."""
        fields: dict[str, Any] = {"next_attempt_at": at, "last_error": error[:2000]}
        if dispatched_at is not None:
            fields["dispatched_at"] = dispatched_at
        self._move(self.Status.PENDING, also, **fields)

    def _move(self, to: str, also: Iterable[str] = (), **fields: Any) -> None:
        if to not in self.TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"Store task {self}: a task that is “{self.get_status_display().lower()}” cannot become "
                f"“{self.Status(to).label.lower()}”."
            )
        self.status = to
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=sorted({"status", *fields, *also}))


class SubjectIdentity(models.Model):
    """An identity of the subject known to the engine (e-mail, user_id, blob name...).

    Persisted so discovery is not repeated on retry; purged when the request closes.
    """

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=64)
    value = models.CharField(max_length=512)
    source = models.CharField(max_length=64, help_text="The store that provided it, or 'request'.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "kind", "value"], name="unique_identity")]

    def __str__(self) -> str:
        return f"{self.kind} from {self.source}"


class AccessPackage(models.Model):
    """The ZIP built for an access request; private, expiring, download-limited."""

    request = models.OneToOneField(PrivacyRequest, on_delete=models.CASCADE, related_name="package")
    path = models.CharField(max_length=500, help_text="Relative to PORTAL_PRIVATE_ROOT.")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    download_token_hash = models.CharField(max_length=64, db_index=True)
    download_count = models.PositiveIntegerField(default=0)
    max_downloads = models.PositiveIntegerField(default=5)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Re-authentication before a download (requests_app/engine/reauth.py): a one-time code e-mailed
    # to the confirmed address; only its keyed hash is kept, with its expiry and the wrong tries.
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"package of request #{self.request_id}"

    @property
    def is_available(self) -> bool:
        return self.deleted_at is None and self.expires_at > timezone.now() and self.download_count < self.max_downloads


class ConsentPurpose(models.Model):
    """Why the host app sends someone's data to Microsoft, as configured by the operator."""

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    services = models.JSONField(default=list, help_text="Azure services used, e.g. ['face'].")
    requires_consent = models.BooleanField(default=True, help_text="Off only for purposes with another legal basis.")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title

    def current_notice(self) -> ConsentNotice | None:
        return self.notices.order_by("-version").first()


class ConsentNotice(models.Model):
    """A version of the notice text shown before consent. Published versions are never edited."""

    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="notices")
    version = models.PositiveIntegerField()
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["purpose", "version"], name="unique_notice_version")]

    def __str__(self) -> str:
        return f"{self.purpose.slug} v{self.version}"


class Consent(models.Model):
    """One grant of consent by a subject for a purpose; withdrawal sets withdrawn_at."""

    class Method(models.TextChoices):
        WEB = "web", "Web page"
        API = "api", "Host app API"

    subject_kind = models.CharField(max_length=64, default="user_id")
    subject_value = models.CharField(max_length=512)
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="consents")
    notice = models.ForeignKey(ConsentNotice, on_delete=models.PROTECT, related_name="consents")
    notice_text = models.TextField(help_text="The exact text shown.")
    granted_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices)
    withdrawn_method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subject_kind", "subject_value", "purpose", "withdrawn_at"])]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "granted"
        return f"{self.purpose_id}: {state} {self.granted_at:%Y-%m-%d}"

    def withdraw(self, *, method: str, actor: Any, at: datetime | None = None) -> None:
        """Mark withdrawn, save and audit — one step (inside the caller's transaction)."""
        self.withdrawn_at = at or timezone.now()
        self.withdrawn_method = method
        self.save(update_fields=["withdrawn_at", "withdrawn_method"])
        audit.record(subject_type="consent", subject_id=self.pk, action="consent.withdrawn", actor=actor,
                     data={"purpose": self.purpose.slug, "method": method})


class Transmission(models.Model):
    """One thing the host app sent to Azure (the ledger). Erasure deletes exactly these.

    After erasure the row stays as a tombstone: ``subject_value`` is replaced by
    a keyed hash, ``deleted_at`` and ``deleted_by_task`` say when and how.
    """

    class Service(models.TextChoices):
        FACE = "face", "Azure AI Face"
        BLOB = "blob", "Azure Blob Storage"
        VIDEO_INDEXER = "video_indexer", "Azure AI Video Indexer"
        SPEECH = "speech", "Azure AI Speech"
        SPEAKER_RECOGNITION = "speaker_recognition", "Speaker Recognition (retired)"
        MEDIA_SERVICES = "media_services", "Azure Media Services (retired; storage containers)"
        OTHER = "other", "Other Azure AI service"

    class PayloadKind(models.TextChoices):
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        VIDEO = "video", "Video"
        TEXT = "text", "Text"
        OTHER = "other", "Other"

    client_id = models.CharField(max_length=128, unique=True,
                                 help_text="The host app's id for this record (idempotency).")
    service = models.CharField(max_length=24, choices=Service.choices)
    account = models.CharField(max_length=300, help_text="Endpoint, storage account or Video Indexer account.")
    resource_kind = models.CharField(max_length=40,
                                     help_text="e.g. person, persisted_face, blob, video, transcription.")
    resource_id = models.CharField(max_length=512)
    parent_ids = models.JSONField(default=dict, blank=True, help_text="e.g. {'person_group': 'app-users'}.")
    subject_kind = models.CharField(max_length=64, default="user_id")
    subject_value = models.CharField(max_length=512, db_index=True)
    purpose = models.CharField(max_length=64, db_index=True)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="transmissions")
    payload_kind = models.CharField(max_length=8, choices=PayloadKind.choices)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by_task = models.ForeignKey(StoreTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deletion_note = models.CharField(max_length=300, blank=True,
                                     help_text="e.g. 'no deletion API: request through Microsoft support'.")

    class Meta:
        indexes = [models.Index(fields=["subject_kind", "subject_value", "deleted_at"])]

    def __str__(self) -> str:
        return f"{self.service}:{self.resource_kind}:{self.resource_id}"


class AzureScan(models.Model):
    """One orphan scan of the Azure stores (``manage.py azure_scan``, weekly beat).

    Lists Azure resources that a configured subject pattern points at (userData,
    externalId, customProperties, blob names) whose subject has no live ledger row
    or was already erased. The scan only reads; staff decide what to do.
    """

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    scanned = models.PositiveIntegerField(default=0, help_text="Resources matching a subject pattern.")
    orphans = models.JSONField(default=list, blank=True,
                               help_text="[{store, what, where, identity_kind, identity_value, why}]")
    errors = models.JSONField(default=list, blank=True, help_text="[{store, error}] for stores that failed.")

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "Azure orphan scan"

    def __str__(self) -> str:
        return f"Azure scan {self.started_at:%Y-%m-%d %H:%M}: {len(self.orphans)} orphan(s)"


class StatusLinkQuerySet(models.QuerySet):
    def active(self):
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


class ConsentLink(models.Model):
    """A link the host app hands a subject to the consent page: random, hashed, revocable.

    Bound to one subject and the purposes it was issued for; it carries no personal data (the
    old signed link decoded to the user id and e-mail address) and expires after an hour.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    subject_kind = models.CharField(max_length=64)
    subject_value = models.CharField(max_length=512)
    email = models.EmailField(max_length=254, blank=True, help_text="Where the deletion receipt goes.")
    purposes = models.JSONField(default=list, help_text="Slugs of the purposes this link may change.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"consent link {self.token_hash[:8]}… for {', '.join(self.purposes)}"

    def usable_for(self, purpose_slug: str) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now() and purpose_slug in self.purposes
