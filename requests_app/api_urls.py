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

# The transmission ledger and consent (requests_app/api_azure.py).
from requests_app import api_azure  # noqa: E402

urlpatterns += [
    path("transmissions/", api_azure.TransmissionsView.as_view(), name="api-transmissions"),
    path("consents/", api_azure.ConsentGrantView.as_view(), name="api-consent-grant"),
    path("consents/withdraw/", api_azure.ConsentWithdrawView.as_view(), name="api-consent-withdraw"),
    path("consents/check", api_azure.ConsentCheckView.as_view(), name="api-consent-check"),
    path("consents/links/", api_azure.ConsentLinkView.as_view(), name="api-consent-link"),
    path("consents/purposes/", api_azure.ConsentPurposeListView.as_view(), name="api-consent-purposes"),
]
