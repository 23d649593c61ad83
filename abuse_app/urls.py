from django.urls import path

from abuse_app import views

urlpatterns = [
    path("report/", views.report, name="abuse-report"),
    path("report/received/", views.received, name="abuse-received"),
    path("report/status/<str:token>/", views.status, name="abuse-status"),
    path("report/status/<str:token>/appeal/<int:decision_id>/", views.reporter_appeal, name="abuse-appeal"),
    path("report/decision/<str:token>/", views.target_decision, name="abuse-target-decision"),
    path("transparency/", views.transparency, name="abuse-transparency"),
]
