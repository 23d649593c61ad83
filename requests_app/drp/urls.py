"""DRP endpoints, mounted at ``/drp/`` by the project's URLconf: an agent's ``api_base`` is ``.../drp``."""

from django.urls import path, re_path

from requests_app.drp import views

app_name = "drp"

urlpatterns = [
    re_path(r"^v1/agent/(?P<agent_id>[A-Za-z0-9_.-]{1,64})$", views.agent, name="agent"),
    # The trailing slash of versions before 0.9.3 is still accepted (§2.01 allows it).
    re_path(r"^v1/data-rights-request/?$", views.exercise, name="exercise"),
    path("v1/data-rights-request/<uuid:request_id>", views.request_detail, name="request"),
]
