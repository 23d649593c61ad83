"""Public URLs of privacy requests. Other parts of requests_app append their own includes below."""

from django.urls import URLPattern, URLResolver, include, path

from requests_app import views, views_consent, views_receipts, views_status

urlpatterns: list[URLPattern | URLResolver] = [
    # Named per kind too, so pages can link without knowing the kinds (home page).
    path("requests/new/access/", views.request_new, {"kind": "access"}, name="request-new-access"),
    path("requests/new/deletion/", views.request_new, {"kind": "deletion"}, name="request-new-deletion"),
    path("requests/new/<slug:kind>/", views.request_new, name="request-new"),
    # An authorized agent files for a named consumer (requests_app/agents.py).
    path("requests/new/<slug:kind>/agent/", views.request_new_by_agent, name="request-new-agent"),
    path("requests/submitted/", views.request_submitted, name="request-submitted"),
    path("requests/verify/<str:token>/", views.request_verify, name="request-verify"),
    path("requests/status/<str:token>/", views.request_status, name="request-status"),
    path("requests/status/<str:token>/download/", views_status.request_status_download,
         name="request-status-download"),
    path("requests/status/<str:token>/receipt.json", views_status.request_status_receipt, {"fmt": "json"},
         name="request-status-receipt-json"),
    path("requests/status/<str:token>/receipt.html", views_status.request_status_receipt, {"fmt": "html"},
         name="request-status-receipt-html"),
    path("requests/find/", views.request_find, name="request-find"),
    # the home page's "send me my link again"
    path("requests/resend/", views.request_find, name="request-resend"),
    # Anyone checks a deletion receipt against the published Ed25519 keys.
    path("receipts/verify/", views_receipts.verify, name="receipt-verify"),
    path(".well-known/privacy-receipt-keys.json", views_receipts.public_keys, name="receipt-public-keys"),
    # Global Privacy Control is honoured (requests_app/gpc.py).
    path(".well-known/gpc.json", views_consent.gpc_well_known, name="gpc-well-known"),
]

# The execution engine's public pages (access-package download).
from requests_app.engine.urls import urlpatterns as engine_urlpatterns  # noqa: E402

urlpatterns += engine_urlpatterns

# Consent pages (requests_app/views_consent.py).
urlpatterns += [path("consent/", include("requests_app.urls_consent"))]
