from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def _first_url(*names: str, default: str) -> str:
    """The first of several URL names that exists: the flows are built by separate apps."""
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return default


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "portal_app_name": settings.PORTAL_APP_NAME,
        "portal_operator_name": settings.PORTAL_OPERATOR_NAME,
        "portal_operator_contact": settings.PORTAL_OPERATOR_CONTACT,
        "portal_report_abuse_url": _first_url("abuse-report", "abuse:report", default="/report/"),
    }
