from django.contrib.auth.views import LogoutView
from django.urls import path

from portal import two_factor_views

urlpatterns = [
    path("setup/", two_factor_views.setup, name="two-factor-setup"),
    path("invite/<str:token>/", two_factor_views.invite, name="two-factor-invite"),
    path("verify/", two_factor_views.verify, name="two-factor-verify"),
    path("backup-codes/", two_factor_views.backup_codes, name="two-factor-backup-codes"),
    path("logout/", LogoutView.as_view(next_page="admin:login"), name="two-factor-logout"),
]
