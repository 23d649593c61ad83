"""Appeals: decided by a moderator other than the one who took the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from abuse_app import services
from abuse_app.forms import AppealDecisionForm
from abuse_app.models import Appeal
from portal.roles import staff_user

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only: at run time it takes no parameters
    AppealAdminBase = admin.ModelAdmin[Appeal]
else:
    AppealAdminBase = admin.ModelAdmin


@admin.register(Appeal)
class AppealAdmin(AppealAdminBase):
    list_display = [
        "__str__",
        "case_link",
        "appellant",
        "status",
        "filed_at",
        "original_decider",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "appellant"]
    search_fields = ["decision__case__reference", "notice__reference"]
    list_select_related = ["decision__case", "original_decider", "decided_by"]
    change_form_template = "abuse_app/admin/appeal_change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Appeal | None = None) -> list[str]:
        return [f.name for f in Appeal._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appeal | None = None) -> bool:
        return False

    @admin.display(description=_("Case"))
    def case_link(self, obj: Appeal) -> str:
        case = obj.decision.case
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:abuse_app_case_change", args=[case.pk]), case.reference
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        appeal = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if appeal is not None:
            extra_context["can_decide"] = (
                appeal.status == Appeal.Status.PENDING
                and request.user.has_perm("abuse_app.change_appeal")
                and appeal.original_decider_id != request.user.pk
            )
            extra_context["same_moderator"] = appeal.original_decider_id == request.user.pk
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="abuse_app_appeal_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("abuse_app.change_appeal"):
            raise PermissionDenied(_("Only moderators may decide appeals; your account has no moderator role."))
        appeal = get_object_or_404(Appeal.objects.select_related("decision__case", "decision__decided_by"), pk=pk)
        if appeal.original_decider_id == request.user.pk:
            # Art. 20(6) DSA: the complaint is decided by someone other than the original decider.
            raise PermissionDenied(_("You took the original decision. Another moderator must decide this appeal."))
        form = AppealDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.appeal_decide(
                    appeal=appeal,
                    actor=staff_user(request),
                    outcome=form.cleaned_data["outcome"],
                    reasons=form.cleaned_data["reasons"],
                    new_action=form.cleaned_data.get("new_action", ""),
                )
            except services.AbuseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Appeal decided; the appellant and the host app are being told."))
                return HttpResponseRedirect(reverse("admin:abuse_app_appeal_change", args=[appeal.pk]))
        return render(
            request,
            "abuse_app/admin/appeal_decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "appeal": appeal,
                "form": form,
                "decision": appeal.decision,
                "title": _("Decide appeal on %(ref)s") % {"ref": appeal.decision.case.reference},
            },
        )
