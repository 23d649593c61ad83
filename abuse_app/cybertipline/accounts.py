"""What the host app's side knows about a reported account, without abuse_app importing it.

The requests side (or any app) registers a callable from its ``AppConfig.ready()``::

    from abuse_app.cybertipline.accounts import register_account_source
    register_account_source(my_lookup)  # (account_id) -> ReportedPerson | None

With none registered, a report carries what the case holds: the account id the host app
gave with its report (``espIdentifier``) and the app's name (``espService``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from django.conf import settings

from abuse_app.cybertipline.xml import ReportedPerson

AccountSource = Callable[[str], ReportedPerson | None]
_SOURCES: list[AccountSource] = []


def register_account_source(source: AccountSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def unregister_account_source(source: AccountSource) -> None:
    if source in _SOURCES:
        _SOURCES.remove(source)


def reported_account(account_id: str) -> ReportedPerson | None:
    """The reported account as the first source that knows it describes it (None: no account id)."""
    if not account_id:
        return None
    base = ReportedPerson(esp_identifier=account_id, esp_service=settings.PORTAL_APP_NAME)
    for source in _SOURCES:
        found = source(account_id)
        if found is not None:
            return replace(found, esp_identifier=account_id, esp_service=found.esp_service or base.esp_service)
    return base
