"""Staff two-factor authentication (TOTP + one-time backup codes) on django-otp.

The rule: a staff member reaches the admin (or any staff view decorated with
``verified_staff_required``) only with a session verified by a second factor,
whenever ``settings.PORTAL_REQUIRE_2FA`` is true (always, in production).

The flow a new staff member follows:

0. an admin issues a second-factor invite (user admin → "Issue a second-factor
   invite", or ``manage.py invite_second_factor USERNAME`` for the first
   admin); the link is shown once and handed over through a trusted channel;
1. password login at /admin/login/ (django-axes counts failures), by opening
   the invite link (/account/2fa/invite/<token>/) or pasting its code on the
   setup page — a password alone never reaches the QR code, so whoever stole
   a password cannot bind their own authenticator;
2. no confirmed TOTP device yet → /account/2fa/setup/: a QR code and the
   secret, confirmed by typing one code from the authenticator app;
3. the device is confirmed, the session verified, and ten backup codes are
   shown once (/account/2fa/backup-codes/);
4. later logins → /account/2fa/verify/ asks for a code (TOTP or backup code).

Backup codes are stored hashed (keyed with SECRET_KEY, so a database dump is
not a list of working codes); django-otp stores them in clear by default, so
this module verifies them itself rather than through ``django_otp.match_token``.

Recovery: another admin runs "reset second factor" on the user in the admin
(``reset_second_factor``), which deletes the user's devices and is audited,
then issues a new invite; the user enrols again with it.
"""

from __future__ import annotations

import functools
import io
import secrets
from base64 import b32encode, b64encode
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit, mail, tokens
from portal.models import EnrolmentInvite, PasskeyDevice

BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy by hand
_BACKUP_LENGTH = 12  # 31**12 ≈ 2**59: not guessable online, costly offline even without the key
PENDING_DEVICE_NAME = "authenticator (pending)"
DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"
SESSION_FRESH_CODES = "portal_2fa_fresh_backup_codes"


def required() -> bool:
    return bool(getattr(settings, "PORTAL_REQUIRE_2FA", True))


def needs_verification(user: Any) -> bool:
    """True for a logged-in staff member whose session has no verified second factor yet."""
    if not (user.is_authenticated and user.is_active and user.is_staff) or not required():
        return False
    return not (hasattr(user, "is_verified") and bool(user.is_verified()))


def has_confirmed_device(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def next_step_url(user: Any, next_url: str = "") -> str:
    """Where an unverified staff member goes: enrolment if they have no device, else the code page."""
    name = "two-factor-verify" if has_confirmed_device(user) else "two-factor-setup"
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- Invites: who may enrol ---------------------------------------------------------------

SESSION_INVITE = "portal_2fa_invite"


def issue_invite(*, user: Any, actor: audit.Actor, hours: int | None = None) -> str:
    """A new single-use invite for ``user`` (earlier unused ones are canceled); returns the raw token."""
    hours = hours or settings.PORTAL_2FA_INVITE_HOURS
    now = timezone.now()
    with transaction.atomic():
        EnrolmentInvite.objects.filter(user=user, used_at__isnull=True, canceled_at__isnull=True).update(
            canceled_at=now
        )
        token = tokens.new_token("ei")
        EnrolmentInvite.objects.create(
            user=user,
            token_hash=tokens.hash_token(token),
            created_by_label=audit.actor_fields(actor)["actor_label"][:150],
            expires_at=now + timedelta(hours=hours),
        )
        audit.record(
            subject_type="user",
            subject_id=user.pk,
            action="2fa.invite_issued",
            actor=actor,
            data={"username": user.get_username(), "hours": hours},
        )
    return token


def invite_url(token: str) -> str:
    return mail.absolute(reverse("two-factor-invite", args=[token]))


def find_invite(token: str) -> Any:
    if not isinstance(token, str) or not token.strip().startswith("ei_") or len(token) > 100:
        return None
    invite = EnrolmentInvite.objects.filter(token_hash=tokens.hash_token(token.strip())).first()
    return invite if invite is not None and invite.usable else None


def remember_invite(request: HttpRequest, invite: Any) -> None:
    """Keep the invite in the session (not in any URL) until enrolment is confirmed."""
    request.session[SESSION_INVITE] = invite.pk


def session_invite(request: HttpRequest) -> Any:
    pk = request.session.get(SESSION_INVITE)
    invite = EnrolmentInvite.objects.filter(pk=pk).first() if pk else None
    if invite is None or not invite.usable or invite.user_id != request.user.pk:
        return None
    return invite


def may_enrol(request: HttpRequest) -> bool:
    """An invite for this account in the session, or a session already verified with the current factor."""
    if not required():
        return True
    user = request.user
    return bool(getattr(user, "is_verified", lambda: False)()) or session_invite(request) is not None


# --- Enrolment ----------------------------------------------------------------------


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created once, so reloading keeps the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=PENDING_DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=PENDING_DEVICE_NAME, confirmed=False)
    return device


def secret_for_display(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (our CSP allows data: images)."""
    out = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    return "data:image/svg+xml;base64," + b64encode(out.getvalue()).decode()


@transaction.atomic
def confirm_enrolment(request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Check the first code; on success confirm the device, verify the session, return fresh backup codes."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or device.user_id != request.user.pk or not may_enrol(request):
        return None
    if not device.verify_token(_digits(token)):
        return None
    invite = session_invite(request)
    if invite is not None:
        type(invite).objects.filter(pk=invite.pk, used_at__isnull=True).update(used_at=timezone.now())
        request.session.pop(SESSION_INVITE, None)
    TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()  # one authenticator per person
    device.name = DEVICE_NAME
    device.confirmed = True
    device.save(update_fields=["name", "confirmed"])
    otp_login(request, device)
    codes = issue_backup_codes(request.user)
    audit.record(subject_type="user", subject_id=request.user.pk, action="2fa.enrolled", actor=request.user)
    return codes


# --- Backup codes -----------------------------------------------------------------------


def _normalise_backup_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_backup_code(code: str, secret: str | None = None) -> str:
    """16 hex chars (django-otp's column is 16 wide) of an HMAC keyed with SECRET_KEY."""
    normalised = _normalise_backup_code(code)
    digest = salted_hmac("portal.two_factor.backup_code", normalised, secret=secret, algorithm="sha256")
    return digest.hexdigest()[:16]


def issue_backup_codes(user: Any) -> list[str]:
    """Replace the user's backup codes with ten new ones; return them (the only time they exist in clear)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = []
    for _ in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    StaticToken.objects.bulk_create([StaticToken(device=device, token=hash_backup_code(c)) for c in codes])
    return codes


def remaining_backup_codes(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def _verify_backup_code(user: Any, code: str) -> StaticDevice | None:
    fallbacks = [str(key) for key in settings.SECRET_KEY_FALLBACKS]
    hashes = [hash_backup_code(code)] + [hash_backup_code(code, key) for key in fallbacks]
    with transaction.atomic():
        for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                continue
            match = device.token_set.filter(token__in=hashes).first()
            if match is not None:
                match.delete()  # single use
                device.throttle_reset(commit=False)
                device.set_last_used_timestamp(commit=False)
                device.save()
                return device
            device.throttle_increment()
    return None


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())


# --- Login with a second factor ------------------------------------------------------------


def verify(request: HttpRequest, token: str) -> bool:
    """Verify ``token`` (six digits from the app, or a backup code) and mark the session verified."""
    user = request.user
    token = token.strip()
    device = None
    if len(_digits(token)) == len(token.replace(" ", "")) and _digits(token):
        with transaction.atomic():
            for totp in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if totp.verify_token(_digits(token)):
                    device = totp
                    break
    elif token:
        device = _verify_backup_code(user, token)
        if device is not None:
            audit.record(
                subject_type="user",
                subject_id=user.pk,
                action="2fa.backup_code_used",
                actor=user,
                data={"remaining": remaining_backup_codes(user)},
            )
    if device is None:
        return False
    otp_login(request, device)
    return True


def throttled_seconds(user: Any) -> int:
    """Seconds until django-otp's exponential back-off lets this user try a code again (0 = now)."""
    wait = 0
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]:
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            wait = max(wait, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)
    return wait


# --- Recovery --------------------------------------------------------------------------------


class CannotResetOwnFactor(Exception):
    pass


@transaction.atomic
def reset_second_factor(*, user: Any, actor: audit.Actor, reason: str = "") -> int:
    """Delete every OTP device of ``user`` (lost phone); they enrol again at next login. Audited.

    Done by another admin: resetting one's own factor would let a stolen
    session (already verified) replace the victim's authenticator.
    """
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise CannotResetOwnFactor("You cannot reset your own second factor; ask another admin.")
    removed: int = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    StaticDevice.objects.filter(user=user).delete()
    PasskeyDevice.objects.filter(user=user).delete()
    audit.record(
        subject_type="user",
        subject_id=user.pk,
        action="2fa.reset",
        actor=actor,
        reason=reason,
        data={"username": user.get_username(), "authenticators_removed": removed},
    )
    return removed


# --- For staff views outside the admin -----------------------------------------------------


def verified_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for staff-only views outside the admin: logged in, staff, and second factor verified."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if needs_verification(user):
            return redirect(next_step_url(user, request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped
