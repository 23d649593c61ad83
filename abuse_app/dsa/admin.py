"""Admin for the DSA duties outside the portal: Transparency Database submissions, Art. 18 notifications.

Registered from ``abuse_app/admin.py`` (one import); the Decision page shows its
submission through ``StatementSubmissionInline``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app.dsa.report import build_report, period, report_csv, report_xlsx
from abuse_app.dsa.vocabulary import EU_COUNTRY_CODES
from abuse_app.models import AuthorityNotification, Case, Decision, StatementSubmission
from abuse_app.services import authorities
from abuse_app.services.errors import AbuseError
from abuse_app.services.transparency_db import statements_resend
from portal.roles import staff_user

if TYPE_CHECKING:  # generic in django-stubs only: at run time these classes take no parameters
    StatementSubmissionInlineBase = admin.StackedInline[StatementSubmission, Decision]
    StatementSubmissionAdminBase = admin.ModelAdmin[StatementSubmission]
    AuthorityNotificationFormBase = forms.ModelForm[AuthorityNotification]
    AuthorityNotificationAdminBase = admin.ModelAdmin[AuthorityNotification]
else:
    StatementSubmissionInlineBase = admin.StackedInline
    StatementSubmissionAdminBase = AuthorityNotificationAdminBase = admin.ModelAdmin
    AuthorityNotificationFormBase = forms.ModelForm

SUBMISSION_FIELDS = ("status", "puid", "uuid", "link", "attempts", "last_error", "endpoint", "sent_at")


def _link(obj: StatementSubmission) -> str:
    if not obj.permalink:
        return "—"
    return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.permalink, obj.permalink)


class StatementSubmissionInline(StatementSubmissionInlineBase):
    model = StatementSubmission
    fields = SUBMISSION_FIELDS
    readonly_fields = SUBMISSION_FIELDS
    extra = 0
    can_delete = False
    verbose_name = _("DSA Transparency Database submission")

    @admin.display(description=_("permalink"))
    def link(self, obj: StatementSubmission) -> str:
        return _link(obj)

    def has_add_permission(self, request: HttpRequest, obj: Decision | None = None) -> bool:
        return False


@admin.register(StatementSubmission)
class StatementSubmissionAdmin(StatementSubmissionAdminBase):
    list_display = ["puid", "decision", "status", "attempts", "uuid", "link", "sent_at", "last_error"]
    list_filter = ["status", "endpoint"]
    search_fields = ["puid", "uuid", "decision__case__reference"]
    list_select_related = ["decision", "decision__case"]
    fields = ["decision", *SUBMISSION_FIELDS, "created_at", "next_attempt_at"]
    readonly_fields = ["decision", *SUBMISSION_FIELDS, "created_at", "next_attempt_at"]
    actions = ["resend"]

    @admin.display(description=_("permalink"))
    def link(self, obj: StatementSubmission) -> str:
        return _link(obj)

    def get_urls(self) -> list[URLPattern]:
        report = self.admin_site.admin_view(transparency_report_view)
        return [path("transparency-report/", report, name="abuse_app_transparency_report"), *super().get_urls()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StatementSubmission | None = None) -> bool:
        return False

    @admin.action(description=_("Send the selected failed statements again"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[StatementSubmission]) -> None:
        count = statements_resend(submissions=queryset, actor=staff_user(request))
        messages.success(
            request,
            ngettext("%(n)d failed statement queued again.", "%(n)d failed statements queued again.", count)
            % {"n": count},
        )


class AuthorityNotificationForm(AuthorityNotificationFormBase):
    include_reporter = forms.BooleanField(
        required=False,
        label=_("Include the reporters' names and e-mails"),
        help_text=_("Only when the authority needs them to act; leave the text empty to have it regenerated."),
    )

    class Meta:
        model = AuthorityNotification
        fields = ["case", "recipient", "member_state", "authority", "channel", "authority_reference", "notice_text"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        recipient, state = data.get("recipient"), (data.get("member_state") or "").strip().upper()
        if recipient and recipient != AuthorityNotification.Recipient.EUROPOL and state not in EU_COUNTRY_CODES:
            self.add_error(
                "member_state", _("Give the two-letter code of an EU member state (e.g. DE), or choose Europol.")
            )
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notice_text"].required = False
        case_id = self.initial.get("case")
        if case_id and not self.initial.get("notice_text"):
            case = Case.objects.filter(pk=case_id).first()
            if case is not None:
                self.initial["notice_text"] = authorities.authority_notice_text(case)


@admin.register(AuthorityNotification)
class AuthorityNotificationAdmin(AuthorityNotificationAdminBase):
    """Art. 18: the add form is the "notify authorities" action (open it from a case: ?case=<id>)."""

    form = AuthorityNotificationForm
    list_display = ["case", "recipient", "member_state", "authority", "reporter_data_included", "sent_by", "sent_at"]
    list_filter = ["recipient", "member_state", "reporter_data_included"]
    search_fields = ["case__reference", "authority", "authority_reference"]
    list_select_related = ["case", "sent_by"]
    raw_id_fields = ["case"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(authorities.PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: AuthorityNotification | None = None) -> bool:
        return False  # a record of what was sent: never edited

    def has_delete_permission(self, request: HttpRequest, obj: AuthorityNotification | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AuthorityNotification, form: AuthorityNotificationForm, change: bool
    ) -> None:
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        text = data.get("notice_text") or ""
        if data.get("include_reporter") and text == authorities.authority_notice_text(data["case"]):
            text = ""  # the unchanged default: regenerate it with the reporters
        try:
            saved = authorities.authorities_notify(
                case=data["case"], actor=staff_user(request), recipient=data["recipient"],
                member_state=data.get("member_state") or "", authority=data["authority"], channel=data["channel"],
                include_reporter=bool(data.get("include_reporter")),
                authority_reference=data.get("authority_reference") or "", notice_text=text,
            )  # fmt: skip
        except AbuseError as exc:
            raise PermissionDenied(str(exc))
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})


@admin.action(description=_("Notify authorities (DSA Art. 18)"), permissions=["notify_authorities"])
def notify_authorities(
    modeladmin: admin.ModelAdmin[Case], request: HttpRequest, queryset: QuerySet[Case]
) -> HttpResponseRedirect | None:
    """From the case list: open the Art. 18 form for the (one) selected case.

    The case admin offers it only to users for whom ``has_notify_authorities_permission`` holds.
    """
    if queryset.count() != 1:
        messages.error(request, _("Select exactly one case to notify authorities about."))
        return None
    url = reverse("admin:abuse_app_authoritynotification_add")
    return HttpResponseRedirect(f"{url}?case={queryset.get().pk}")


def has_notify_authorities_permission(request: HttpRequest) -> bool:
    return request.user.has_perm(authorities.PERMISSION)


class ReportPeriodForm(forms.Form):
    first = forms.DateField(label=_("First day"))
    last = forms.DateField(label=_("Last day (included)"))
    format = forms.ChoiceField(choices=[("xlsx", "XLSX"), ("csv", "CSV")], initial="xlsx")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("first") and data.get("last") and data["last"] < data["first"]:
            raise forms.ValidationError(_("The last day is before the first day."))
        return data


def transparency_report_view(request: HttpRequest) -> HttpResponse:
    """Admin → Statement of reasons submissions → transparency report: pick a period, download."""
    if not request.user.has_perm("abuse_app.view_decision"):
        raise PermissionDenied
    form = ReportPeriodForm(request.GET or None)
    if not form.is_valid():
        context = {"form": form, "title": _("DSA transparency report")}
        return render(request, "abuse_app/admin/transparency_report.html", context)
    report = build_report(*period(form.cleaned_data["first"], form.cleaned_data["last"]))
    name = f"dsa-transparency-report-{form.cleaned_data['first']}-{form.cleaned_data['last']}"
    if form.cleaned_data["format"] == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(
            report_xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
