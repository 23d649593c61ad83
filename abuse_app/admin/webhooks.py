"""Webhook deliveries to the host app, with a way to send failed ones again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import services
from abuse_app.models import WebhookDelivery
from portal.roles import staff_user

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only: at run time it takes no parameters
    WebhookDeliveryAdminBase = admin.ModelAdmin[WebhookDelivery]
else:
    WebhookDeliveryAdminBase = admin.ModelAdmin


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(WebhookDeliveryAdminBase):
    list_display = ["__str__", "case", "status", "attempts", "last_error", "created_at", "delivered_at"]
    list_filter = ["status", "event"]
    list_select_related = ["case"]
    readonly_fields = [
        "event",
        "case",
        "payload",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    @admin.action(description=_("Send the selected deliveries again"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = services.webhooks_retry(deliveries=queryset, actor=staff_user(request))
        messages.success(
            request,
            ngettext("%(n)d failed delivery queued again.", "%(n)d failed deliveries queued again.", count)
            % {"n": count},
        )
