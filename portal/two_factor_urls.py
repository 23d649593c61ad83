from django.contrib.auth.views import LogoutView
from django.urls import path

from portal import two_factor_views

urlpatterns = [
    path("setup/", two_factor_views.setup, name="two-factor-setup"),
    path("invite/<str:token>/", two_factor_views.invite, name="two-factor-invite"),
    path("verify/", two_factor_views.verify, name="two-factor-verify"),
    path("passkeys/", two_factor_views.passkeys_page, name="two-factor-passkeys"),
    path("passkeys/register/options/", two_factor_views.passkey_register_options, name="passkey-register-options"),
    path("passkeys/register/", two_factor_views.passkey_register, name="passkey-register"),
    path("passkeys/login/options/", two_factor_views.passkey_login_options, name="passkey-login-options"),
    path("passkeys/login/", two_factor_views.passkey_login, name="passkey-login"),
    path("backup-codes/", two_factor_views.backup_codes, name="two-factor-backup-codes"),
    path("logout/", LogoutView.as_view(next_page="admin:login"), name="two-factor-logout"),
]
