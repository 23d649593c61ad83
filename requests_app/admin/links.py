"""Secret links in the admin: status, download and consent links, revocable one by one.

Staff never see a token (only its hash is stored); they see when a link was
issued, how, when it was last used, and can revoke it at once — for example
when a requester says an e-mail went to the wrong person. Revocations are audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from requests_app import consent
from requests_app.models import AccessPackage, ConsentLink, PrivacyRequest, StatusLink
from requests_app.services.links import revoke_status_links

_Link = TypeVar("_Link", bound=Model)

if TYPE_CHECKING:  # ModelAdmin and TabularInline are generic only in django-stubs
    from django_stubs_ext import StrOrPromise

    _ModelAdmin = admin.ModelAdmin
    _Inline = admin.TabularInline[StatusLink, PrivacyRequest]
else:

    class _ModelAdmin(admin.ModelAdmin, Generic[_Link]):
        """At run time ModelAdmin takes no type parameter; this lets ``_LinkAdmin[StatusLink]`` work."""

    _Inline = admin.TabularInline


class _LinkAdmin(_ModelAdmin[_Link]):
    """Read-only rows; the one change staff make is the revoke action."""

    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _Link | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: _Link | None = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


def _state(obj: StatusLink | ConsentLink) -> StrOrPromise:
    if obj.revoked_at:
        return _("revoked")
    if isinstance(obj, ConsentLink) and obj.expires_at <= timezone.now():  # status links never expire
        return _("expired")
    return _("active")


@admin.register(StatusLink)
class StatusLinkAdmin(_LinkAdmin[StatusLink]):
    list_display = ["request", "origin", "created_at", "last_used_at", "state", "revoked_by"]
    list_filter = ["origin", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=request__reference"]
    search_help_text = _("Exact request reference (PR-XXXX-XXXX).")
    list_select_related = ["request"]
    exclude = ["token_hash"]

    @admin.display(description=_("state"))
    def state(self, obj: StatusLink) -> StrOrPromise:
        return _state(obj)

    @admin.action(description=_("Revoke the selected status links"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[StatusLink]) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied
        total = 0
        for privacy_request in {link.request for link in queryset.select_related("request")}:
            links = [link for link in queryset if link.request_id == privacy_request.pk]
            total += revoke_status_links(
                privacy_request, actor=request.user, links=links, reason="revoked by staff in the admin"
            )
        self.message_user(
            request, ngettext("%(n)d link revoked.", "%(n)d links revoked.", total) % {"n": total}, messages.SUCCESS
        )


@admin.register(AccessPackage)
class AccessPackageAdmin(_LinkAdmin[AccessPackage]):
    """Access packages: staff see size, expiry and downloads, and can revoke the download link at once."""

    list_display = ["request", "created_at", "expires_at", "download_count", "max_downloads", "state"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["=request__reference"]
    search_help_text = _("Exact request reference (PR-XXXX-XXXX).")
    list_select_related = ["request"]
    exclude = ["download_token_hash", "code_hash", "path"]

    @admin.display(description=_("state"))
    def state(self, obj: AccessPackage) -> StrOrPromise:
        return _("available") if obj.is_available else _("no longer available")

    @admin.action(description=_("Revoke the download link of the selected packages"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessPackage]) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied
        now, total = timezone.now(), 0
        for package in queryset.select_related("request"):
            if package.is_available:
                AccessPackage.objects.filter(pk=package.pk).update(expires_at=now, code_hash="")
                package.request.note(
                    actor=request.user, action="package_link_revoked", reason="revoked by staff in the admin"
                )
                total += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d link revoked; the file is deleted within the hour.",
                "%(n)d links revoked; the files are deleted within the hour.",
                total,
            )
            % {"n": total},
            messages.SUCCESS,
        )


@admin.register(ConsentLink)
class ConsentLinkAdmin(_LinkAdmin[ConsentLink]):
    list_display = ["subject_kind", "subject_value", "purposes", "created_at", "expires_at", "state", "issued_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=subject_value"]
    search_help_text = _("Exact subject identifier (e.g. the host app's user id).")
    exclude = ["token_hash"]

    @admin.display(description=_("state"))
    def state(self, obj: ConsentLink) -> StrOrPromise:
        return _state(obj)

    @admin.action(description=_("Revoke the selected consent links"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ConsentLink]) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied
        total = consent.revoke_links(queryset, actor=request.user)
        self.message_user(
            request, ngettext("%(n)d link revoked.", "%(n)d links revoked.", total) % {"n": total}, messages.SUCCESS
        )


class StatusLinkInline(_Inline):
    model = StatusLink
    extra = 0
    can_delete = False
    fields = ["origin", "created_at", "last_used_at", "revoked_at", "revoked_by"]
    readonly_fields = ["origin", "created_at", "last_used_at", "revoked_at", "revoked_by"]
    verbose_name = _("status link")
    verbose_name_plural = _("status links (revoke them under “Status links”)")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: PrivacyRequest | None = None) -> bool:
        return False

    # ``obj`` is the parent request (django-stubs' BaseModelAdmin says a StatusLink; Model covers both).
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
