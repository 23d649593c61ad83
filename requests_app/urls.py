"""Every URL of privacy requests: the public pages, consent, and the API under ``api/v1/``.

``portal/urls.py`` includes this module at the root (the kernel names apps only as strings).
"""

from django.urls import URLPattern, URLResolver, include, path

from requests_app.api import azure, privacy_requests, store_callbacks
from requests_app.views import consent, packages, public, receipts, status

consent_patterns: list[URLPattern | URLResolver] = [
    path("", consent.overview, name="consent-overview"),
    path("<slug:slug>/", consent.purpose_page, name="consent-purpose"),
]

api_patterns: list[URLPattern | URLResolver] = [
    path("privacy-requests/", privacy_requests.PrivacyRequestCreateView.as_view(), name="api-privacy-request-create"),
    path(
        "privacy-requests/<str:reference>/",
        privacy_requests.PrivacyRequestDetailView.as_view(),
        name="api-privacy-request-detail",
    ),
    # Signed callbacks of webhook stores (docs/webhook-protocol.md).
    path("store-callbacks/<slug:store>/", store_callbacks.store_callback, name="store-callback"),
    # The transmission ledger and consent.
    path("transmissions/", azure.TransmissionsView.as_view(), name="api-transmissions"),
    path("consents/", azure.ConsentGrantView.as_view(), name="api-consent-grant"),
    path("consents/withdraw/", azure.ConsentWithdrawView.as_view(), name="api-consent-withdraw"),
    path("consents/check", azure.ConsentCheckView.as_view(), name="api-consent-check"),
    path("consents/links/", azure.ConsentLinkView.as_view(), name="api-consent-link"),
    path("consents/purposes/", azure.ConsentPurposeListView.as_view(), name="api-consent-purposes"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include(api_patterns)),
    # Named per kind too, so pages can link without knowing the kinds (home page).
    path("requests/new/access/", public.request_new, {"kind": "access"}, name="request-new-access"),
    path("requests/new/deletion/", public.request_new, {"kind": "deletion"}, name="request-new-deletion"),
    path("requests/new/<slug:kind>/", public.request_new, name="request-new"),
    # An authorized agent files for a named consumer (requests_app/agents.py).
    path("requests/new/<slug:kind>/agent/", public.request_new_by_agent, name="request-new-agent"),
    path("requests/submitted/", public.request_submitted, name="request-submitted"),
    path("requests/verify/<str:token>/", public.request_verify, name="request-verify"),
    path("requests/status/<str:token>/", public.request_status, name="request-status"),
    path("requests/status/<str:token>/download/", status.request_status_download, name="request-status-download"),
    path(
        "requests/status/<str:token>/receipt.json",
        status.request_status_receipt,
        {"fmt": "json"},
        name="request-status-receipt-json",
    ),
    path(
        "requests/status/<str:token>/receipt.html",
        status.request_status_receipt,
        {"fmt": "html"},
        name="request-status-receipt-html",
    ),
    path("requests/find/", public.request_find, name="request-find"),
    # the home page's "send me my link again"
    path("requests/resend/", public.request_find, name="request-resend"),
    # The access-package download (the secret link from the e-mail).
    path("requests/download/<str:token>/", packages.package_download, name="package-download"),
    # Anyone checks a deletion receipt against the published Ed25519 keys.
    path("receipts/verify/", receipts.verify, name="receipt-verify"),
    path(".well-known/privacy-receipt-keys.json", receipts.public_keys, name="receipt-public-keys"),
    # Global Privacy Control is honoured (requests_app/gpc.py).
    path(".well-known/gpc.json", consent.gpc_well_known, name="gpc-well-known"),
    # The Data Rights Protocol's endpoints for authorized agents; their api_base is <site>/drp.
    path("drp/", include("requests_app.drp.urls")),
    path("consent/", include(consent_patterns)),
]
