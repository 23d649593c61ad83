"""Public pages of the portal itself (privacy policy, about)."""

from django.urls import path

from portal import views

urlpatterns = [
    path("privacy/", views.privacy_policy, name="privacy-policy"),
    path("privacy/v/<int:version>/", views.privacy_policy_version, name="privacy-policy-version"),
    # Browsers ask for /favicon.ico on pages that do not name an icon (plain error pages, downloads).
    path("favicon.ico", views.favicon, name="favicon"),
]
