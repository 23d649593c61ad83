"""Cases: the moderators' queue (child safety on top), the decision page, evidence reveal, legal hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, ForeignKey, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import services, timeline_words
from abuse_app.admin.common import PREVIEW_TYPES, REVEALED_SESSION_KEY, short_time
from abuse_app.dsa.admin import has_notify_authorities_permission, notify_authorities
from abuse_app.forms import DecisionForm, NoteForm
from abuse_app.models import Case, CaseQuerySet, Evidence, Notice
from abuse_app.services.child_safety import may_see_case_evidence
from portal import audit
from portal.roles import staff_user

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only: at run time it takes no parameters
    from django_stubs_ext import StrOrPromise, WithAnnotations

    CaseAdminBase = admin.ModelAdmin[Case]
else:
    CaseAdminBase = admin.ModelAdmin


class NoticeCount(TypedDict):
    """What ``CaseAdmin.get_queryset`` annotates on each case."""

    notice_count: int


class SlaFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Case]) -> Iterable[tuple[str, StrOrPromise]]:
        return [("overdue", _("Overdue")), ("24h", _("Due within 24 hours"))]

    # django-stubs types a list filter's queryset as a plain QuerySet; the case list's is a CaseQuerySet.
    def queryset(self, request: HttpRequest, queryset: CaseQuerySet) -> CaseQuerySet:  # type: ignore[override]
        if self.value() == "overdue":
            return queryset.overdue()
        if self.value() == "24h":
            return queryset.due_within(24)
        return queryset


def _evidence_links(notice: Notice) -> str:
    items = [
        format_html(
            '<li><a href="{}">{}</a> · {} · {} bytes · sha256 {}</li>',
            reverse("admin:abuse_app_evidence_download", args=[e.pk]),
            e.original_name or f"file {e.pk}",
            e.content_type,
            e.size,
            e.sha256[:16] + "…",
        )
        if not e.purged_at
        else format_html(
            "<li>{} · deleted {} (retention) · sha256 {}</li>",
            e.original_name,
            e.purged_at.date(),
            e.sha256[:16] + "…",
        )
        for e in notice.evidence.all()
    ]
    return format_html("<ul>{}</ul>", format_html_join("", "{}", ((i,) for i in items))) if items else "—"


# Evidence a moderator chose to see unblurred in the child-safety lane (this session only).


def _notices_with_evidence(request: HttpRequest, case: Case) -> list[dict[str, object]]:
    """The case's notices with their files, as the decision page shows them.

    Images get an inline preview through the audited evidence view; in the child-safety lane
    the preview stays greyscale and blurred until the moderator reveals it (audited too).
    """
    revealed = set(request.session.get(REVEALED_SESSION_KEY, []))
    allowed = may_see_case_evidence(request.user, case)  # the lane is for its role only
    notices = case.notices.prefetch_related("evidence").order_by("received_at")
    return [
        {
            "notice": notice,
            "evidence": [
                {
                    "file": item,
                    "preview": allowed
                    and not item.purged_at
                    and bool(item.file)
                    and item.content_type in PREVIEW_TYPES,
                    "blurred": case.is_child_safety and item.pk not in revealed,
                    "restricted": not allowed,
                }
                for item in notice.evidence.all()
            ],
        }
        for notice in notices
    ]


CASE_FIELDS = (
    "reference",
    "target_display",
    "target_account_id",
    "category",
    "is_child_safety",
    "priority",
    "status",
    "sla_due_at",
    "assigned_to",
    "first_received_at",
    "last_received_at",
    "decided_at",
    "legal_hold_until",
)


@admin.register(Case)
class CaseAdmin(CaseAdminBase):
    list_display = [
        "reference",
        "child_safety",
        "category",
        "priority",
        "notice_count",
        "received",
        "sla_due",
        "status",
        "assigned_to",
    ]
    list_filter = [
        "status",
        "is_child_safety",
        "category",
        "priority",
        SlaFilter,
        ("assigned_to", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["reference", "target_display", "target_account_id", "notices__reference"]
    list_select_related = ["assigned_to"]
    ordering = ["-is_child_safety", "priority", "sla_due_at"]
    actions = ["assign_to_me", "place_legal_hold", notify_authorities]
    change_form_template = "abuse_app/admin/case_change_form.html"
    show_full_result_count = False

    class Media:
        css = {"all": ["abuse_app/admin.css"]}

    fields = CASE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[WithAnnotations[Case, NoticeCount]]:
        return super().get_queryset(request).annotate(notice_count=Count("notices", distinct=True))

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        return [f for f in CASE_FIELDS if f != "assigned_to"]

    def has_notify_authorities_permission(self, request: HttpRequest) -> bool:
        return has_notify_authorities_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cases are opened by notices

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False  # the record of what was reported and decided is kept

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "assigned_to":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(is_superuser=True) | Q(groups__permissions__codename="change_case"))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Notices"), ordering="notice_count")
    def notice_count(self, obj: WithAnnotations[Case, NoticeCount]) -> int:
        return obj.notice_count

    @admin.display(description=_("Child safety"), boolean=True, ordering="is_child_safety")
    def child_safety(self, obj: Case) -> bool:
        return obj.is_child_safety

    # Short dates that may wrap between day and time: the list fits 1280 px with the filters.
    @admin.display(description=_("Last notice"), ordering="last_received_at")
    def received(self, obj: Case) -> str:
        return short_time(obj.last_received_at)

    @admin.display(description=_("SLA due"), ordering="sla_due_at")
    def sla_due(self, obj: Case) -> str:
        if obj.is_overdue:
            return format_html(
                '<strong class="abuse-overdue">{} ({})</strong>', short_time(obj.sla_due_at), _("overdue")
            )
        return short_time(obj.sla_due_at)

    def save_model(self, request: HttpRequest, obj: Case, form: forms.ModelForm[Case], change: bool) -> None:
        if change and "assigned_to" in form.changed_data:
            services.case_assign(case=obj, assignee=obj.assigned_to, actor=staff_user(request))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        case = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if case is not None:
            notices = case.notices.prefetch_related("evidence").order_by("received_at")
            extra_context.update(
                {
                    "notices": [(n, _evidence_links(n)) for n in notices],
                    "decisions": case.decisions.select_related("decided_by").prefetch_related("appeals"),
                    "notes": case.notes.select_related("author"),
                    "timeline": timeline_words.timeline_rows(audit.timeline("abuse_case", case.pk)),
                    "note_form": NoteForm(),
                    "can_decide": case.is_open and request.user.has_perm("abuse_app.add_decision"),
                    "can_note": request.user.has_perm("abuse_app.add_casenote"),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="abuse_app_case_decide"),
            path("<int:pk>/note/", self.admin_site.admin_view(self.note_view), name="abuse_app_case_note"),
            path(
                "<int:pk>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="abuse_app_case_reveal",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("abuse_app.add_decision"):
            raise PermissionDenied(_("Only moderators may decide cases; your account has no moderator role."))
        case = get_object_or_404(Case, pk=pk)
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.case_decide(case=case, actor=staff_user(request), **form.decide_kwargs())
            except services.AbuseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Decision recorded; the reporters and the host app are being told."))
                return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[case.pk]))
        return render(
            request,
            "abuse_app/admin/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "case": case,
                "form": form,
                "notices": _notices_with_evidence(request, case),
                "title": _("Decide case %(ref)s") % {"ref": case.reference},
            },
        )

    def reveal_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        """Un-blur one child-safety preview (POSTed ``evidence`` id) for this session; audited on the case.

        Back to the decision page, or to the admin page named by ``next`` (the case page's previews).
        """
        if not request.user.has_perm("abuse_app.view_evidence"):
            raise PermissionDenied(_("Only moderators and auditors may look at evidence."))
        if not may_see_case_evidence(request.user, get_object_or_404(Case, pk=pk)):
            raise PermissionDenied(_("This is child-safety evidence: only child-safety moderators may see it."))
        back = request.POST.get("next", "")
        decide_url = back if back.startswith("/admin/") else reverse("admin:abuse_app_case_decide", args=[pk])
        evidence_pk = request.POST.get("evidence", "")
        if request.method != "POST" or not evidence_pk.isdigit():
            return HttpResponseRedirect(decide_url)
        evidence = get_object_or_404(Evidence.objects.distinct(), pk=int(evidence_pk), notice__cases__pk=pk)
        services.evidence_reveal(evidence=evidence, case_id=pk, actor=staff_user(request))
        revealed = set(request.session.get(REVEALED_SESSION_KEY, []))
        revealed.add(evidence.pk)
        request.session[REVEALED_SESSION_KEY] = sorted(revealed)
        return HttpResponseRedirect(f"{decide_url}#evidence-{evidence.pk}")

    def note_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        if not request.user.has_perm("abuse_app.add_casenote"):
            raise PermissionDenied(_("Only moderators may add notes to cases; your account has no moderator role."))
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[pk]))
        case = get_object_or_404(Case, pk=pk)
        form = NoteForm(request.POST)
        if form.is_valid():
            services.case_add_note(case=case, author=staff_user(request), body=form.cleaned_data["body"])
            messages.success(request, _("Note added."))
        else:
            messages.error(request, _("The note is empty or too long (5000 characters at most)."))
        return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[case.pk]))

    @admin.action(description=_("Assign selected cases to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        cases = list(queryset)
        me = staff_user(request)
        for case in cases:
            services.case_assign(case=case, assignee=me, actor=me)
        messages.success(
            request,
            ngettext("%(n)d case assigned to you.", "%(n)d cases assigned to you.", len(cases)) % {"n": len(cases)},
        )

    @admin.action(
        description=_("Place on legal hold for one year (evidence kept, never auto-deleted)"),
        permissions=["change"],
    )
    def place_legal_hold(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        cases = list(queryset)
        for case in cases:
            services.case_place_legal_hold(
                case=case, actor=staff_user(request), days=365, reason="placed from the case list"
            )
        messages.success(
            request,
            ngettext(
                "%(n)d case placed on legal hold for one year.",
                "%(n)d cases placed on legal hold for one year.",
                len(cases),
            )
            % {"n": len(cases)},
        )
