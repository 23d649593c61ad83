"""Privacy requests in the admin: triage list, decisions, read-only audit timeline, dashboard.

Every decision goes through ``requests_app.services`` (shared with the API),
so the admin never changes a status by editing a field: the detail page is
read-only and the buttons/actions call the service functions, which audit.

The changelist stays fast on a million rows: filters and search map to
indexed columns (status/due_at, assigned_to/status, reference, e-mail stored
lower-cased), ``list_select_related`` fetches the assignee in the same query,
and no column runs a query per row.

The class is put together from its parts in this package: the list's paginator
and filters (``request_lists``), the decisions (``request_decisions``), the
dashboard (``dashboard``), and the inlines of store tasks and status links.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from requests_app.admin import words as admin_words
from requests_app.admin.agents import AgentFilingInline
from requests_app.admin.dashboard import DashboardMixin
from requests_app.admin.links import StatusLinkInline
from requests_app.admin.request_decisions import DECISIONS, DecisionsMixin
from requests_app.admin.request_lists import AssigneeFilter, CappedCountPaginator, DeadlineFilter
from requests_app.admin.store_tasks import StoreTaskInline
from requests_app.engine import receipt
from requests_app.engine.finish import leftovers
from requests_app.models import PrivacyRequest
from requests_app.services.decisions import CANCELABLE_STATUSES, DEADLINE_STATUSES
from requests_app.services.schedule import DUE_SOON_DAYS

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs, not at run time
    from django_stubs_ext import StrOrPromise

    _ModelAdmin = admin.ModelAdmin[PrivacyRequest]
else:
    _ModelAdmin = admin.ModelAdmin

REFERENCE_RE = re.compile(r"^PR-?[0-9A-Z]{4}-?[0-9A-Z]{4}$")


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(DecisionsMixin, DashboardMixin, _ModelAdmin):
    list_display = [
        "reference",
        "kind",
        "status_column",
        "jurisdiction",
        "received",
        "due_column",
        "assigned_to",
    ]
    list_filter = ["status", "kind", "jurisdiction", DeadlineFilter, AssigneeFilter, "channel"]
    search_fields = ["=reference", "=email"]
    search_help_text = _("Exact reference (PR-XXXX-XXXX) or exact e-mail address.")
    list_select_related = ["assigned_to"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    date_hierarchy = None
    ordering = ["-received_at"]
    actions = ["approve", "deny", "extend", "assign_me", "assign", "retry", "resolve", "cancel"]
    inlines = [AgentFilingInline, StoreTaskInline, StatusLinkInline]
    change_form_template = "admin/requests_app/privacyrequest/change_form.html"
    change_list_template = "admin/requests_app/privacyrequest/change_list.html"
    readonly_fields = [
        "reference",
        "kind",
        "status",
        "jurisdiction",
        "channel",
        "scope_purpose",
        "email",
        "identifiers",
        "language",
        "received_at",
        "verified_at",
        "due_column",
        "first_due",
        "extension_reason",
        "approved_at",
        "deletion_starts",
        "started_at",
        "completed_at",
        "closed_at",
        "details_deleted",
        "assigned_to",
        "decision_reason",
        "attention_reason",
        "left_items",
        "timeline",
        "receipt_panel",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "kind",
                    "status",
                    "attention_reason",
                    "left_items",
                    "decision_reason",
                    "assigned_to",
                ]
            },
        ),
        (
            _("Requester"),
            {
                "fields": [
                    "email",
                    "identifiers",
                    "language",
                    "jurisdiction",
                    "channel",
                    "scope_purpose",
                    "details_deleted",
                ]
            },
        ),
        # One deadline line ("due", with its "extended" mark), and the first deadline only when it moved.
        (_("Deadlines"), {"fields": ["due_column", "first_due", "extension_reason"]}),
        (
            _("Dates"),
            {
                "fields": [
                    "received_at",
                    "verified_at",
                    "approved_at",
                    "deletion_starts",
                    "started_at",
                    "completed_at",
                    "closed_at",
                ]
            },
        ),
        (_("Deletion receipt"), {"fields": ["receipt_panel"]}),
        (_("Audit timeline"), {"fields": ["timeline"]}),
    ]

    class Media:
        css = {"all": ["requests_app/admin.css"]}

    # --- field labels in people's words ------------------------------------------------------
    @admin.display(description=_("Work starts after (end of the grace period)"))
    def deletion_starts(self, obj: PrivacyRequest) -> str:
        return _when(obj.run_after)

    @admin.display(description=_("Requester's details deleted on"))
    def details_deleted(self, obj: PrivacyRequest) -> str:
        return _when(obj.pii_purged_at)

    # --- list columns -----------------------------------------------------------------------
    # A short date: with Django's "Dec. 7, 2026, 2:41 p.m." the list ran under the filter panel
    # at 1280 px and hid "due" and "Assigned to".
    @admin.display(description=_("received"), ordering="received_at")
    def received(self, obj: PrivacyRequest) -> str:
        return timezone.localtime(obj.received_at).strftime("%Y-%m-%d")

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj: PrivacyRequest) -> str:
        return format_html('<span class="pr-status pr-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("first deadline"))
    def first_due(self, obj: PrivacyRequest) -> StrOrPromise:
        if not obj.extended_due_at or not obj.due_at:
            return _("not extended")
        return timezone.localtime(obj.due_at).strftime("%Y-%m-%d")

    @admin.display(description=_("due"), ordering="due_at")
    def due_column(self, obj: PrivacyRequest) -> str:
        due = obj.effective_due_at
        if due is None:
            return "—"
        label = timezone.localtime(due).strftime("%Y-%m-%d")
        extended = format_html(' <span class="pr-extended">{}</span>', _("extended")) if obj.extended_due_at else ""
        if obj.status not in DEADLINE_STATUSES:
            return format_html('<span class="pr-due">{}</span>{}', label, extended)
        now = timezone.now()
        title: StrOrPromise
        if due < now:
            css, title = "pr-due pr-overdue", _("Overdue")
        elif due < now + timedelta(days=DUE_SOON_DAYS):
            css, title = "pr-due pr-due-soon", _("Due within 7 days")
        else:
            css, title = "pr-due", ""
        return format_html('<span class="{}" title="{}">{}</span>{}', css, title, label, extended)

    @admin.display(description=_("what happened"))
    def timeline(self, obj: PrivacyRequest) -> str:
        events = list(obj.timeline())
        if not events:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.who,
                    admin_words.action_words(e.action),
                    admin_words.status_change_words(e.from_status, e.to_status),
                    e.reason,
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="pr-timeline"><thead><tr>'
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            _("When"),
            _("Who"),
            _("Action"),
            _("Status"),
            _("Reason"),
            rows,
        )

    @admin.display(description=_("signed receipt"))
    def receipt_panel(self, obj: PrivacyRequest) -> str:
        """The receipt as the requester got it, checked now against the published keys, with a download."""
        if not obj.receipt:
            return "—"
        verdict = receipt.check_here(receipt.signed_document(obj.receipt, obj.receipt_signature))
        download = reverse("admin:requests_app_privacyrequest_receipt", args=[obj.pk])
        return format_html(
            '<p class="pr-receipt-verdict pr-receipt-{}"><strong>{}</strong> {}</p>'
            '<p><a class="button" href="{}" download>{}</a> <a href="{}">{}</a></p>'
            '<details><summary>{}</summary><pre class="pr-receipt-json">{}</pre></details>',
            "genuine" if verdict.genuine else "changed",
            _("Verified now:") if verdict.genuine else _("Verification FAILED:"),
            verdict.message,
            download,
            _("Download receipt-%(reference)s.json") % {"reference": obj.reference},
            reverse("receipt-verify"),
            _("Public verification page"),
            _("Show the signed receipt"),
            receipt.as_json(obj.receipt, obj.receipt_signature).decode(),
        )

    def receipt_download_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied(
                _("Deletion receipts are for privacy officers and auditors; your account has neither role.")
            )
        obj = self.get_object(request, object_id)  # None for an unknown or malformed id, never a 500
        if obj is None or not obj.receipt:
            raise Http404(f"No deletion receipt for privacy request {object_id!r}.")
        response = HttpResponse(receipt.as_json(obj.receipt, obj.receipt_signature), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="receipt-{obj.reference}.json"'
        return response

    # --- permissions: requests come from intake; staff decide, never edit or delete -------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PrivacyRequest | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PrivacyRequest], search_term: str
    ) -> tuple[QuerySet[PrivacyRequest], bool]:
        """Exact, indexed lookups only: a reference, or an e-mail address (stored lower-cased)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(email=term.lower()), False
        upper = term.upper()
        if REFERENCE_RE.match(upper):
            compact = upper.replace("-", "")[2:]
            return queryset.filter(reference=f"PR-{compact[:4]}-{compact[4:]}"), False
        if upper.startswith("PR-"):
            return queryset.filter(reference__startswith=upper), False
        return queryset.none(), False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        if object_id:
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_change_permission(request, obj):
                extra_context["decisions"] = self._available_decisions(obj)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _available_decisions(self, obj: PrivacyRequest) -> list[tuple[str, StrOrPromise]]:
        S = PrivacyRequest.Status
        names = []
        if obj.status == S.VERIFIED:
            names.append("approve")
        if obj.status in (S.VERIFIED, S.APPROVED):
            names.append("deny")
        if (
            obj.status in DEADLINE_STATUSES
            and obj.extended_due_at is None
            and obj.due_at
            and obj.due_at > timezone.now()
        ):
            names.append("extend")
        if obj.is_open:
            names += ["assign_me", "assign"]
        if obj.status == S.NEEDS_ATTENTION:
            names += ["retry", "resolve"]
            if self._left(obj):
                names.append("close_with_exceptions")
        if obj.status in CANCELABLE_STATUSES:
            names.append("cancel")
        return [(name, DECISIONS[name][0]) for name in names]

    def _left(self, obj: PrivacyRequest) -> list[dict[str, Any]]:
        if obj.kind != PrivacyRequest.Kind.DELETION:
            return []
        if obj.status == PrivacyRequest.Status.COMPLETED and obj.receipt:
            return ((obj.receipt or {}).get("completed_with_exceptions") or {}).get("left") or []
        return leftovers(list(obj.store_tasks.order_by("id")))

    @admin.display(description=_("What the erasure left"))
    def left_items(self, obj: PrivacyRequest) -> str:
        left = self._left(obj) if obj.pk else []
        if not left:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong>: {} — {}<br><small>{}</small></li>",
                (
                    (item["store"], item["what"], item["why"], ", ".join(map(str, item.get("ids", [])[:50])))
                    for item in left
                ),
            ),
        )

    # --- decisions: list actions and detail-page buttons share one runner ----------------------
    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="{}_{}_dashboard".format(*info),
            ),
            path(
                "<path:object_id>/receipt.json",
                self.admin_site.admin_view(self.receipt_download_view),
                name="{}_{}_receipt".format(*info),
            ),
            path(
                "<path:object_id>/decide/<str:name>/",
                self.admin_site.admin_view(self.decision_view),
                name="{}_{}_decide".format(*info),
            ),
            *super().get_urls(),
        ]
