"""System checks of this app, run at start-up (runserver, migrate, check); registered in ``ready()``.

The ids stay ``portal.E001``/``portal.E002``: operators' runbooks and docs/configuration.md name them.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from requests_app.engine import receipt_keys
from requests_app.stores import registry


def stores_file_is_valid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    loaded = registry.load()
    # No warning for a missing azure_ledger store: the registry always adds it (ledger rows are always honoured).
    return [
        Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
        for message in loaded.errors
    ]


def receipt_key_file_exists(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Production never creates a signing key by itself: each machine would sign with a key of its own."""
    if settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE:
        return []
    try:
        receipt_keys.signing_key()
    except receipt_keys.KeyFileError as exc:
        return [
            Error(
                str(exc),
                id="portal.E002",
                hint="manage.py rotate_receipt_key creates the file; see docs/configuration.md.",
            )
        ]
    return []


def register_checks() -> None:
    """Django's own registry (``checks.register``) ignores a function registered twice."""
    register(stores_file_is_valid, "portal")
    register(receipt_key_file_exists, "portal", deploy=True)
