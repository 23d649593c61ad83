from django.urls import path

from requests_app import api

urlpatterns: list = [
    path("privacy-requests/", api.PrivacyRequestCreateView.as_view(), name="api-privacy-request-create"),
    path("privacy-requests/<str:reference>/", api.PrivacyRequestDetailView.as_view(),
         name="api-privacy-request-detail"),
]

# Signed callbacks of webhook stores (docs/webhook-protocol.md).
from requests_app.engine.urls import api_urlpatterns as engine_api_urlpatterns  # noqa: E402

urlpatterns += engine_api_urlpatterns
