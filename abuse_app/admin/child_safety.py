"""Admin for the child-safety lane: CyberTipline reports, confirming a case, hash banks.

Every view checks the restricted permission ``abuse_app.handle_child_safety`` where
child-safety material is concerned (403 otherwise). Evidence previews and reveals are the
decision page's (``notices.evidence_preview``, ``cases.reveal_view``), restricted there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from abuse_app.cybertipline.models import CyberTiplineReport, IncidentType, IndustryClassification
from abuse_app.hashmatch.models import HashBank
from abuse_app.models import Case
from abuse_app.services import AbuseError, child_safety
from portal.roles import staff_user

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only: at run time it takes no parameters
    CyberTiplineReportAdminBase = admin.ModelAdmin[CyberTiplineReport]
    HashBankAdminBase = admin.ModelAdmin[HashBank]
else:
    CyberTiplineReportAdminBase = HashBankAdminBase = admin.ModelAdmin


class ConfirmReportableForm(forms.Form):
    incident_type = forms.ChoiceField(label=_("Incident type"), choices=IncidentType.choices)
    industry_classification = forms.ChoiceField(
        label=_("Industry classification of the files"), choices=IndustryClassification.choices, required=False
    )
    escalate_reason = forms.CharField(
        label=_("Escalate to high priority: why"),
        required=False,
        max_length=500,
        help_text=_("Only when a child may be in imminent danger; NCMEC triages these first."),
    )
    confirmed = forms.BooleanField(
        label=_("I have reviewed this case and it is apparent child sexual exploitation to be reported."),
        error_messages={
            "required": _("Tick the confirmation: a report goes to NCMEC and cannot be undone once finished.")
        },
    )


def _require_role(request: HttpRequest) -> None:
    if not child_safety.may_handle_child_safety(request.user):
        raise PermissionDenied(_("Only child-safety moderators may see child-safety material or report it."))


@admin.register(CyberTiplineReport)
class CyberTiplineReportAdmin(CyberTiplineReportAdminBase):
    list_display = [
        "case",
        "status",
        "ncmec_report_id",
        "environment",
        "attempts",
        "confirmed_by",
        "confirmed_at",
        "finished_at",
        "staff_told_at",
    ]
    list_filter = ["status", "environment"]
    search_fields = ["ncmec_report_id", "case__reference"]
    list_select_related = ["case", "confirmed_by"]
    actions = ["retract"]
    readonly_fields = [f.name for f in CyberTiplineReport._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return child_safety.may_handle_child_safety(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return child_safety.may_handle_child_safety(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports are made by confirming a case

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the report's contents are kept under the legal hold

    def get_actions(self, request: HttpRequest) -> dict[str, tuple[Callable[..., str], str, str] | None]:
        actions = super().get_actions(request)
        if not child_safety.may_handle_child_safety(request.user):
            actions.pop("retract", None)
        return actions

    @admin.action(description=_("Retract the selected reports (only before they are finished)"))
    def retract(self, request: HttpRequest, queryset: QuerySet[CyberTiplineReport]) -> None:
        for report in queryset:
            try:
                child_safety.cybertipline_retract(report=report, actor=staff_user(request))
            except AbuseError as exc:
                messages.error(request, f"{report}: {exc}")
            else:
                messages.success(request, _("%(report)s: retraction queued.") % {"report": report})

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("confirm/<int:pk>/", view(self.confirm_view), name="abuse_app_case_cybertipline_confirm"),
            *super().get_urls(),
        ]

    def confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm case ``pk`` as reportable (the URL names the case, not a report)."""
        _require_role(request)
        case = get_object_or_404(Case, pk=pk)
        form = ConfirmReportableForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = child_safety.case_confirm_reportable(
                    case=case,
                    actor=staff_user(request),
                    incident_type=form.cleaned_data["incident_type"],
                    escalate_reason=form.cleaned_data["escalate_reason"],
                    industry_classification=form.cleaned_data["industry_classification"],
                )
            except AbuseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Confirmed: report %(pk)s is being sent to the CyberTipline.") % {"pk": report.pk}
                )
                return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[case.pk]))
        return render(
            request,
            "abuse_app/admin/cybertipline_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": Case._meta,
                "case": case,
                "form": form,
                "files": len(child_safety.case_evidence(case)),
                "title": _("Report case %(ref)s to the CyberTipline") % {"ref": case.reference},
            },
        )


@admin.register(HashBank)
class HashBankAdmin(HashBankAdminBase):
    """Hash banks (hashes only). Import with ``manage.py import_hash_bank``; switch a bank off here."""

    list_display = ["name", "source", "active", "hash_count", "updated_at"]
    list_filter = ["source", "active"]
    search_fields = ["name"]
    readonly_fields = ["name", "source", "active", "created_at", "updated_at"]
    actions = ["switch_on", "switch_off"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[HashBank]:
        return super().get_queryset(request).annotate(n=Count("hashes"))

    @admin.display(description=_("Hashes"), ordering="n")
    def hash_count(self, obj: HashBank) -> int:
        return int(getattr(obj, "n", 0))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return child_safety.may_handle_child_safety(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return child_safety.may_handle_child_safety(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # banks come from files and from reported cases

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return child_safety.may_handle_child_safety(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # switch a bank off instead: what matched stays explainable

    def _switch(self, request: HttpRequest, queryset: QuerySet[HashBank], active: bool) -> None:
        # updated_at tells every web process to reload its index.
        changed = queryset.update(active=active, updated_at=timezone.now())
        messages.success(
            request, _("%(n)d bank(s) switched %(state)s.") % {"n": changed, "state": _("on") if active else _("off")}
        )

    @admin.action(description=_("Switch the selected banks on"), permissions=["change"])
    def switch_on(self, request: HttpRequest, queryset: QuerySet[HashBank]) -> None:
        self._switch(request, queryset, True)

    @admin.action(description=_("Switch the selected banks off (no longer matched)"), permissions=["change"])
    def switch_off(self, request: HttpRequest, queryset: QuerySet[HashBank]) -> None:
        self._switch(request, queryset, False)
