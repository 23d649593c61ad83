from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from portal import audit
from portal.models import ApiKey, AuditEvent, Heartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only records: visible to whoever may view them, changeable by nobody."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "subject_type", "subject_id", "action", "from_status", "to_status", "who"]
    list_filter = ["subject_type", "action", "actor_type"]
    search_fields = ["subject_id", "action", "actor_label"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    show_full_result_count = False


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = ApiKey.issue(name=obj.name, scopes=form.cleaned_data["scopes"], created_by=request.user)
        obj.pk = key.pk
        obj.refresh_from_db()
        audit.record(subject_type="api_key", subject_id=key.pk, action="api_key.created", actor=request.user,
                     data={"scopes": key.scopes})
        messages.warning(request, f"Copy this key now; it will not be shown again: {raw}")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail refers to keys

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(subject_type="api_key", subject_id=key.pk, action="api_key.revoked", actor=request.user)
        messages.success(request, "Revoked.")


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "at"]
