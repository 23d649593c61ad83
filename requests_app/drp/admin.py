"""Admin of the DRP: staff admit agents (key pasted, or imported from the directory JSON) and see requests."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.admin import ReadOnlyAdmin
from requests_app.drp import directory, services
from requests_app.drp.models import DrpAgent, DrpRequest


class ImportForm(forms.Form):
    directory_json = forms.CharField(
        label=_("Service directory JSON"),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100}),
        help_text=_('One agent entry of the DRP service directory, a list of them, or {"agents": [...]}.'),
    )


@admin.register(DrpAgent)
class DrpAgentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("agent_id", "name", "active", "admitted_at", "admitted_by")
    list_filter = ("active",)
    search_fields = ("agent_id", "name")
    readonly_fields = ("admitted_at", "admitted_by")
    change_list_template = "admin/drp/drpagent/change_list.html"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.admitted_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        audit.record(
            subject_type="drp_agent",
            subject_id=obj.pk,
            actor=request.user,
            action="drp.agent_updated" if change else "drp.agent_admitted",
            data={"agent_id": obj.agent_id, "active": obj.active, "fields": list(form.changed_data)},
        )

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="drp_drpagent_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:drp_drpagent_changelist")
        form = ImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                agents = directory.import_agents(form.cleaned_data["directory_json"], actor=request.user)
            except directory.DirectoryError as exc:
                form.add_error("directory_json", str(exc))
            else:
                self.message_user(
                    request, _("Admitted or updated %(n)d agent(s).") % {"n": len(agents)}, messages.SUCCESS
                )
                return redirect("admin:drp_drpagent_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Import agents from the DRP service directory"),
        }
        return TemplateResponse(request, "admin/drp/drpagent/import.html", context)


@admin.register(DrpRequest)
class DrpRequestAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "agent", "exercise", "drp_status", "privacy_request_link", "received_at")
    list_filter = ("exercise", "agent")
    search_fields = ("=request_id", "=agent_request_id", "privacy_request__reference")
    list_select_related = ("agent", "privacy_request")
    readonly_fields = ("drp_status", "privacy_request_link", "callback_error")

    @admin.display(description=_("DRP status"))
    def drp_status(self, obj: DrpRequest) -> str:
        state, reason = services.status_pair(obj)
        return f"{state} ({reason})" if reason else state

    @admin.display(description=_("Privacy request"))
    def privacy_request_link(self, obj: DrpRequest) -> str:
        if obj.privacy_request is None:
            return "—"
        url = reverse("admin:requests_app_privacyrequest_change", args=[obj.privacy_request.pk])
        return format_html('<a href="{}">{}</a>', url, obj.privacy_request.reference)
