"""Privacy requests in the admin: triage list, decisions, read-only audit timeline, dashboard.

Every decision goes through ``requests_app.services`` (shared with the API),
so the admin never changes a status by editing a field: the detail page is
read-only and the buttons/actions call the service functions, which audit.

The changelist stays fast on a million rows: filters and search map to
indexed columns (status/due_at, assigned_to/status, reference, e-mail stored
lower-cased), ``list_select_related`` fetches the assignee in the same query,
and no column runs a query per row.

Other parts of requests_app extend this admin: the engine appends a
``StoreTaskInline`` to ``PrivacyRequestAdmin.inlines``, and other modules are
imported at the end of this file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from requests_app import admin_words, services
from requests_app.engine import receipt
from requests_app.models import InvalidTransition, PrivacyRequest

MAX_BATCH = 500  # requests per admin action
REFERENCE_RE = re.compile(r"^PR-?[0-9A-Z]{4}-?[0-9A-Z]{4}$")


def _due_q(*, before=None, after=None) -> Q:
    """Effective due date (extended if extended) compared without an annotation, so indexes apply."""
    q = Q()
    if before is not None:
        q &= Q(extended_due_at__lt=before) | Q(extended_due_at__isnull=True, due_at__lt=before)
    if after is not None:
        q &= Q(extended_due_at__gte=after) | Q(extended_due_at__isnull=True, due_at__gte=after)
    return q


class CappedCountPaginator(Paginator):
    """Counting every matching row is the slowest part of a changelist on a million rows.

    Count at most ``CAP + 1`` rows (``SELECT COUNT(*) FROM (… LIMIT CAP+1)``): pages up to
    CAP are exact, beyond that the list says "more than CAP" (see pagination.html) and
    staff narrow it with a filter or search, which is what they do anyway.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()  # type: ignore[attr-defined]  # a QuerySet here

    @property
    def is_capped(self) -> bool:
        return self.count > self.CAP


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("soon", _("Due within 7 days"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        open_ = queryset.filter(status__in=services.DEADLINE_STATUSES)
        if self.value() == "overdue":
            return open_.filter(_due_q(before=now))
        if self.value() == "soon":
            return open_.filter(_due_q(after=now, before=now + timedelta(days=services.DUE_SOON_DAYS)))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("me", _("Assigned to me")), ("none", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text=_("Sent to the requester by e-mail and shown on their status page. Write it for them."),
        error_messages={"required": _("A reason is required; it is sent to the requester.")},
    )


class ResolveForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("What was done by hand")
        self.fields["reason"].help_text = _(
            "E.g. which store was erased or exported manually and how it was checked. Goes into the audit "
            "trail and the receipt the requester gets."
        )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("— nobody (unassign) —"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        )


# name → (label, form class or None, service call)
def _run_approve(request, obj, data):
    return services.request_approve(request=obj, actor=request.user)


def _run_deny(request, obj, data):
    return services.request_deny(request=obj, actor=request.user, reason=data["reason"])


def _run_extend(request, obj, data):
    return services.request_extend(request=obj, actor=request.user, reason=data["reason"])


def _run_assign(request, obj, data):
    return services.request_assign(request=obj, actor=request.user, assignee=data["assignee"])


def _run_assign_me(request, obj, data):
    return services.request_assign(request=obj, actor=request.user, assignee=request.user)


def _run_retry(request, obj, data):
    return services.request_retry(request=obj, actor=request.user)


def _run_resolve(request, obj, data):
    return services.request_resolve_manually(request=obj, actor=request.user, reason=data["reason"])


def _run_close_with_exceptions(request, obj, data):
    return services.request_close_with_exceptions(request=obj, actor=request.user, reason=data["reason"])


def _run_cancel(request, obj, data):
    return services.request_cancel(request=obj, actor=request.user)


DECISIONS = {
    "approve": (_("Approve"), None, _run_approve),
    "deny": (_("Deny"), ReasonForm, _run_deny),
    "extend": (_("Extend deadline"), ReasonForm, _run_extend),
    "assign_me": (_("Assign to me"), None, _run_assign_me),
    "assign": (_("Assign to…"), AssignForm, _run_assign),
    "retry": (_("Retry failed steps"), None, _run_retry),
    "resolve": (_("Resolve by hand"), ResolveForm, _run_resolve),
    "close_with_exceptions": (_("Close as completed with exceptions"), ResolveForm, _run_close_with_exceptions),
    "cancel": (_("Cancel"), None, _run_cancel),
}
# What a list action or button did, as a sentence with its plural forms (``n`` picks the form).
DONE = {
    "approve": ngettext_lazy("%(n)d request approved.", "%(n)d requests approved.", "n"),
    "deny": ngettext_lazy("%(n)d request denied.", "%(n)d requests denied.", "n"),
    "extend": ngettext_lazy(
        "The deadline of %(n)d request was extended.", "The deadlines of %(n)d requests were extended.", "n"
    ),
    "assign_me": ngettext_lazy("%(n)d request assigned to you.", "%(n)d requests assigned to you.", "n"),
    "assign": ngettext_lazy("%(n)d request assigned.", "%(n)d requests assigned.", "n"),
    "retry": ngettext_lazy(
        "The failed steps of %(n)d request run again.", "The failed steps of %(n)d requests run again.", "n"
    ),
    "resolve": ngettext_lazy(
        "%(n)d request marked as resolved by hand.", "%(n)d requests marked as resolved by hand.", "n"
    ),
    "cancel": ngettext_lazy("%(n)d request canceled.", "%(n)d requests canceled.", "n"),
}
DECISION_HELP = {
    "deny": _("The requester is told the reason. A denied request cannot be reopened."),
    "extend": _(
        "Allowed once, before the first deadline passes: GDPR +2 months, CCPA +45 days. "
        "The requester is told the reason and the new date."
    ),
    "cancel": _("Nothing will be done for the request; the requester is told."),
    "approve": _(
        "Work starts when you approve. A deletion waits for the grace period below (the requester may still "
        "cancel); what each store holds now is listed, looked up without changing anything."
    ),
    "retry": _("The failed store steps run again."),
    "resolve": _("Marks the request completed although a step failed, because staff finished it by hand."),
    "close_with_exceptions": _(
        "Closes a deletion although the erasure left items (listed under “Needs attention”). The reason and "
        "the list go into the audit trail and the signed receipt, and the requester is told in plain words."
    ),
}


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
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
    inlines: list = []  # type: ignore[misc]  # the engine appends StoreTaskInline
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
                    "reference", "kind", "status", "attention_reason", "left_items", "decision_reason",
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
    def deletion_starts(self, obj):
        return _when(obj.run_after)

    @admin.display(description=_("Requester's details deleted on"))
    def details_deleted(self, obj):
        return _when(obj.pii_purged_at)

    # --- list columns -----------------------------------------------------------------------
    # A short date: with Django's "Dec. 7, 2026, 2:41 p.m." the list ran under the filter panel
    # at 1280 px and hid "due" and "Assigned to".
    @admin.display(description=_("received"), ordering="received_at")
    def received(self, obj):
        return timezone.localtime(obj.received_at).strftime("%Y-%m-%d")

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return format_html(
            '<span class="pr-status pr-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=_("first deadline"))
    def first_due(self, obj):
        if not obj.extended_due_at or not obj.due_at:
            return _("not extended")
        return timezone.localtime(obj.due_at).strftime("%Y-%m-%d")

    @admin.display(description=_("due"), ordering="due_at")
    def due_column(self, obj):
        due = obj.effective_due_at
        if due is None:
            return "—"
        label = timezone.localtime(due).strftime("%Y-%m-%d")
        extended = (
            format_html(' <span class="pr-extended">{}</span>', _("extended")) if obj.extended_due_at else ""
        )
        if obj.status not in services.DEADLINE_STATUSES:
            return format_html('<span class="pr-due">{}</span>{}', label, extended)
        now = timezone.now()
        if due < now:
            css, title = "pr-due pr-overdue", _("Overdue")
        elif due < now + timedelta(days=services.DUE_SOON_DAYS):
            css, title = "pr-due pr-due-soon", _("Due within 7 days")
        else:
            css, title = "pr-due", ""
        return format_html('<span class="{}" title="{}">{}</span>{}', css, title, label, extended)

    @admin.display(description=_("what happened"))
    def timeline(self, obj):
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
    def receipt_panel(self, obj):
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

    def receipt_download_view(self, request, object_id):
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
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
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

    def _available_decisions(self, obj) -> list[tuple[str, Any]]:
        S = PrivacyRequest.Status
        names = []
        if obj.status == S.VERIFIED:
            names.append("approve")
        if obj.status in (S.VERIFIED, S.APPROVED):
            names.append("deny")
        if (
            obj.status in services.DEADLINE_STATUSES
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
        if obj.status in services.CANCELABLE_STATUSES:
            names.append("cancel")
        return [(name, DECISIONS[name][0]) for name in names]

    def _left(self, obj: PrivacyRequest) -> list[dict[str, Any]]:
        from requests_app.engine.finish import leftovers

        if obj.kind != PrivacyRequest.Kind.DELETION:
            return []
        if obj.status == PrivacyRequest.Status.COMPLETED and obj.receipt:
            return ((obj.receipt or {}).get("completed_with_exceptions") or {}).get("left") or []
        return leftovers(list(obj.store_tasks.order_by("id")))

    @admin.display(description=_("What the erasure left"))
    def left_items(self, obj: PrivacyRequest):
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
    def get_urls(self):
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

    def _run(self, request, objects, name: str, data: dict) -> tuple[int, list[str]]:
        done, errors = 0, []
        runner = DECISIONS[name][2]
        for obj in objects:
            try:
                runner(request, obj, data)
                done += 1
            except (services.RequestError, InvalidTransition) as exc:
                errors.append(f"{obj.reference}: {exc}")
        return done, errors

    def _report(self, request, name: str, done: int, errors: list[str]) -> None:
        if done:
            self.message_user(
                request,
                DONE[name] % {"n": done},
                messages.SUCCESS,
            )
        for error in errors:
            self.message_user(request, error, messages.ERROR)

    def _decision_page(self, request, name: str, form, objects, *, from_list: bool):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": DECISIONS[name][0],
            "name": name,
            "form": form,
            "objects": objects,
            "help": DECISION_HELP.get(name, ""),
            "from_list": from_list,
            # One request's page shows what approving it will do; a list action approves in bulk.
            "preview": (
                admin_words.approval_preview(objects[0], actor=request.user)
                if name == "approve" and not from_list and len(objects) == 1
                else None
            ),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:requests_app_privacyrequest_changelist"),
        }
        return TemplateResponse(request, "admin/requests_app/privacyrequest/decision.html", context)

    def _list_action(self, request, queryset, name: str):
        form_class = DECISIONS[name][1]
        # Each decision e-mails and audits one request at a time; keep one click to a bounded batch.
        objects = list(queryset.select_related("assigned_to")[: MAX_BATCH + 1])
        if len(objects) > MAX_BATCH:
            objects = objects[:MAX_BATCH]
            self.message_user(
                request,
                _("Only the first %(n)d selected requests are handled at once; run it again for the rest.")
                % {"n": MAX_BATCH},
                messages.WARNING,
            )
        if form_class is None:
            self._report(request, name, *self._run(request, objects, name, {}))
            return None
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._report(request, name, *self._run(request, objects, name, form.cleaned_data))
            return None
        return self._decision_page(request, name, form, objects, from_list=True)

    @admin.action(description=_("Approve selected requests"), permissions=["change"])
    def approve(self, request, queryset):
        return self._list_action(request, queryset, "approve")

    @admin.action(description=_("Deny selected requests (reason required)…"), permissions=["change"])
    def deny(self, request, queryset):
        return self._list_action(request, queryset, "deny")

    @admin.action(
        description=_("Extend the deadline of selected requests (reason required)…"), permissions=["change"]
    )
    def extend(self, request, queryset):
        return self._list_action(request, queryset, "extend")

    @admin.action(description=_("Assign selected requests to me"), permissions=["change"])
    def assign_me(self, request, queryset):
        return self._list_action(request, queryset, "assign_me")

    @admin.action(description=_("Assign selected requests to…"), permissions=["change"])
    def assign(self, request, queryset):
        return self._list_action(request, queryset, "assign")

    @admin.action(description=_("Retry failed steps of selected requests"), permissions=["change"])
    def retry(self, request, queryset):
        return self._list_action(request, queryset, "retry")

    @admin.action(
        description=_("Resolve selected requests by hand (say what was done)…"), permissions=["change"]
    )
    def resolve(self, request, queryset):
        return self._list_action(request, queryset, "resolve")

    @admin.action(description=_("Cancel selected requests"), permissions=["change"])
    def cancel(self, request, queryset):
        return self._list_action(request, queryset, "cancel")

    def decision_view(self, request, object_id, name):
        if name not in DECISIONS:
            raise Http404(f"No decision called {name!r}.")
        if not self.has_change_permission(request):
            raise PermissionDenied(
                _("Only privacy officers may act on privacy requests; your account may only look at them.")
                if self.has_view_permission(request)
                else _("Only privacy officers may act on privacy requests; your account has no privacy role.")
            )
        obj = self.get_object(request, object_id)  # None for an unknown or malformed id, never a 500
        if obj is None:
            raise Http404(f"No privacy request with id {object_id!r}.")
        change_url = reverse("admin:requests_app_privacyrequest_change", args=[obj.pk])
        form_class = DECISIONS[name][1]
        form = form_class(request.POST or None) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            done, errors = self._run(request, [obj], name, form.cleaned_data if form else {})
            self._report(request, name, done, errors)
            return HttpResponseRedirect(change_url)
        return self._decision_page(request, name, form, [obj], from_list=False)

    # --- dashboard ------------------------------------------------------------------------------
    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied(
                _("The privacy requests dashboard is for privacy officers and auditors; your account has "
                  "neither role.")
            )
        figures = services.dashboard_figures()
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


from requests_app import admin_azure  # noqa: E402,F401  (consent, ledger)
from requests_app.admin_agents import AgentFilingInline  # noqa: E402
from requests_app.admin_links import StatusLinkInline  # noqa: E402

# The engine's store tasks: an inline on each request and their own changelist.
from requests_app.engine.admin import StoreTaskInline  # noqa: E402

PrivacyRequestAdmin.inlines = [*PrivacyRequestAdmin.inlines, AgentFilingInline, StoreTaskInline, StatusLinkInline]
