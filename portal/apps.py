from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Imported in ready(): these modules import models, which need the app registry filled.
        from portal import (
            audit_chain,  # noqa: F401  (connects the post_save receiver that seals events)
            roles,
        )
        from portal import logging as portal_logging  # loaded with the hook that installs it

        roles.connect()
        portal_logging.install()  # web, Celery worker and beat, gunicorn workers: every record redacted


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the site that requires a verified second factor (portal.admin_site)."""

    default = False  # listed explicitly in INSTALLED_APPS; "portal" itself means PortalConfig
    default_site = "portal.admin_site.PortalAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module
        from portal import admin_users  # noqa: F401  (replaces the User admin: 2FA status and recovery)
