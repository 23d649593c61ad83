"""Public pages of the portal itself (privacy policy, about)."""

from django.urls import path

from portal import views

urlpatterns = [
    path("privacy/", views.privacy_policy, name="privacy-policy"),
]
