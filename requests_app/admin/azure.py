"""Admin for consent purposes and notices, consent records and the transmission ledger.

Notices are never edited once published: the purpose form has a "notice text"
field; saving a changed text publishes a new version (``consent.publish_notice``).
Consents and the ledger are read-only records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdmin
from requests_app import consent
from requests_app.ledger import known_services
from requests_app.models import AzureScan, Consent, ConsentNotice, ConsentPurpose, Transmission

if TYPE_CHECKING:  # the admin classes and ModelForm are generic only in django-stubs
    _NoticeInline = admin.TabularInline[ConsentNotice, ConsentPurpose]
    _PurposeForm = forms.ModelForm[ConsentPurpose]
    _PurposeAdmin = admin.ModelAdmin[ConsentPurpose]
else:
    _NoticeInline = admin.TabularInline
    _PurposeForm = forms.ModelForm
    _PurposeAdmin = admin.ModelAdmin


class NoticeInline(_NoticeInline):
    model = ConsentNotice
    extra = 0
    fields = ("version", "published_at", "text")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: ConsentPurpose | None = None) -> bool:
        return False


class PurposeForm(_PurposeForm):
    notice_text = forms.CharField(
        label=_("Notice text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=True,
        help_text=_(
            "Shown before consent, with the statement that data is sent to Microsoft. Changing it publishes "
            "a new version; consents keep the version they were given for."
        ),
    )

    # Ticked from the known services, not typed as JSON (the old field's own example was rejected).
    services = forms.MultipleChoiceField(
        label=_("Services"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The Azure services the host app sends this purpose's data to."),
        error_messages={"invalid_choice": _("%(value)s is not a service the portal knows; tick the listed ones.")},
    )

    class Meta:
        model = ConsentPurpose
        fields = ("slug", "title", "services", "requires_consent", "sale_or_sharing", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Transmission.Service.choices)
        services = self.fields["services"]
        assert isinstance(services, forms.MultipleChoiceField)  # declared above; ``fields`` holds a copy
        services.choices = [
            (name, labels.get(name, name)) for name in sorted(known_services(), key=lambda n: str(labels.get(n, n)))
        ]
        notice = self.instance.current_notice() if self.instance.pk else None
        if notice:
            self.fields["notice_text"].initial = notice.text


@admin.register(ConsentPurpose)
class ConsentPurposeAdmin(_PurposeAdmin):
    form = PurposeForm
    list_display = ("title", "slug", "requires_consent", "sale_or_sharing", "active")
    list_filter = ("active", "requires_consent", "sale_or_sharing")
    search_fields = ("slug", "title")
    inlines = [NoticeInline]

    def save_model(self, request: HttpRequest, obj: ConsentPurpose, form: PurposeForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        consent.publish_notice(purpose=obj, text=form.cleaned_data["notice_text"], actor=request.user)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("purpose", "subject_kind", "notice", "method", "granted_at", "withdrawn_at")
    list_filter = ("purpose", "method", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("=subject_value",)
    list_select_related = ("purpose", "notice", "notice__purpose")
    date_hierarchy = "granted_at"


@admin.register(Transmission)
class TransmissionAdmin(ReadOnlyAdmin):
    list_display = (
        "service",
        "resource_kind",
        "resource_id",
        "purpose",
        "payload_kind",
        "sent_at",
        "deleted_at",
    )
    list_filter = ("service", "purpose", ("deleted_at", admin.EmptyFieldListFilter), "payload_kind")
    search_fields = ("=subject_value", "=resource_id", "=client_id")
    date_hierarchy = "sent_at"
    list_select_related = ("deleted_by_task",)


@admin.register(AzureScan)
class AzureScanAdmin(ReadOnlyAdmin):
    """Results of the orphan scans (manage.py azure_scan, weekly beat). Read-only: the scan changes nothing."""

    list_display = ["started_at", "finished_at", "scanned", "orphan_count", "error_count"]
    readonly_fields = ("started_at", "finished_at", "scanned", "orphan_table", "errors")
    fields = ("started_at", "finished_at", "scanned", "orphan_table", "errors")

    @admin.display(description=_("orphans"))
    def orphan_count(self, obj: AzureScan) -> int:
        return len(obj.orphans or [])

    @admin.display(description=_("store errors"))
    def error_count(self, obj: AzureScan) -> int:
        return len(obj.errors or [])

    @admin.display(description=_("Orphans"))
    def orphan_table(self, obj: AzureScan) -> str:
        if not obj.orphans:
            return "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("store"),
            _("what"),
            _("where"),
            _("subject"),
            _("why"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}={}</td><td>{}</td></tr>",
                (
                    (o["store"], o["what"], o["where"], o["identity_kind"], o["identity_value"], o["why"])
                    for o in obj.orphans
                ),
            ),
        )
