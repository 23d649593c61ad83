"""The engine in the admin: each request's store tasks (inline), and a changelist of all store tasks.

Read-only: the database row is the truth and only the engine writes it. Staff
act through the request's "retry" and "resolve by hand" decisions (which call
``requests_app.engine``); the store task list is where they see what failed,
where, and what to do next.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdmin
from requests_app.models import PrivacyRequest, StoreTask

if TYPE_CHECKING:  # the admin classes are generic only in django-stubs, not at run time
    from django_stubs_ext import StrOrPromise

    _Inline = admin.TabularInline[StoreTask, PrivacyRequest]
    _Admin = admin.ModelAdmin[StoreTask]
else:
    _Inline = admin.TabularInline

FIELDS = (
    "store",
    "store_kind",
    "phase",
    "status_badge",
    "attempts",
    "counts",
    "verified_gone",
    "last_error_text",
    "manual_steps",
    "started_at",
    "finished_at",
    "heartbeat_age",
    "next_attempt_at",
)


# The request page's inline: seven columns that fit a 1280 px screen (the full list of
# FIELDS made a 1388 px table with dates wrapping onto four lines).
INLINE_FIELDS = ("store_label", "phase", "status_badge", "counts", "verified_gone", "notes", "times")


def _short_time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M:%S") if value else ""


class _StoreTaskDisplay:
    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: StoreTask) -> str:
        waiting = obj.status == StoreTask.Status.RUNNING and "awaiting_callback" in (obj.detail or {})
        label = _("waiting for the store's callback") if waiting else obj.get_status_display()
        return format_html('<span class="store-task store-task-{}">{}</span>', obj.status, label)

    @admin.display(description=_("found / exported / erased / anonymised"))
    def counts(self, obj: StoreTask) -> str:
        return f"{obj.found_count} / {obj.exported_count} / {obj.erased_count} / {obj.anonymised_count}"

    @admin.display(description=_("last error"))
    def last_error_text(self, obj: StoreTask) -> str:
        if not obj.last_error:
            return "—"
        hint: StrOrPromise = ""
        if obj.status == StoreTask.Status.FAILED:
            hint = _("Fix the cause, then use “Retry” on the request (or “Resolve by hand”).")
        elif obj.status == StoreTask.Status.PENDING and obj.next_attempt_at:
            hint = _("Retried automatically.")
        return format_html("{}<br><small>{}</small>", obj.last_error, hint)

    @admin.display(description=_("manual steps"))
    def manual_steps(self, obj: StoreTask) -> str:
        steps = (obj.detail or {}).get("manual_steps") or []
        if not steps:
            return "—"
        return format_html(
            "<br>".join(["{} — {}"] * len(steps)),
            *[part for step in steps for part in (step.get("what", ""), step.get("how", ""))],
        )

    @admin.display(description=_("store"), ordering="store")
    def store_label(self, obj: StoreTask) -> str:
        return format_html('{}<br><small class="store-task-kind">{}</small>', obj.store, obj.store_kind)

    @admin.display(description=_("notes"))
    def notes(self, obj: StoreTask) -> str:
        """The last error, manual steps and tables the stores file does not cover, in one cell."""
        parts = []
        if obj.last_error:
            parts.append(self.last_error_text(obj))
        if (obj.detail or {}).get("manual_steps"):
            parts.append(self.manual_steps(obj))
        for gap in (obj.detail or {}).get("not_covered", []):
            parts.append(format_html("<strong>{}</strong> {}", _("not covered:"), gap.get("why", gap.get("table"))))
        if obj.attempts > 1:
            parts.append(format_html("<small>{}</small>", _("%(n)d attempts") % {"n": obj.attempts}))
        if not parts:
            return "—"
        return format_html("<br>".join(["{}"] * len(parts)), *parts)

    @admin.display(description=_("when"))
    def times(self, obj: StoreTask) -> str:
        lines = []
        if obj.started_at:
            end = _short_time(obj.finished_at)[6:] if obj.finished_at else "…"
            lines.append(f"{_short_time(obj.started_at)} → {end}")
        if obj.status == StoreTask.Status.RUNNING and obj.heartbeat_at:
            lines.append(str(_("heartbeat %(age)s") % {"age": self.heartbeat_age(obj)}))
        if obj.status == StoreTask.Status.PENDING and obj.next_attempt_at:
            lines.append(str(_("next try %(at)s") % {"at": _short_time(obj.next_attempt_at)}))
        if not lines:
            return "—"
        return format_html("<br>".join(['<span class="store-task-time">{}</span>'] * len(lines)), *lines)

    @admin.display(description=_("last heartbeat"))
    def heartbeat_age(self, obj: StoreTask) -> str:
        if obj.status != StoreTask.Status.RUNNING or not obj.heartbeat_at:
            return "—"
        return _("%(seconds)d s ago") % {"seconds": (timezone.now() - obj.heartbeat_at).total_seconds()}


class StoreTaskInline(_StoreTaskDisplay, _Inline):
    model = StoreTask
    extra = 0
    can_delete = False
    fields = INLINE_FIELDS
    readonly_fields = INLINE_FIELDS
    classes = ["store-tasks"]
    verbose_name = _("store task")
    verbose_name_plural = _("store tasks (what the engine did in each store)")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: PrivacyRequest | None = None) -> bool:
        return False

    # ``obj`` is the parent request (django-stubs' BaseModelAdmin says a StoreTask; Model covers both).
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class FailedOrStuckFilter(admin.SimpleListFilter):
    title = _("needs a look")
    parameter_name = "look"

    def lookups(self, request: HttpRequest, model_admin: _Admin) -> list[tuple[str, StrOrPromise]]:
        return [
            ("failed", _("failed")),
            ("retrying", _("retrying after an error")),
            ("waiting", _("waiting for a callback")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[StoreTask]) -> QuerySet[StoreTask]:
        if self.value() == "failed":
            return queryset.filter(status=StoreTask.Status.FAILED)
        if self.value() == "retrying":
            return queryset.filter(status=StoreTask.Status.PENDING).exclude(last_error="")
        if self.value() == "waiting":
            return queryset.filter(status=StoreTask.Status.RUNNING, detail__has_key="awaiting_callback")
        return queryset


@admin.register(StoreTask)
class StoreTaskAdmin(_StoreTaskDisplay, ReadOnlyAdmin):
    list_display = (
        "request_link",
        "store",
        "phase",
        "status_badge",
        "attempts",
        "counts",
        "short_error",
        "started_at",
        "finished_at",
    )
    list_filter = (FailedOrStuckFilter, "status", "phase", "store", "store_kind")
    search_fields = ("request__reference", "store")
    list_select_related = ("request",)
    ordering = ("-id",)
    readonly_fields = ("request_link", *FIELDS, "dispatched_at", "detail")
    fields = readonly_fields
    show_full_result_count = False

    @admin.display(description=_("request"), ordering="request__reference")
    def request_link(self, obj: StoreTask) -> str:
        url = reverse("admin:requests_app_privacyrequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request.reference)

    @admin.display(description=_("last error"))
    def short_error(self, obj: StoreTask) -> str:
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else (obj.last_error or "—")
