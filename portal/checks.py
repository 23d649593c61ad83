"""System checks run at start-up (runserver, migrate, check): the stores file must be valid."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register("portal")
def stores_file_is_valid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from requests_app.stores import registry

    loaded = registry.load()
    problems: list[CheckMessage] = [
        Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
        for message in loaded.errors
    ]
    # No warning for a missing azure_ledger store: the registry always adds it (ledger rows are always honoured).
    return problems


@register("portal", deploy=True)
def receipt_key_file_exists(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Production never creates a signing key by itself: each machine would sign with a key of its own."""
    from requests_app.engine import receipt_keys

    if settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE:
        return []
    try:
        receipt_keys.signing_key()
    except receipt_keys.KeyFileError as exc:
        return [Error(str(exc), id="portal.E002",
                      hint="manage.py rotate_receipt_key creates the file; see docs/configuration.md.")]
    return []
