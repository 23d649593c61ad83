"""The outbox of signed calls telling the host app what to do."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abuse_app.models.cases import Case


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
