"""Shared models: the append-only audit trail, host-app API keys, heartbeats."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device

from portal import tokens
from portal.policy import render_policy

if TYPE_CHECKING:
    from portal.audit import Actor


class AuditEvent(models.Model):
    """One thing that happened to a request, case or key. Never updated, never deleted.

    ``subject_type``/``subject_id`` name what it happened to (e.g.
    ``privacy_request``/42) without a foreign key, so the trail survives the
    purge of the thing's personal data. ``reason`` and ``data`` must not hold
    personal data beyond what staff typed as a reason.
    """

    class ActorType(models.TextChoices):
        STAFF = "staff", "Staff"
        REQUESTER = "requester", "Requester"
        HOST_APP = "host_app", "Host app"
        SYSTEM = "system", "System"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text="Who, when not a staff user (API key name, task)."
    )
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=64)
    action = models.CharField(max_length=60)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The hash chain (portal/audit_chain.py): set once, right after the writing transaction commits.
    seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.subject_type}#{self.subject_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)  # portal.audit_chain seals it after the commit (post_save)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")

    @property
    def who(self) -> str:
        if self.actor_id:
            return self.actor.get_username() if self.actor else f"user #{self.actor_id}"
        return self.actor_label or self.get_actor_type_display()


class ApiKey(models.Model):
    """A host app's key. Shown once at creation; only its hash is stored."""

    class Scope(models.TextChoices):
        REQUESTS_WRITE = "requests:write", "File privacy requests for authenticated users"
        REQUESTS_READ = "requests:read", "Read privacy request status"
        TRANSMISSIONS_WRITE = "transmissions:write", "Record transmissions to Azure"
        CONSENTS_READ = "consents:read", "Check consent"
        CONSENTS_WRITE = "consents:write", "Grant and withdraw consent"
        ABUSE_WRITE = "abuse:write", "File abuse reports"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the key does not expire.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, *, name: str, scopes: list[str], created_by: Any = None, expires_at: datetime.datetime | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key; returns (row, the raw key to show once)."""
        raw = tokens.new_token("pk")
        key = cls.objects.create(
            name=name,
            prefix=raw[3:11],
            key_hash=tokens.hash_token(raw),
            scopes=list(scopes),
            created_by=created_by,
            expires_at=expires_at,
        )
        return key, raw

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes


class Heartbeat(models.Model):
    """When a background process last proved it was alive (read by /healthz)."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, name: str) -> None:
        cls.objects.update_or_create(name=name, defaults={"at": timezone.now()})


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def published(self) -> PolicyVersionQuerySet:
        return self.filter(published_at__isnull=False)

    def in_force(self, language: str, today: datetime.date | None = None) -> PolicyVersion | None:
        """The newest published version in force today: in ``language`` if translated, else in English.

        A newer version published in English only wins over an older translation: the version in
        force is what counts, shown in English with a note rather than an outdated text.
        """
        today = today or timezone.localdate()
        current = self.published().filter(effective_date__lte=today)
        newest = current.order_by("-version").values_list("version", flat=True).first()
        if newest is None:
            return None
        candidates = {p.language: p for p in current.filter(version=newest)}
        return candidates.get(language[:2]) or candidates.get("en") or next(iter(candidates.values()))


class PolicyVersion(models.Model):
    """One version of the privacy policy, in one language, written by the operator in admin.

    A draft can be edited freely; once published it never changes (a change is a new
    version), so what a person read on a given day can always be shown again at
    ``/privacy/v/<version>/``. The version in force is the highest published one whose
    effective date has come. The body is Markdown; raw HTML is shown as text, and
    ``{app_name}``, ``{operator_name}`` and ``{operator_contact}`` are filled in from settings.
    """

    version = models.PositiveIntegerField(help_text="1, 2, 3… The same number in each language of a version.")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    effective_date = models.DateField(help_text="The day this version takes effect.")
    summary_of_changes = models.CharField(
        max_length=300, blank=True, help_text="One line for the list of versions, e.g. 'Added Speech'."
    )
    body = models.TextField(
        help_text="Markdown: ## headings, paragraphs, - lists, [links](https://…). "
        "Placeholders: {app_name}, {operator_name}, {operator_contact}."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-version", "language"]
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="policy_version_language_unique"),
        ]
        verbose_name = "privacy policy version"

    def __str__(self) -> str:
        state = "published" if self.is_published else "draft"
        return f"Privacy policy v{self.version} ({self.language}, {state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        frozen = PolicyVersion.objects.filter(pk=self.pk, published_at__isnull=False)
        if self.pk is not None and frozen.exists():
            raise PermissionError("a published privacy policy version never changes; create a new version")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_published:
            raise PermissionError("a published privacy policy version stays readable; it cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def publish(self, *, actor: Actor = None) -> None:
        if self.is_published:
            return
        PolicyVersion.objects.filter(pk=self.pk, published_at__isnull=True).update(
            published_at=timezone.now(), published_by=actor
        )
        self.refresh_from_db()

    def render(self) -> str:
        return render_policy(self.body)


class EnrolmentInvite(models.Model):
    """Permission to set up a second factor, issued by an admin: a stolen password alone cannot enrol.

    The link (or the code in it) is shown once to the admin who issues it and handed to the staff
    member through a channel the admin trusts; only its SHA-256 is stored. It works once, for that
    account only, until ``expires_at``. Issuing a new invite cancels the account's earlier ones.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"second-factor invite for user #{self.user_id}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.canceled_at is None and self.expires_at > timezone.now()


class PasskeyDevice(Device):  # type: ignore[misc]  # django-otp ships no type hints
    """A WebAuthn passkey as a django-otp device, so a passkey login verifies the session like a TOTP code.

    Only the public key is stored; the private key never leaves the person's authenticator.
    """

    # django-otp ships no type information, so the field types are spelled out for mypy.
    credential_id: models.CharField[Any, Any] = models.CharField(max_length=1400, unique=True, help_text="base64url")
    public_key: models.BinaryField[Any, Any] = models.BinaryField()
    sign_count: models.PositiveBigIntegerField[Any, Any] = models.PositiveBigIntegerField(default=0)
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(default=timezone.now)
    last_used_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True, blank=True)

    def verify_token(self, token: Any) -> bool:
        return False  # a passkey answers a challenge (portal/passkeys.py), never a typed code


class MetricCounter(models.Model):
    """A counter that every process adds to (Prometheus /metrics reads them; see portal.metrics).

    In the database rather than in process memory: gunicorn and Celery run many
    processes on many hosts, and a scrape must see the sum of all of them.
    """

    name = models.CharField(max_length=64)
    labels = models.CharField(max_length=200, blank=True, help_text='Sorted "key=value" pairs, comma separated.')
    value = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="one_counter_per_name_labels")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} = {self.value:g}"


class TaskFailure(models.Model):
    """One failed run of a background task (e.g. finishing a request), kept for a week.

    /healthz and /metrics read these to tell "the same thing keeps failing" (a
    missing key, a broken template) from one unlucky run; the engine counts them
    per request to stop retrying and hand the request to staff.
    """

    task = models.CharField(max_length=64)
    subject = models.CharField(max_length=64, blank=True, help_text="What the run was about, e.g. a request id.")
    error = models.CharField(max_length=300, help_text="Exception class and message, shortened.")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["task", "subject", "at"])]

    def __str__(self) -> str:
        return f"{self.task}[{self.subject}] {self.error}"
