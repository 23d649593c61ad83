from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        # The transmission ledger's section of access packages ("what this app sent to Microsoft").
        from requests_app import health, ledger

        ledger.register_package_section()
        health.register()
