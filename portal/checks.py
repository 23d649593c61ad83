"""System checks run at start-up (runserver, migrate, check): the stores file must be valid."""

from django.core.checks import Error, register


@register("portal")
def stores_file_is_valid(app_configs, **kwargs):
    from requests_app.stores import registry

    loaded = registry.load()
    problems = [Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
                for message in loaded.errors]
    # No warning for a missing azure_ledger store: the registry always adds it (ledger rows are always honoured).
    return problems
