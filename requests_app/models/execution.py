"""The engine's rows: one task per (request, store, phase), the identities it found, the access package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from portal.transitions import InvalidTransition
from requests_app.models.privacy_request import PrivacyRequest


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
        self._move(self.Status.RUNNING, attempts=self.attempts + 1, started_at=self.started_at or now, heartbeat_at=now)

    def succeed(self, *, now: datetime, also: Iterable[str] = ()) -> None:
        """The store did its part; ``also`` names the result fields the caller set (counts, detail...)."""
        self._move(self.Status.SUCCEEDED, also, finished_at=now, heartbeat_at=now, next_attempt_at=None)

    def fail(self, *, now: datetime, error: str, also: Iterable[str] = ()) -> None:
        """Given up on: no attempt is left, or the error is one no retry mends."""
        self._move(self.Status.FAILED, also, finished_at=now, last_error=error[:2000])

    def retry_later(
        self, *, at: datetime | None, error: str, dispatched_at: datetime | None = None, also: Iterable[str] = ()
    ) -> None:
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
