"""Staff security in a real browser under the real CSP: 2FA enrolment into the admin, the API docs page."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor

PASSWORD = "correct horse battery staple"


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.PORTAL_REQUIRE_2FA = True


def test_password_alone_cannot_enrol_a_second_factor(page, officer):
    page.goto("/admin/")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/setup/**")
    assert page.get_by_text("you need an invite from an admin").is_visible()
    assert page.locator("img.two-factor-qr").count() == 0
    page.fill("#id_invite", "ei_" + "x" * 43)
    page.click("input[type=submit]")
    assert page.get_by_text("not valid for your account").is_visible()
    assert not TOTPDevice.objects.filter(user=officer).exists()


def test_new_staff_member_enrols_with_an_invite_and_reaches_the_admin(page, officer):
    token = two_factor.issue_invite(user=officer, actor="system:test")
    page.goto(f"/account/2fa/invite/{token}/")  # the link the admin handed over
    page.wait_for_url("**/admin/login/**")
    assert token not in page.url
    page.fill("#id_username", officer.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/setup/**")
    qr = page.locator("img.two-factor-qr")
    assert qr.is_visible()
    # The data: image is allowed by the CSP and decodes.
    assert page.evaluate("document.querySelector('img.two-factor-qr').naturalWidth") > 0
    # No screenshot here: the QR code is new on every run (docs/screenshots/staff-2fa-setup-*.png is kept).
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    page.fill("#id_code", _code(device))
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/backup-codes/**")
    assert page.locator(".two-factor-codes li").count() == 10
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", name="Staff").is_visible()
    page.goto("/admin/portal/auditevent/")
    assert page.locator("#changelist").is_visible()


def test_unverified_staff_session_cannot_reach_admin_pages(page, officer):
    TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    page.goto("/admin/")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/verify/**")
    page.goto("/admin/portal/auditevent/")
    page.wait_for_url("**/account/2fa/verify/**")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/admin/login/**")


def test_api_docs_render_under_the_csp(page, db):
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() > 0


def _login(page, officer):
    page.goto("/admin/")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/verify/**")


def test_staff_member_adds_a_passkey_and_verifies_a_later_login_with_it(page, officer):
    from portal.models import PasskeyDevice

    totp = TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    # chromium's virtual authenticator stands in for a phone or security key (DevTools protocol).
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    _login(page, officer)
    page.fill("#id_code", _code(totp))
    page.locator("form:not(#passkey-login) input[type=submit]").click()
    page.wait_for_url("**/admin/")
    page.goto("/account/2fa/passkeys/")
    page.fill("#passkey-name", "laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector(".two-factor-passkeys li")
    assert "laptop" in page.locator(".two-factor-passkeys").inner_text()
    device = PasskeyDevice.objects.get(user=officer)
    assert device.confirmed and device.sign_count >= 0

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/admin/login/**")
    _login(page, officer)
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", name="Staff").is_visible()
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_passkey_cannot_be_added_from_an_unverified_session(page, officer):
    TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True)
    _login(page, officer)
    page.goto("/account/2fa/passkeys/")
    page.wait_for_url("**/account/2fa/verify/**")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    reply = page.request.post("/account/2fa/passkeys/register/options/", headers={"X-CSRFToken": token})
    assert reply.status == 403
