"""Rows of the Data Rights Protocol: admitted agents, their pairwise tokens, requests, seen messages."""

from __future__ import annotations

import base64
import binascii
import re
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.models import PrivacyRequest

# The directory's pattern is [A-Z_]+; OSIRAA and live agents also use lower case, digits and dashes.
AGENT_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def validate_agent_id(value: str) -> None:
    if not AGENT_ID_RE.match(value or ""):
        raise ValidationError(_("An agent id is 1–64 letters, digits, “_”, “.” or “-”."))


def decode_verify_key(value: str) -> bytes:
    """The 32 raw bytes of a base64 Ed25519 verify key (DRP ≥ 0.9.1; hex before that is refused)."""
    try:
        raw = base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("The verify key must be base64 (the directory's “verify_key”).")) from None
    if len(raw) != 32:
        raise ValidationError(
            _("The verify key must be 32 bytes of Ed25519 public key; this one is %(n)d bytes.") % {"n": len(raw)}
        )
    return raw


def validate_verify_key(value: str) -> None:
    decode_verify_key(value)


class DrpAgent(models.Model):
    """An authorized agent staff admitted (one entry of the DRP service directory)."""

    agent_id = models.CharField(
        max_length=64,
        unique=True,
        validators=[validate_agent_id],
        help_text="The directory's “id”; the agent signs it as “agent-id”.",
    )
    name = models.CharField(max_length=200)
    verify_key = models.CharField(
        max_length=64,
        validators=[validate_verify_key],
        help_text="Base64 Ed25519 public key (the directory's “verify_key”).",
    )
    web_url = models.URLField(blank=True)
    identity_assurance_url = models.URLField(blank=True)
    technical_contact = models.CharField(max_length=254, blank=True)
    business_contact = models.CharField(max_length=254, blank=True)
    active = models.BooleanField(default=True, help_text="Off: pairing and requests are refused (403).")
    admitted_at = models.DateTimeField(default=timezone.now)
    admitted_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "DRP agent"
        ordering = ["agent_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.agent_id})"

    @property
    def verify_key_bytes(self) -> bytes:
        return decode_verify_key(self.verify_key)


class DrpToken(models.Model):
    """A pairwise bearer token (§2.05); only its SHA-256 is stored. A new pairing revokes the older ones."""

    agent = models.ForeignKey(DrpAgent, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "DRP pairwise token"

    def __str__(self) -> str:
        return f"token {self.token_hash[:8]}… of {self.agent_id}"


class DrpRequest(models.Model):
    """One Data Rights Exercise request of an agent; its status derives from the privacy request."""

    class Exercise(models.TextChoices):
        ACCESS = "access", "access"
        DELETION = "deletion", "deletion"
        SALE_OPT_OUT = "sale:opt-out", "sale:opt-out"
        SALE_OPT_IN = "sale:opt-in", "sale:opt-in"

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agent = models.ForeignKey(DrpAgent, on_delete=models.PROTECT, related_name="requests")
    agent_request_id = models.CharField(max_length=200, blank=True)
    exercise = models.CharField(max_length=16, choices=Exercise.choices)
    drp_version = models.CharField(max_length=8)
    regime = models.CharField(max_length=16, blank=True)
    # Several DRP requests may share one privacy request: a repeat while one is open is linked to it.
    privacy_request = models.ForeignKey(
        PrivacyRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="drp_requests"
    )
    status_callback = models.URLField(max_length=2000, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # For exercises without a privacy request (opt-out/opt-in) and for revocation: the final word.
    final_status = models.CharField(max_length=16, blank=True)
    final_reason = models.CharField(max_length=32, blank=True)
    processing_details = models.CharField(max_length=500, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=500, blank=True)
    # Status callbacks: each one queued gets the next number; an older one never overwrites a newer one.
    callback_seq = models.PositiveIntegerField(default=0)
    callback_delivered_seq = models.PositiveIntegerField(default=0)
    callback_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "DRP request"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "agent_request_id"],
                condition=~models.Q(agent_request_id=""),
                name="drp_unique_agent_request_id",
            ),
        ]

    def __str__(self) -> str:
        return f"DRP {self.exercise} {self.request_id}"


class DrpMessage(models.Model):
    """The SHA-256 of every signed message accepted: a replay is recognised and refused (strict, §3.07)."""

    digest = models.CharField(max_length=64, unique=True)
    agent = models.ForeignKey(DrpAgent, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # "pair" or "exercise"
    request = models.ForeignKey(DrpRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "DRP message seen"

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:8]}…"
