"""Passkeys (WebAuthn) as a second factor beside TOTP, with the ``webauthn`` library.

A staff member adds a passkey from a session already verified with their
authenticator (so a stolen password cannot add one either); later logins can
answer with the passkey instead of typing a code. Each ceremony's challenge is
kept in the session and used once. The relying party is the host the browser
talks to (validated by ``ALLOWED_HOSTS``), and the expected origin is that
host with the request's scheme.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal import audit
from portal.models import PasskeyDevice

SESSION_REGISTER = "portal_passkey_register_challenge"
SESSION_LOGIN = "portal_passkey_login_challenge"


class PasskeyError(Exception):
    """The browser's answer did not check out; the message is for the person."""


def _rp(request: HttpRequest) -> tuple[str, str]:
    host = request.get_host()
    return host.rsplit(":", 1)[0].strip("[]"), f"{request.scheme}://{host}"


def has_passkey(user: Any) -> bool:
    return bool(PasskeyDevice.objects.filter(user=user, confirmed=True).exists())


def registration_options(request: HttpRequest) -> str:
    rp_id, _origin = _rp(request)
    user: Any = request.user
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name="Privacy & abuse portal",
        user_name=user.get_username(),
        user_id=str(user.pk).encode(),
        user_display_name=user.get_full_name() or user.get_username(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(d.credential_id))
            for d in PasskeyDevice.objects.filter(user=user)
        ],
    )
    request.session[SESSION_REGISTER] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


def register(request: HttpRequest, credential: dict[str, Any], name: str) -> PasskeyDevice:
    challenge = request.session.pop(SESSION_REGISTER, None)
    if not challenge:
        raise PasskeyError("Start again: the passkey request expired or was already used.")
    rp_id, origin = _rp(request)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(f"The passkey could not be registered: {exc}") from None
    device = PasskeyDevice.objects.create(
        user=request.user,
        name=(name or "passkey").strip()[:64],
        confirmed=True,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )
    audit.record(
        subject_type="user",
        subject_id=request.user.pk,
        action="2fa.passkey_added",
        actor=request.user,
        data={"passkey": device.name},
    )
    return cast(PasskeyDevice, device)


def authentication_options(request: HttpRequest) -> str:
    rp_id, _origin = _rp(request)
    options = generate_authentication_options(
        rp_id=rp_id,
        user_verification=UserVerificationRequirement.PREFERRED,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(d.credential_id))
            for d in PasskeyDevice.objects.filter(user=request.user, confirmed=True)
        ],
    )
    request.session[SESSION_LOGIN] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


def authenticate(request: HttpRequest, credential: dict[str, Any]) -> PasskeyDevice:
    """Check the signed challenge against the user's passkey; verify the session (django-otp) on success."""
    challenge = request.session.pop(SESSION_LOGIN, None)
    if not challenge:
        raise PasskeyError("Start again: the passkey request expired or was already used.")
    raw_id = credential.get("rawId") or credential.get("id") if isinstance(credential, dict) else None
    rp_id, origin = _rp(request)
    with transaction.atomic():
        device = (
            PasskeyDevice.objects.select_for_update()
            .filter(user=request.user, confirmed=True, credential_id=str(raw_id or ""))
            .first()
        )
        if device is None:
            raise PasskeyError("This passkey is not registered for your account.")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=bytes(device.public_key),
                credential_current_sign_count=device.sign_count,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
            raise PasskeyError(f"The passkey did not verify: {exc}") from None
        device.sign_count = verified.new_sign_count
        device.last_used_at = timezone.now()
        device.save(update_fields=["sign_count", "last_used_at"])
    otp_login(request, device)
    return cast(PasskeyDevice, device)


def parse_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise PasskeyError("The browser sent something that is not JSON.") from None
    if not isinstance(data, dict):
        raise PasskeyError("The browser sent an unexpected answer.")
    return data
