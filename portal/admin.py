from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from portal import api_keys, audit
from portal.models import ApiKey, AuditEvent, Heartbeat, PolicyVersion


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs
    """For append-only records: visible to whoever may view them, changeable by nobody."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "subject_type", "subject_id", "action", "from_status", "to_status", "who"]
    # The hash chain (portal/audit_chain.py; check it with manage.py verify_audit).
    readonly_fields = ["seq", "prev_hash", "hash"]
    list_filter = ["subject_type", "action", "actor_type"]
    search_fields = ["subject_id", "action", "actor_label"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    show_full_result_count = False


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in django-stubs
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance.pk is None:  # the same rule as manage.py api_key create
            try:
                name = api_keys.clean_name(name)
            except api_keys.ApiKeyError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return str(name)

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if self.instance.pk is None and expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Give a date in the future, or leave it empty for a key that does not expire.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs
    form = ApiKeyForm
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form already applied issue_key's checks (clean_name, scopes from the choices, future expiry).
        key, raw = api_keys.issue_key(
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            actor=request.user,
            expires_at=form.cleaned_data.get("expires_at"),
            created_by=request.user,
        )
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(request, f"Copy this key now; it will not be shown again: {raw}")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit trail refers to keys

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            api_keys.revoke_key(key, actor=request.user)
        messages.success(request, "Revoked.")


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "at"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs
    """Drafts are edited freely; publishing freezes a version. "Copy as new draft" starts the next one."""

    list_display = ["version", "language", "effective_date", "state", "summary_of_changes", "published_at"]
    list_filter = ["language", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["summary_of_changes", "body"]
    ordering = ["-version", "language"]
    actions = ["publish", "copy_as_new_draft"]
    list_select_related = ["published_by"]

    @admin.display(description="State")
    def state(self, obj: PolicyVersion) -> str:
        if not obj.is_published:
            return "draft"
        return "in force or past" if obj.effective_date <= timezone.localdate() else "scheduled"

    @admin.display(description="Preview")
    def preview(self, obj: PolicyVersion | None) -> str:
        if obj is None or not obj.pk:
            return "Save to see a preview."
        return format_html('<div class="policy-preview">{}</div>', obj.render())

    def get_fields(self, request: HttpRequest, obj: PolicyVersion | None = None) -> tuple[str, ...]:
        if obj is not None and obj.is_published:
            return (
                "version",
                "language",
                "effective_date",
                "summary_of_changes",
                "published_at",
                "published_by",
                "preview",
            )
        return ("version", "language", "effective_date", "summary_of_changes", "body", "preview")

    def get_readonly_fields(self, request: HttpRequest, obj: PolicyVersion | None = None) -> tuple[str, ...]:
        if obj is not None and obj.is_published:
            return self.get_fields(request, obj)
        return ("preview",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        latest = PolicyVersion.objects.order_by("-version").first()
        return {"version": (latest.version + 1) if latest else 1, "effective_date": timezone.localdate()}

    def has_delete_permission(self, request: HttpRequest, obj: PolicyVersion | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        queryset.filter(published_at__isnull=True).delete()

    @admin.action(description="Publish selected drafts (they can no longer be changed)")
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        count = 0
        for policy in queryset.filter(published_at__isnull=True):
            policy.publish(actor=request.user)
            audit.record(
                subject_type="privacy_policy",
                subject_id=policy.pk,
                action="policy.published",
                actor=request.user,
                data={"version": policy.version, "language": policy.language},
            )
            count += 1
        if count:
            messages.success(request, f"Published {count} version(s); each is shown from its effective date.")
        else:
            messages.warning(request, "Nothing to publish: the selected versions were already published.")

    @admin.action(description="Copy as a new draft (next version number)")
    def copy_as_new_draft(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        versions = PolicyVersion.objects.order_by("-version").values_list("version", flat=True)
        next_version = (versions.first() or 0) + 1
        latest_per_language = {}
        for policy in queryset.order_by("version"):
            latest_per_language[policy.language] = policy
        for policy in latest_per_language.values():
            PolicyVersion.objects.create(
                version=next_version,
                language=policy.language,
                body=policy.body,
                effective_date=timezone.localdate(),
                summary_of_changes="",
            )
        messages.success(request, f"Created draft version {next_version}. Edit it, then publish it.")
