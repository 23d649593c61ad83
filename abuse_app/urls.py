"""Every URL of abuse reports: the public pages and the API under ``api/v1/``.

``portal/urls.py`` includes this module at the root (the kernel names apps only as strings).
"""

from django.urls import URLPattern, URLResolver, include, path

from abuse_app import views
from abuse_app.api import AbuseReportView
from abuse_app.hashmatch.api import MediaCheckView

api_patterns: list[URLPattern | URLResolver] = [
    path("abuse-reports/", AbuseReportView.as_view(), name="api-abuse-reports"),
    path("media-checks/", MediaCheckView.as_view(), name="api-media-checks"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include(api_patterns)),
    path("report/", views.report, name="abuse-report"),
    path("report/received/", views.received, name="abuse-received"),
    path("report/status/<str:token>/", views.status, name="abuse-status"),
    path("report/status/<str:token>/appeal/<int:decision_id>/", views.reporter_appeal, name="abuse-appeal"),
    path("report/decision/<str:token>/", views.target_decision, name="abuse-target-decision"),
    path("transparency/", views.transparency, name="abuse-transparency"),
]
