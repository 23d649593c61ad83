from django.urls import path

from abuse_app.api import AbuseReportView
from abuse_app.hashmatch.api import MediaCheckView

urlpatterns = [
    path("abuse-reports/", AbuseReportView.as_view(), name="api-abuse-reports"),
    path("media-checks/", MediaCheckView.as_view(), name="api-media-checks"),
]
