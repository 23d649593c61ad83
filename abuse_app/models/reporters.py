"""Reporters' standing: misuse handling (DSA Art. 23), warn, then suspend."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone


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
