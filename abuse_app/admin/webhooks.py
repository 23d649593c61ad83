"""Webhook deliveries to the host app, with a way to send failed ones again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import services
from abuse_app.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected deliveries again"), permissions=["change"])
    def retry(self, request, queryset):
        count = services.webhooks_retry(deliveries=queryset, actor=request.user)
        messages.success(
            request,
            ngettext("%(n)d failed delivery queued again.", "%(n)d failed deliveries queued again.", count)
            % {"n": count},
        )
