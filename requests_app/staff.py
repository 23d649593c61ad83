"""Who at the operator hears about privacy requests: the privacy officers' addresses.

Below both the services (deadline reminders) and the engine (a request that cannot
finish), so neither imports the other for it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from portal import roles


def privacy_officer_emails() -> list[str]:
    """The active privacy officers' addresses; the operator's contact address if there is none."""
    users = get_user_model().objects.filter(is_active=True, groups__name=roles.PRIVACY_OFFICERS).exclude(email="")
    emails = sorted({u.email for u in users})
    return emails or [settings.PORTAL_OPERATOR_CONTACT]
