"""Consent to sending someone's data to Microsoft: purposes, notice versions, grants, consent-page links."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from portal import audit


class ConsentPurpose(models.Model):
    """Why the host app sends someone's data to Microsoft, as configured by the operator."""

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    services = models.JSONField(default=list, help_text="Azure services used, e.g. ['face'].")
    requires_consent = models.BooleanField(default=True, help_text="Off only for purposes with another legal basis.")
    sale_or_sharing = models.BooleanField(
        default=False,
        help_text="Sale, sharing or targeted advertising: Global Privacy Control and DRP opt-outs "
        "withdraw it (CCPA, 11 CCR §7025).",
    )
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
        GPC = "gpc", "Global Privacy Control signal"
        DRP = "drp", "Data Rights Protocol agent"

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
    # Granted after the page said the browser's Global Privacy Control signal asks otherwise (11 CCR
    # §7025(c)(3)): the person's explicit choice, which the same signal then no longer withdraws.
    gpc_confirmed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["subject_kind", "subject_value", "purpose", "withdrawn_at"])]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "granted"
        return f"{self.purpose_id}: {state} {self.granted_at:%Y-%m-%d}"

    def withdraw(self, *, method: str, actor: audit.Actor, at: datetime | None = None) -> None:
        """Mark withdrawn, save and audit — one step (inside the caller's transaction)."""
        self.withdrawn_at = at or timezone.now()
        self.withdrawn_method = method
        self.save(update_fields=["withdrawn_at", "withdrawn_method"])
        audit.record(
            subject_type="consent",
            subject_id=self.pk,
            action="consent.withdrawn",
            actor=actor,
            data={"purpose": self.purpose.slug, "method": method},
        )


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
