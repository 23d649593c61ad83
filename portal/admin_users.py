"""Staff accounts in the admin: second-factor status and the audited "reset second factor" recovery.

django-otp's own device admins are removed: they show TOTP secrets and backup
codes to whoever may view them. Staff enrol through /account/2fa/ instead.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor

User = get_user_model()

for model in (User, TOTPDevice, StaticDevice):
    try:
        admin.site.unregister(model)
    except NotRegistered:
        pass


@admin.register(User)
class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]  # generic only in django-stubs
    list_display = ["username", "email", "is_staff", "is_active", "second_factor", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    actions = ["issue_second_factor_invite", "reset_second_factor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Portal admins manage staff accounts but cannot make anyone (themselves included) a superuser.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        users: QuerySet[Any] = super().get_queryset(request)
        return cast("QuerySet[Any]", users.annotate(has_2fa=Exists(confirmed)))

    @admin.display(boolean=True, description=_("Second factor"), ordering="has_2fa")
    def second_factor(self, obj: Any) -> bool:
        return bool(getattr(obj, "has_2fa", False))

    @admin.action(
        description=_("Issue a second-factor invite (shown once; needed to set up an authenticator)"),
        permissions=["change"],
    )
    def issue_second_factor_invite(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        issued = []
        for user in queryset[:20]:
            if user.is_superuser and not request.user.is_superuser:
                messages.error(
                    request, _("Only a superuser can invite a superuser (%(name)s).") % {"name": user.get_username()}
                )
                continue
            if user.pk == request.user.pk:
                messages.error(request, _("You cannot invite yourself; ask another admin."))
                continue
            token = two_factor.issue_invite(user=user, actor=request.user)
            issued.append({"user": user, "url": two_factor.invite_url(token)})
        if not issued:
            return None
        return TemplateResponse(
            request,
            "admin/portal/second_factor_invites.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Second-factor invites"),
                "issued": issued,
                "hours": settings.PORTAL_2FA_INVITE_HOURS,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Reset second factor (lost phone): the user sets it up again at next login"),
        permissions=["change"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for user in queryset:
            if user.is_superuser and not request.user.is_superuser:
                messages.error(
                    request,
                    _("Only a superuser can reset a superuser's second factor (%(name)s).")
                    % {"name": user.get_username()},
                )
                continue
            try:
                two_factor.reset_second_factor(user=user, actor=request.user, reason="admin action")
            except two_factor.CannotResetOwnFactor as exc:
                messages.error(request, str(exc))
                continue
            done += 1
        if done:
            messages.success(
                request,
                _(
                    "Second factor reset for %(count)s account(s). Each needs a new second-factor invite (the "
                    "action above) to set up an authenticator again; hand it over through a channel you trust."
                )
                % {"count": done},
            )
