from django.urls import path

from requests_app.engine import views

urlpatterns = [
    path("requests/download/<str:token>/", views.package_download, name="package-download"),
]

api_urlpatterns = [
    path("store-callbacks/<slug:store>/", views.store_callback, name="store-callback"),
]
