"""Admin for authorized-agent filings: who filed a request for a consumer, and the signed permission.

Staff check the permission before approving (agent-filed requests are never approved
automatically); the file is served only here, to staff who may view filings, and each
download is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdmin
from requests_app.models import AgentFiling, PrivacyRequest

if TYPE_CHECKING:  # StackedInline is generic only in django-stubs, not at run time
    _Inline = admin.StackedInline[AgentFiling, PrivacyRequest]
else:
    _Inline = admin.StackedInline

FIELDS = ("agent_name", "agent_email", "agent_organisation", "filed_at", "permission_link", "permission_sha256")


def _permission_link(obj: AgentFiling) -> str:
    if not obj.pk or not obj.permission:
        return "—"
    url = reverse("admin:requests_app_agentfiling_permission", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj.permission_name or _("signed permission"))


class AgentFilingInline(_Inline):
    model = AgentFiling
    fields = FIELDS
    readonly_fields = FIELDS
    can_delete = False
    extra = 0
    verbose_name = _("Filed by an authorized agent")

    def has_add_permission(self, request: HttpRequest, obj: PrivacyRequest | None = None) -> bool:
        return False

    @admin.display(description=_("Signed permission"))
    def permission_link(self, obj: AgentFiling) -> str:
        return _permission_link(obj)


@admin.register(AgentFiling)
class AgentFilingAdmin(ReadOnlyAdmin):
    list_display = ("request", "agent_name", "agent_email", "filed_at")
    search_fields = ("agent_name", "=agent_email", "request__reference")
    list_select_related = ("request",)
    fields = ("request", *FIELDS)
    readonly_fields = fields

    @admin.display(description=_("Signed permission"))
    def permission_link(self, obj: AgentFiling) -> str:
        return _permission_link(obj)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/permission/",
                self.admin_site.admin_view(self.permission_view),
                name="requests_app_agentfiling_permission",
            ),
            *super().get_urls(),
        ]

    def permission_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        filing = AgentFiling.objects.select_related("request").filter(pk=pk).first()
        if filing is None or not self.has_view_permission(request, filing) or not filing.permission:
            raise Http404
        filing.request.note(actor=request.user, action="request.agent_permission_viewed")
        return FileResponse(
            filing.permission.open("rb"),
            as_attachment=True,
            filename=filing.permission_name or filing.permission.name.rsplit("/", 1)[-1],
        )
