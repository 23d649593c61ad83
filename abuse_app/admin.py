"""Moderators' workspace: cases first (child safety on top), then notices, appeals, reporters, webhooks.

Everything that changes a case goes through ``abuse_app.services`` (audited);
the admin only collects input. Auditors hold view permissions only, so every
form and action here checks a change/add permission.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import services
from abuse_app.forms import AppealDecisionForm, DecisionForm, NoteForm
from abuse_app.models import Appeal, Case, Decision, Evidence, Notice, ReporterStanding, WebhookDelivery
from abuse_app.services.child_safety import may_see_evidence
from portal import audit
from portal.admin import ReadOnlyAdmin


class SlaFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("24h", _("Due within 24 hours"))]

    def queryset(self, request, queryset):
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


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "child_safety",
        "category",
        "priority",
        "notice_count",
        "first_received_at",
        "last_received_at",
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
    actions = ["assign_to_me", "place_legal_hold"]
    change_form_template = "abuse/admin/case_change_form.html"
    show_full_result_count = False
    fields = [
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
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(notice_count=Count("notices", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.fields if f != "assigned_to"]

    def has_add_permission(self, request):
        return False  # cases are opened by notices

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was reported and decided is kept

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            from django.contrib.auth import get_user_model
            from django.db.models import Q

            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(is_superuser=True) | Q(groups__permissions__codename="change_case"))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Notices"), ordering="notice_count")
    def notice_count(self, obj):
        return obj.notice_count

    @admin.display(description=_("Child safety"), boolean=True, ordering="is_child_safety")
    def child_safety(self, obj):
        return obj.is_child_safety

    @admin.display(description=_("SLA due"), ordering="sla_due_at")
    def sla_due(self, obj):
        due = timezone.localtime(obj.sla_due_at).strftime("%Y-%m-%d %H:%M")
        if obj.is_overdue:
            return format_html('<strong style="color:#8a1c1c">{} ({})</strong>', due, _("overdue"))
        return due

    def save_model(self, request, obj, form, change):
        if change and "assigned_to" in form.changed_data:
            services.case_assign(case=obj, assignee=obj.assigned_to, actor=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if case is not None:
            notices = case.notices.prefetch_related("evidence").order_by("received_at")
            extra_context.update(
                {
                    "notices": [(n, _evidence_links(n)) for n in notices],
                    "decisions": case.decisions.select_related("decided_by").prefetch_related("appeals"),
                    "notes": case.notes.select_related("author"),
                    "timeline": audit.timeline("abuse_case", case.pk),
                    "note_form": NoteForm(),
                    "can_decide": case.is_open and request.user.has_perm("abuse_app.add_decision"),
                    "can_note": request.user.has_perm("abuse_app.add_casenote"),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="abuse_app_case_decide"
            ),
            path("<int:pk>/note/", self.admin_site.admin_view(self.note_view), name="abuse_app_case_note"),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk: int):
        if not request.user.has_perm("abuse_app.add_decision"):
            raise PermissionDenied(_("Only moderators may decide cases; your account has no moderator role."))
        case = get_object_or_404(Case, pk=pk)
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.case_decide(case=case, actor=request.user, **form.decide_kwargs())
            except services.AbuseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Decision recorded; the reporters and the host app are being told.")
                )
                return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[case.pk]))
        return render(
            request,
            "abuse/admin/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "case": case,
                "form": form,
                "title": _("Decide case %(ref)s") % {"ref": case.reference},
            },
        )

    def note_view(self, request, pk: int):
        if not request.user.has_perm("abuse_app.add_casenote"):
            raise PermissionDenied(_("Only moderators may add notes to cases; your account has no moderator role."))
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[pk]))
        case = get_object_or_404(Case, pk=pk)
        form = NoteForm(request.POST)
        if form.is_valid():
            services.case_add_note(case=case, author=request.user, body=form.cleaned_data["body"])
            messages.success(request, _("Note added."))
        else:
            messages.error(request, _("The note is empty or too long (5000 characters at most)."))
        return HttpResponseRedirect(reverse("admin:abuse_app_case_change", args=[case.pk]))

    @admin.action(description=_("Assign selected cases to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        cases = list(queryset)
        for case in cases:
            services.case_assign(case=case, assignee=request.user, actor=request.user)
        messages.success(
            request,
            ngettext("%(n)d case assigned to you.", "%(n)d cases assigned to you.", len(cases)) % {"n": len(cases)},
        )

    @admin.action(
        description=_("Place on legal hold for one year (evidence kept, never auto-deleted)"),
        permissions=["change"],
    )
    def place_legal_hold(self, request, queryset):
        cases = list(queryset)
        for case in cases:
            services.case_place_legal_hold(
                case=case, actor=request.user, days=365, reason="placed from the case list"
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


class EvidenceInline(admin.TabularInline):
    model = Evidence
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_at", "purged_at", "download")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("File"))
    def download(self, obj):
        if obj.purged_at or not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:abuse_app_evidence_download", args=[obj.pk]),
            _("Download (logged)"),
        )


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """A notice is what the reporter sent: nobody changes it; staff notes go on the case."""

    list_display = [
        "reference",
        "category",
        "channel",
        "received_at",
        "reporter_email",
        "evidence_count",
        "manifestly_unfounded",
    ]
    list_filter = ["category", "channel", "manifestly_unfounded"]
    search_fields = ["reference", "reporter_email", "content_id", "cases__reference"]
    date_hierarchy = "received_at"
    inlines = [EvidenceInline]
    exclude = ["status_token_hash"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(evidence_count=Count("evidence"))

    @admin.display(description=_("Evidence"), ordering="evidence_count")
    def evidence_count(self, obj):
        return obj.evidence_count

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Notice._meta.fields if f.name != "status_token_hash"]

    def get_urls(self):
        return [
            path(
                "evidence/<int:pk>/download/",
                self.admin_site.admin_view(self.evidence_download),
                name="abuse_app_evidence_download",
            ),
            *super().get_urls(),
        ]

    def evidence_download(self, request, pk: int):
        """Staff-only, permission-checked, audited; a download, never rendered in the browser."""
        if not request.user.has_perm("abuse_app.view_evidence"):
            raise PermissionDenied(_("Only moderators and auditors may download evidence."))
        evidence = get_object_or_404(Evidence, pk=pk)
        if not may_see_evidence(request.user, evidence):
            raise PermissionDenied(_("This is child-safety evidence: only child-safety moderators may see it."))
        try:
            handle = services.evidence_open(evidence=evidence, actor=request.user)
        except services.AbuseError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:abuse_app_notice_change", args=[evidence.notice_id]))
        except FileNotFoundError:
            messages.error(
                request,
                _(
                    "The file of evidence %(pk)s is missing from private storage (%(root)s). "
                    "Restore it from backup; its sha256 is %(sha)s."
                )
                % {"pk": evidence.pk, "root": "PORTAL_PRIVATE_ROOT", "sha": evidence.sha256},
            )
            return HttpResponseRedirect(reverse("admin:abuse_app_notice_change", args=[evidence.notice_id]))
        extension = {
            "image/jpeg": "jpg",
            "image/png": "png",
            "image/gif": "gif",
            "image/webp": "webp",
            "application/pdf": "pdf",
            "text/plain": "txt",
            "video/mp4": "mp4",
            "video/quicktime": "mov",
            "video/webm": "webm",
        }.get(evidence.content_type, "bin")
        response = FileResponse(
            handle,
            as_attachment=True,
            content_type="application/octet-stream",
            filename=f"evidence-{evidence.notice.reference}-{evidence.pk}.{extension}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """A statement of reasons is final (appeals change outcomes); decide from the case page."""

    list_display = ["case", "action", "ground", "legal_reference", "automated", "decided_by", "decided_at"]
    list_filter = ["action", "ground", "automated"]
    search_fields = ["case__reference", "legal_reference"]
    list_select_related = ["case", "decided_by"]
    exclude = ["target_token_hash"]
    date_hierarchy = "decided_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Decision._meta.fields if f.name != "target_token_hash"]


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
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
    change_form_template = "abuse/admin/appeal_change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Appeal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Case"))
    def case_link(self, obj):
        case = obj.decision.case
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:abuse_app_case_change", args=[case.pk]), case.reference
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
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

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="abuse_app_appeal_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk: int):
        if not request.user.has_perm("abuse_app.change_appeal"):
            raise PermissionDenied(_("Only moderators may decide appeals; your account has no moderator role."))
        appeal = get_object_or_404(
            Appeal.objects.select_related("decision__case", "decision__decided_by"), pk=pk
        )
        if appeal.original_decider_id == request.user.pk:
            # Art. 20(6) DSA: the complaint is decided by someone other than the original decider.
            raise PermissionDenied(
                _("You took the original decision. Another moderator must decide this appeal.")
            )
        form = AppealDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.appeal_decide(
                    appeal=appeal,
                    actor=request.user,
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
            "abuse/admin/appeal_decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "appeal": appeal,
                "form": form,
                "decision": appeal.decision,
                "title": _("Decide appeal on %(ref)s") % {"ref": appeal.decision.case.reference},
            },
        )


def _short(moment) -> str:
    """A compact local time for narrow list columns; it may wrap between day and time only."""
    if not moment:
        return "—"
    local = timezone.localtime(moment)
    return format_html('<span class="abuse-day">{}</span> {}', local.strftime("%Y-%m-%d"), local.strftime("%H:%M"))


@admin.register(ReporterStanding)
class ReporterStandingAdmin(admin.ModelAdmin):
    list_display = ["reporter", "kind", "unfounded", "warned", "suspended"]
    list_filter = [("suspended_until", admin.EmptyFieldListFilter), ("warned_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "label"]
    search_help_text = _("Masked e-mail (a***@example.com) or the key's hash.")
    readonly_fields = [
        "label",
        "key",
        "unfounded_count",
        "warned_at",
        "suspended_at",
        "suspended_until",
        "updated_at",
    ]
    actions = ["lift_suspension"]

    class Media:
        css = {"all": ["abuse_app/admin.css"]}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Reporter"), ordering="label")
    def reporter(self, obj):
        # The label to recognise someone by, the hash (shortened) to tell equal labels apart.
        return format_html(
            '<span class="abuse-reporter">{}</span> <code class="abuse-key" title="{}">{}…</code>',
            obj.label or (_("address") if obj.is_address else "—"),
            obj.key,
            obj.key[:14],
        )

    @admin.display(description=_("Kind"))
    def kind(self, obj):
        return _("Address (cooldown only)") if obj.is_address else _("E-mail")

    @admin.display(description=_("Warned"), ordering="warned_at")
    def warned(self, obj):
        return _short(obj.warned_at)

    @admin.display(description=_("Suspended until"), ordering="suspended_until")
    def suspended(self, obj):
        return _short(obj.suspended_until)

    @admin.display(description=_("Unfounded"), ordering="unfounded_count")
    def unfounded(self, obj):
        return obj.unfounded_count

    @admin.action(description=_("Lift the suspension of the selected reporters"), permissions=["change"])
    def lift_suspension(self, request, queryset):
        count = services.reporters_lift_suspensions(standings=queryset, actor=request.user)
        messages.success(
            request,
            ngettext(
                "The suspension of %(n)d reporter was lifted.",
                "The suspensions of %(n)d reporters were lifted.",
                count,
            )
            % {"n": count},
        )


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
            ngettext(
                "%(n)d failed delivery queued again.", "%(n)d failed deliveries queued again.", count
            )
            % {"n": count},
        )


# The child-safety lane (CyberTipline reports, blurred previews): its own module.
from abuse_app import admin_child_safety  # noqa: E402,F401
