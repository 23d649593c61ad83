"""The admin site: Django's, plus a verified second factor and a per-IP limit on password attempts.

Installed through ``portal.apps.PortalAdminConfig`` (``default_site``), so every
``admin.site.register``/``@admin.register`` in the project lands here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal import ratelimit, two_factor

# Password guesses from one address across many usernames (django-axes locks a
# username+address pair; this stops spraying one password over many accounts).
LOGIN_RATE = "30/15m"
SUPERUSER_ONLY_APPS = frozenset({"axes"})
SUPERUSER_ONLY_MODELS = frozenset({("portal", "heartbeat")})


class PortalAdminSite(admin.AdminSite):
    site_header = "Privacy & Abuse Portal"
    site_title = "Portal admin"
    index_title = "Staff"
    # At 1280 px the navigation column (300 px) and a list's filter panel left ~630 px for the
    # table, and the case and request lists hid their last columns (SLA due, Status, Assigned to).
    # The home page, the breadcrumbs and the user menu lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        """Operators' plumbing (lockouts, beat heartbeats) only on a superuser's home page.

        Privacy officers and moderators keep a home page of the records they work on.
        """
        apps = super().get_app_list(request, app_label)
        if getattr(request.user, "is_superuser", False):
            return apps
        shown = []
        for app in apps:
            if app["app_label"] in SUPERUSER_ONLY_APPS:
                continue
            app["models"] = [
                m for m in app["models"] if (app["app_label"], m["object_name"].lower()) not in SUPERUSER_ONLY_MODELS
            ]
            if app["models"]:
                shown.append(app)
        return shown

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not two_factor.needs_verification(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if request.method == "GET" and two_factor.needs_verification(request.user):
            return redirect(two_factor.next_step_url(request.user, next_url))
        if request.method == "POST":
            decision = ratelimit.hit("admin-login", ratelimit.client_ip(request) or "-", LOGIN_RATE)
            if not decision.allowed:
                return ratelimit.too_many(request, decision.retry_after)
        response: HttpResponse = super().login(request, extra_context)
        logged_in = request.method == "POST" and response.status_code == 302
        if logged_in and two_factor.needs_verification(request.user):
            return redirect(two_factor.next_step_url(request.user, next_url))
        return response
