from django.apps import AppConfig


class DrpConfig(AppConfig):
    name = "requests_app.drp"
    label = "drp"
    verbose_name = "Data Rights Protocol"

    def ready(self) -> None:
        # Status callbacks: a DRP request's agent hears of every status change of its privacy request.
        # Imported here: they import models. Importing tasks registers the names services send by.
        from requests_app.drp import services, tasks  # noqa: F401  (they import models)
        from requests_app.models import PrivacyRequest  # models need the app registry; apps.py loads first

        PrivacyRequest.register_transition_listener(services.on_privacy_request_transition)
