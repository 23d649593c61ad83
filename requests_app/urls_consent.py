from django.urls import path

from requests_app import views_consent

urlpatterns = [
    path("", views_consent.overview, name="consent-overview"),
    path("<slug:slug>/", views_consent.purpose_page, name="consent-purpose"),
]
