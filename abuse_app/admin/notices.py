"""Notices (what reporters sent, with their evidence) and decisions (statements of reasons), read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from abuse_app import services
from abuse_app.admin.common import PREVIEW_TYPES
from abuse_app.dsa.admin import StatementSubmissionInline
from abuse_app.models import Decision, Evidence, Notice
from abuse_app.services import child_safety, exposure
from portal.admin import ReadOnlyAdmin
from portal.roles import staff_user

if TYPE_CHECKING:  # the inline is generic in django-stubs only: at run time it takes no parameters
    from django_stubs_ext import WithAnnotations

    EvidenceInlineBase = admin.TabularInline[Evidence, Notice]
else:
    EvidenceInlineBase = admin.TabularInline


class EvidenceCount(TypedDict):
    """What ``NoticeAdmin.get_queryset`` annotates on each notice."""

    evidence_count: int


def _evidence_for(request: HttpRequest, pk: int) -> Evidence:
    """The evidence ``pk`` if this staff member may see it: a role, and the child-safety role for that lane."""
    if not request.user.has_perm("abuse_app.view_evidence"):
        raise PermissionDenied(_("Only moderators and auditors may download evidence."))
    evidence = get_object_or_404(Evidence.objects.select_related("notice"), pk=pk)
    if not child_safety.may_see_evidence(request.user, evidence):
        raise PermissionDenied(_("This is child-safety evidence: only child-safety moderators may see it."))
    return evidence


class EvidenceInline(EvidenceInlineBase):
    model = Evidence
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_at", "purged_at", "download")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Notice | None = None) -> bool:
        return False

    @admin.display(description=_("File"))
    def download(self, obj: Evidence) -> str:
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[WithAnnotations[Notice, EvidenceCount]]:
        notices: QuerySet[Notice] = super().get_queryset(request)  # ReadOnlyAdmin is not generic
        return notices.annotate(evidence_count=Count("evidence"))

    @admin.display(description=_("Evidence"), ordering="evidence_count")
    def evidence_count(self, obj: WithAnnotations[Notice, EvidenceCount]) -> int:
        return obj.evidence_count

    def get_readonly_fields(self, request: HttpRequest, obj: Notice | None = None) -> list[str]:
        return [f.name for f in Notice._meta.fields if f.name != "status_token_hash"]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "evidence/<int:pk>/download/",
                self.admin_site.admin_view(self.evidence_download),
                name="abuse_app_evidence_download",
            ),
            path(
                "evidence/<int:pk>/preview/",
                self.admin_site.admin_view(self.evidence_preview),
                name="abuse_app_evidence_preview",
            ),
            *super().get_urls(),
        ]

    def evidence_preview(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        """An image shown inline on the decision page: the same checks and audit as a download.

        Child-safety evidence is rendered on the server instead: greyscale, and blurred until this
        session revealed it (``cases.reveal_view``, audited), so the clear picture never reaches
        the browser before the click.
        """
        evidence = _evidence_for(request, pk)
        if not child_safety.is_child_safety_evidence(evidence):
            return self.evidence_download(request, pk, inline=True)
        if not exposure.previewable(evidence):
            raise Http404(_("This file has no preview; download it (the download is logged)."))
        revealed = evidence.pk in exposure.revealed_ids(request.session)
        try:
            png = exposure.render_preview(evidence, revealed=revealed)
        except (OSError, ValueError):  # Pillow: unreadable or truncated image
            return HttpResponse(
                _("This image cannot be previewed; download it (the download is logged)."),
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "no-store, private"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def evidence_download(self, request: HttpRequest, pk: int, inline: bool = False) -> HttpResponseBase:
        """Staff-only, permission-checked, audited; a download (or, for images only, an inline preview)."""
        evidence = _evidence_for(request, pk)
        if inline and evidence.content_type not in PREVIEW_TYPES:
            raise Http404(_("Only images can be previewed; download other files."))
        try:
            handle = services.evidence_open(evidence=evidence, actor=staff_user(request))
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
        # The content type was sniffed from the bytes at upload (abuse_app/evidence.py), so an
        # inline image is what it says; scripts cannot run in it (sandbox, nosniff).
        response = FileResponse(
            handle,
            as_attachment=not inline,
            content_type=evidence.content_type if inline else "application/octet-stream",
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
    inlines = [StatementSubmissionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Decision | None = None) -> list[str]:
        return [f.name for f in Decision._meta.fields if f.name != "target_token_hash"]
