"""Hash banks: lists of PDQ and MD5 hashes of known material, from files or confirmed cases."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HashKind(models.TextChoices):
    PDQ = "pdq", _("PDQ (perceptual, 256 bits)")
    MD5 = "md5", _("MD5 (exact)")


HEX_LENGTH: dict[str, int] = {HashKind.PDQ.value: 64, HashKind.MD5.value: 32}


class HashBank(models.Model):
    class Source(models.TextChoices):
        FILE = "file", _("Imported from a file (CSV / ThreatExchange export)")
        CASES = "cases", _("The portal's own confirmed cases")

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILE)
    active = models.BooleanField(default=True, help_text=_("Inactive banks are not matched against."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BankedHash(models.Model):
    bank = models.ForeignKey(HashBank, on_delete=models.CASCADE, related_name="hashes")
    kind = models.CharField(max_length=3, choices=HashKind.choices)
    value = models.CharField(max_length=64, help_text=_("Lower-case hex."))
    label = models.CharField(max_length=100, blank=True, help_text=_("From the source, e.g. a classification."))
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank", "kind", "value"], name="abuse_banked_hash_once_per_bank"),
            models.CheckConstraint(
                condition=(models.Q(kind="pdq") & models.Q(value__regex=r"^[0-9a-f]{64}$"))
                | (models.Q(kind="md5") & models.Q(value__regex=r"^[0-9a-f]{32}$")),
                name="abuse_banked_hash_hex_of_its_kind",
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value[:12]}…"
