"""The privacy requests dashboard (figures from ``dashboard_figures``), a view of
``PrivacyRequestAdmin``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.services.dashboard import dashboard_figures

if TYPE_CHECKING:  # the mixin is only ever mixed into a ModelAdmin; mypy checks it as one
    from requests_app.models import PrivacyRequest

    _AdminBase = admin.ModelAdmin[PrivacyRequest]
else:
    _AdminBase = object


class DashboardMixin(_AdminBase):
    """The dashboard page of ``PrivacyRequestAdmin`` (its URL is in the admin's ``get_urls``)."""

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied(
                _("The privacy requests dashboard is for privacy officers and auditors; your account has neither role.")
            )
        figures = dashboard_figures()
        peak = max([n for _week, n in figures.weeks] + [1])
        bar_width, gap, height = 36, 8, 160
        bars = [
            {
                "x": i * (bar_width + gap),
                "height": round(height * n / peak),
                "y": height - round(height * n / peak),
                "count": n,
                "label": timezone.localtime(week).strftime("%d %b"),
                "text_x": i * (bar_width + gap) + bar_width // 2,
            }
            for i, (week, n) in enumerate(figures.weeks)
        ]
        changelist = reverse("admin:requests_app_privacyrequest_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Privacy requests dashboard"),
            "figures": figures,
            "bars": bars,
            "bar_width": bar_width,
            "chart_height": height,
            "chart_width": len(bars) * (bar_width + gap),
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/requests_app/privacyrequest/dashboard.html", context)
