"""Reporters' standing: misuse counts, warnings and suspensions (DSA Art. 23)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import services
from abuse_app.admin.common import short_time
from abuse_app.models import ReporterStanding
from portal.roles import staff_user

if TYPE_CHECKING:  # ModelAdmin is generic in django-stubs only: at run time it takes no parameters
    from django_stubs_ext import StrOrPromise

    ReporterStandingAdminBase = admin.ModelAdmin[ReporterStanding]
else:
    ReporterStandingAdminBase = admin.ModelAdmin


@admin.register(ReporterStanding)
class ReporterStandingAdmin(ReporterStandingAdminBase):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReporterStanding | None = None) -> bool:
        return False

    @admin.display(description=_("Reporter"), ordering="label")
    def reporter(self, obj: ReporterStanding) -> str:
        # The label to recognise someone by, the hash (shortened) to tell equal labels apart.
        return format_html(
            '<span class="abuse-reporter">{}</span> <code class="abuse-key" title="{}">{}…</code>',
            obj.label or (_("address") if obj.is_address else "—"),
            obj.key,
            obj.key[:14],
        )

    @admin.display(description=_("Kind"))
    def kind(self, obj: ReporterStanding) -> StrOrPromise:
        return _("Address (cooldown only)") if obj.is_address else _("E-mail")

    @admin.display(description=_("Warned"), ordering="warned_at")
    def warned(self, obj: ReporterStanding) -> str:
        return short_time(obj.warned_at)

    @admin.display(description=_("Suspended until"), ordering="suspended_until")
    def suspended(self, obj: ReporterStanding) -> str:
        return short_time(obj.suspended_until)

    @admin.display(description=_("Unfounded"), ordering="unfounded_count")
    def unfounded(self, obj: ReporterStanding) -> int:
        return obj.unfounded_count

    @admin.action(description=_("Lift the suspension of the selected reporters"), permissions=["change"])
    def lift_suspension(self, request: HttpRequest, queryset: QuerySet[ReporterStanding]) -> None:
        count = services.reporters_lift_suspensions(standings=queryset, actor=staff_user(request))
        messages.success(
            request,
            ngettext(
                "The suspension of %(n)d reporter was lifted.",
                "The suspensions of %(n)d reporters were lifted.",
                count,
            )
            % {"n": count},
        )
