from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which are not loaded yet when Django
        # imports this module (the AppConfig pattern).
        from requests_app import health, ledger
        from requests_app.engine import package

        # The transmission ledger's section of access packages ("what this app sent to Microsoft").
        package.register_section(ledger.section.FOLDER, ledger.sent_to_microsoft)
        health.register()
