"""Staff roles as Django groups, kept in sync after every migrate.

Roles are defined by app, not by model, so a model added later is covered
without touching this file:

- Privacy officers: everything in requests_app (requests, consent, ledger) and drp (its agents).
- Moderators: everything in abuse_app, except child-safety material (below).
- Child-safety moderators: what moderators have, plus the restricted permissions: seeing
  child-safety evidence and reporting cases to NCMEC's CyberTipline. A dedicated role, so
  the fewest people are exposed to such material.
- Auditors: read-only everywhere, including the audit trail.
- Portal admins: everything in the portal's own apps, API keys included.
- Law-enforcement liaisons: notify authorities (DSA Art. 18). Moderators get this role
  too when they should; an app-wide grant never includes the permissions in ``RESTRICTED``.

Audit events are never changeable by anyone: only ``view`` is granted.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.db.models.signals import post_migrate
from django.http import HttpRequest

PRIVACY_OFFICERS = "Privacy officers"
MODERATORS = "Moderators"
CHILD_SAFETY_MODERATORS = "Child-safety moderators"
AUDITORS = "Auditors"
ADMINS = "Portal admins"
LIAISONS = "Law-enforcement liaisons"

# Granted only by naming them (a model grant), never by an app-wide "all".
RESTRICTED = {"notify_authorities", "add_authoritynotification", "handle_child_safety"}

ROLE_APPS = {
    PRIVACY_OFFICERS: {"requests_app": "all", "drp": "all", "portal.auditevent": "view"},
    MODERATORS: {"abuse_app": "all", "portal.auditevent": "view"},
    CHILD_SAFETY_MODERATORS: {"abuse_app": "all", "portal.auditevent": "view", "abuse_app.cybertiplinereport": "all"},
    AUDITORS: {"requests_app": "view", "drp": "view", "abuse_app": "view", "portal": "view"},
    # Staff accounts too (to reset a colleague's second factor), but never superuser status:
    # see portal.admin_users.
    ADMINS: {
        "requests_app": "all",
        "drp": "all",
        "abuse_app": "all",
        "portal": "all",
        "auth.user": "all",
        "auth.group": "view",
        "axes": "all",
    },
    LIAISONS: {"abuse_app.authoritynotification": "all"},
}


def sync_roles(**kwargs: Any) -> None:
    for role, grants in ROLE_APPS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms: list[Permission] = []
        for target, level in grants.items():
            app_label, _, model = target.partition(".")
            qs = Permission.objects.filter(content_type__app_label=app_label)
            if model:
                qs = qs.filter(content_type__model=model)
            if level == "view":
                qs = qs.filter(codename__startswith="view_")
            if not model:
                qs = qs.exclude(codename__in=RESTRICTED)
            perms.extend(
                p for p in qs if not (p.content_type.model == "auditevent" and not p.codename.startswith("view_"))
            )
        group.permissions.set(perms)


def connect() -> None:
    post_migrate.connect(sync_roles, dispatch_uid="portal.roles.sync_roles")


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member behind an admin request, as the services take their actor.

    The admin site lets nobody else in (``AdminSite.admin_view``), so the refusal never happens there.
    """
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
