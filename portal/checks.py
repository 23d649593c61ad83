"""System checks run at start-up (runserver, migrate, check): the stores file must be valid."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("portal")
def stores_file_is_valid(app_configs, **kwargs):
    from requests_app.stores import registry

    loaded = registry.load()
    problems = [Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
                for message in loaded.errors]
    if not loaded.errors and not any(store.kind == "azure_ledger" for store in loaded.stores):
        problems.append(Warning(
            f"{settings.PORTAL_STORES_FILE}: no store of kind \"azure_ledger\": items the host app recorded in "
            "the transmission ledger for services with no deletion API (Speaker Recognition) or with no store "
            "in this file would not be reported on deletion receipts",
            id="portal.W001",
            hint='Add  [[store]] name = "azure-ledger" kind = "azure_ledger"  (see docs/stores.md).',
        ))
    return problems


@register("portal", deploy=True)
def receipt_key_file_exists(app_configs, **kwargs):
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
