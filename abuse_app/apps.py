from django.apps import AppConfig


class AbuseAppConfig(AppConfig):
    name = "abuse_app"
    verbose_name = "Abuse reports"
