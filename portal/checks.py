"""System checks run at start-up (runserver, migrate, check): the stores file must be valid."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register("portal")
def stores_file_is_valid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from requests_app.stores import registry

    loaded = registry.load()
    problems: list[CheckMessage] = [
        Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
        for message in loaded.errors
    ]
    if not loaded.errors and not any(store.kind == "azure_ledger" for store in loaded.stores):
        problems.append(Warning(
            f"{settings.PORTAL_STORES_FILE}: no store of kind \"azure_ledger\": items the host app recorded in "
            "the transmission ledger for services with no deletion API (Speaker Recognition) or with no store "
            "in this file would not be reported on deletion receipts",
            id="portal.W001",
            hint='Add  [[store]] name = "azure-ledger" kind = "azure_ledger"  (see docs/stores.md).',
        ))
    return problems
