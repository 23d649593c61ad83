"""Staff two-factor authentication: enrolment, verification, backup codes, recovery."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.models import AuditEvent

PASSWORD = "correct horse battery staple"


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def password_login(client, user, next_url="/admin/"):
    return client.post(
        f"/admin/login/?next={next_url}", {"username": user.username, "password": PASSWORD, "next": next_url}
    )


def invited(client, user, admin=None) -> str:
    """An admin issues an invite and the staff member opens its link (as the e-mail/chat would give it)."""
    token = two_factor.issue_invite(user=user, actor=admin or "system:test")
    client.get(reverse("two-factor-invite", args=[token]))
    return token


def enrol(client, user) -> list[str]:
    invited(client, user)
    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("two-factor-setup"), {"code": current_code(device), "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"]).content.decode()
    return re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", page)


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.PORTAL_REQUIRE_2FA = True


def test_admin_without_second_factor_redirects_to_enrolment(client, officer):
    client.force_login(officer)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two-factor-setup"))
    assert "Set up two-step verification" in response.content.decode()


def test_password_login_without_device_goes_to_enrolment(client, officer):
    response = password_login(client, officer)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-setup"))


def test_admin_pages_refused_until_verified(client, officer):
    client.force_login(officer)
    for url in ["/admin/", "/admin/portal/auditevent/", "/admin/auth/user/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")


def test_setup_page_shows_qr_code_as_data_uri_and_secret(client, officer):
    client.force_login(officer)
    invited(client, officer)
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert two_factor.secret_for_display(device) in page
    assert "<script>" not in page and " style=" not in page  # nothing CSP would block


def test_setup_page_reload_keeps_the_same_secret(client, officer):
    client.force_login(officer)
    invited(client, officer)
    client.get(reverse("two-factor-setup"))
    client.get(reverse("two-factor-setup"))
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def test_enrolment_with_right_code_confirms_and_shows_backup_codes_once(client, officer):
    password_login(client, officer)
    codes = enrol(client, officer)
    assert len(codes) == two_factor.BACKUP_CODE_COUNT
    assert TOTPDevice.objects.get(user=officer).confirmed
    assert client.get("/admin/").status_code == 200
    again = client.get(reverse("two-factor-backup-codes")).content.decode()
    assert codes[0] not in again
    assert AuditEvent.objects.filter(subject_type="user", subject_id=str(officer.pk), action="2fa.enrolled").exists()


def test_enrolment_with_wrong_code_says_what_to_check(client, officer):
    client.force_login(officer)
    invited(client, officer)
    client.get(reverse("two-factor-setup"))
    response = client.post(reverse("two-factor-setup"), {"code": "000000"})
    assert response.status_code == 200
    assert "clock on your phone" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=officer, confirmed=True).exists()


def test_backup_codes_are_stored_hashed(client, officer):
    client.force_login(officer)
    codes = enrol(client, officer)
    stored = set(StaticToken.objects.filter(device__user=officer).values_list("token", flat=True))
    assert len(stored) == len(codes)
    assert not stored & set(codes) and not stored & {c.replace("-", "") for c in codes}


def test_next_login_asks_for_code_and_accepts_totp(client, officer):
    client.force_login(officer)
    enrol(client, officer)
    client.logout()
    response = password_login(client, officer)
    assert response["Location"].startswith(reverse("two-factor-verify"))
    assert client.get("/admin/").status_code == 302
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    device.last_t = -1  # the enrolment used this time step's code; allow it once more for this test
    device.save()
    response = client.post(reverse("two-factor-verify"), {"code": current_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_totp_code_cannot_be_replayed(client, officer):
    client.force_login(officer)
    enrol(client, officer)
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    used_at_enrolment = current_code(device)
    client.logout()
    client.force_login(officer)
    response = client.post(reverse("two-factor-verify"), {"code": used_at_enrolment})
    assert response.status_code == 200
    assert "not right" in response.content.decode()


def test_backup_code_works_exactly_once(client, officer):
    client.force_login(officer)
    codes = enrol(client, officer)
    client.logout()
    client.force_login(officer)
    assert client.post(reverse("two-factor-verify"), {"code": codes[3].upper()}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    client.force_login(officer)
    response = client.post(reverse("two-factor-verify"), {"code": codes[3]})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_wrong_codes_are_throttled_even_before_a_right_one(client, officer):
    client.force_login(officer)
    enrol(client, officer)
    client.logout()
    client.force_login(officer)
    for _ in range(3):
        client.post(reverse("two-factor-verify"), {"code": "123456"})
    device = TOTPDevice.objects.get(user=officer, confirmed=True)
    device.last_t = -1
    device.save(update_fields=["last_t"])
    response = client.post(reverse("two-factor-verify"), {"code": current_code(device)})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()


def test_next_parameter_cannot_redirect_off_site(client, officer):
    client.force_login(officer)
    codes = enrol(client, officer)
    client.logout()
    client.force_login(officer)
    response = client.post(reverse("two-factor-verify"), {"code": codes[0], "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_backup_codes_can_be_renewed_and_old_ones_stop_working(client, officer):
    client.force_login(officer)
    old = enrol(client, officer)
    page = client.post(reverse("two-factor-backup-codes")).content.decode()
    new = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", page)
    assert len(new) == two_factor.BACKUP_CODE_COUNT and not set(new) & set(old)
    client.logout()
    client.force_login(officer)
    assert client.post(reverse("two-factor-verify"), {"code": new[0]}).status_code == 302
    client.logout()
    client.force_login(officer)
    response = client.post(reverse("two-factor-verify"), {"code": old[0]})
    assert response.status_code == 200 and "not right" in response.content.decode()


def test_admin_resets_a_colleagues_second_factor_and_it_is_audited(staff_client, admin_user, officer):
    TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    two_factor.issue_backup_codes(officer)
    client = staff_client(admin_user)
    response = client.post("/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [officer.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticToken.objects.filter(device__user=officer).exists()
    event = AuditEvent.objects.get(action="2fa.reset", subject_id=str(officer.pk))
    assert event.actor == admin_user


def test_nobody_resets_their_own_second_factor(admin_user):
    with pytest.raises(two_factor.CannotResetOwnFactor):
        two_factor.reset_second_factor(user=admin_user, actor=admin_user)


def test_portal_admin_cannot_reset_or_edit_a_superuser(staff_client, admin_user, db):
    from tests.conftest import _staff

    portal_admin = _staff("pat", "Portal admins")
    TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)
    client = staff_client(portal_admin)
    client.post("/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [admin_user.pk]})
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    response = client.post(
        f"/admin/auth/user/{portal_admin.pk}/change/",
        {
            "username": "pat",
            "is_superuser": "on",
            "is_staff": "on",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    portal_admin.refresh_from_db()
    assert not portal_admin.is_superuser, response.status_code
    assert client.get(f"/admin/auth/user/{admin_user.pk}/change/").status_code in (200, 403)
    assert client.post(f"/admin/auth/user/{admin_user.pk}/change/", {"username": "hacked"}).status_code == 403


def test_second_factor_can_be_off_only_by_setting(client, officer, settings):
    settings.PORTAL_REQUIRE_2FA = False
    client.force_login(officer)
    assert client.get("/admin/").status_code == 200


def test_verified_staff_required_guards_staff_views(rf, officer):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    @two_factor.verified_staff_required
    def view(request):
        return HttpResponse("ok")

    request = rf.get("/staff-thing/")
    request.user = AnonymousUser()
    assert view(request).status_code == 302
    request.user = officer  # a plain user object: no verified device
    response = view(request)
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor-setup"))


def test_login_staff_helper_still_gets_in(staff_client, officer):
    assert staff_client(officer).get("/admin/").status_code == 200


# --- invites: a stolen password alone cannot enrol -------------------------------------------------
def test_a_password_alone_does_not_reach_the_qr_code(client, officer):
    password_login(client, officer)
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert "invite from an admin" in page and "data:image/svg+xml" not in page
    assert not TOTPDevice.objects.filter(user=officer).exists()
    # Posting a code straight away does nothing either.
    client.post(reverse("two-factor-setup"), {"code": "123456"})
    assert not TOTPDevice.objects.filter(user=officer).exists()


def test_invite_link_opened_before_login_leads_through_login_to_enrolment(client, officer):
    token = two_factor.issue_invite(user=officer, actor="system:test")
    response = client.get(reverse("two-factor-invite", args=[token]))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert token not in response["Location"]
    login = client.post(response["Location"], {"username": officer.username, "password": PASSWORD, "next": "/admin/"})
    assert login["Location"].startswith(reverse("two-factor-setup"))
    assert client.get(login["Location"]).content.decode().count("data:image/svg+xml") == 1


def test_invite_works_once(client, officer, db):
    token = two_factor.issue_invite(user=officer, actor="system:test")
    password_login(client, officer)
    client.get(reverse("two-factor-invite", args=[token]))
    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    client.post(reverse("two-factor-setup"), {"code": current_code(device), "next": "/admin/"})
    assert TOTPDevice.objects.get(user=officer).confirmed
    other = type(client)()
    password_login(other, officer)
    assert other.get(reverse("two-factor-invite", args=[token])).status_code == 404


def test_invite_for_another_account_is_refused(client, officer, moderator):
    token = two_factor.issue_invite(user=moderator, actor="system:test")
    password_login(client, officer)
    response = client.post(reverse("two-factor-setup"), {"invite": token})
    assert response.status_code == 403 and "not valid for your account" in response.content.decode()
    client.get(reverse("two-factor-invite", args=[token]))
    assert "data:image/svg+xml" not in client.get(reverse("two-factor-setup")).content.decode()


def test_pasted_invite_code_unlocks_enrolment(client, officer):
    token = two_factor.issue_invite(user=officer, actor="system:test")
    password_login(client, officer)
    response = client.post(reverse("two-factor-setup"), {"invite": f"  {token} "})
    assert response.status_code == 302
    assert "data:image/svg+xml" in client.get(reverse("two-factor-setup")).content.decode()


def test_invite_expires(client, officer):
    import time_machine

    with time_machine.travel("2026-12-01 10:00:00+00:00", tick=False):
        token = two_factor.issue_invite(user=officer, actor="system:test", hours=72)
    with time_machine.travel("2026-12-04 10:00:01+00:00", tick=False):
        assert client.get(reverse("two-factor-invite", args=[token])).status_code == 404


def test_a_new_invite_cancels_the_old_one(client, officer):
    old = two_factor.issue_invite(user=officer, actor="system:test")
    two_factor.issue_invite(user=officer, actor="system:test")
    assert client.get(reverse("two-factor-invite", args=[old])).status_code == 404


def test_admin_issues_an_invite_shown_once_and_audited(staff_client, admin_user, officer):
    client = staff_client(admin_user)
    response = client.post(
        "/admin/auth/user/", {"action": "issue_second_factor_invite", "_selected_action": [officer.pk]}
    )
    page = response.content.decode()
    url = re.search(r'<code class="invite-url">([^<]+)</code>', page).group(1)
    assert "/account/2fa/invite/ei_" in url and "shown only this once" in page
    assert AuditEvent.objects.filter(action="2fa.invite_issued", subject_id=str(officer.pk)).exists()
    assert url.rsplit("/", 2)[-2] not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_invite_command_prints_a_link_for_the_first_admin(admin_user, capsys):
    from django.core.management import call_command

    call_command("invite_second_factor", admin_user.username)
    assert "/account/2fa/invite/ei_" in capsys.readouterr().out


# --- passkeys (the browser ceremony itself: tests/e2e/test_staff_security.py) -----------------------
def test_passkey_endpoints_refuse_unverified_sessions_and_bad_input(client, officer):
    import json

    password_login(client, officer)
    response = client.post(reverse("passkey-register-options"))
    assert response.status_code == 403 and "Verify with your authenticator first" in response.json()["error"]
    response = client.post(reverse("passkey-login-options"))
    assert response.status_code == 400 and "no passkey" in response.json()["error"]
    response = client.post(reverse("passkey-login"), "not json", content_type="application/json")
    assert response.status_code == 400 and "not JSON" in response.json()["error"]
    response = client.post(
        reverse("passkey-login"), json.dumps({"credential": {"id": "x"}}), content_type="application/json"
    )
    assert response.status_code == 400 and "Start again" in response.json()["error"]
    assert client.get("/admin/").status_code == 302  # still not verified


def test_reset_second_factor_removes_passkeys_too(admin_user, officer):
    from portal.models import PasskeyDevice

    PasskeyDevice.objects.create(user=officer, name="laptop", confirmed=True, credential_id="abc", public_key=b"k")
    two_factor.reset_second_factor(user=officer, actor=admin_user)
    assert not PasskeyDevice.objects.filter(user=officer).exists()
