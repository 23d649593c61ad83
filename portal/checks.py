"""System checks run at start-up (runserver, migrate, check): the stores file must be valid."""

from django.core.checks import Error, register


@register("portal")
def stores_file_is_valid(app_configs, **kwargs):
    from requests_app.stores import registry

    return [Error(message, id="portal.E001", hint="Fix the stores file, then run: manage.py check_stores")
            for message in registry.config_errors()]
