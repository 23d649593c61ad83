from django.urls import path

from abuse_app.api import AbuseReportView

urlpatterns = [
    path("abuse-reports/", AbuseReportView.as_view(), name="api-abuse-reports"),
]
