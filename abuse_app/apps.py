from django.apps import AppConfig


class AbuseAppConfig(AppConfig):
    name = "abuse_app"
    verbose_name = "Abuse reports"

    def ready(self) -> None:
        # Privacy deletions ask portal.legal_holds before erasing; reported accounts answer here.
        from abuse_app.cybertipline.models import held_until
        from portal import legal_holds

        legal_holds.register(held_until)
