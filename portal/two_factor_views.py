"""Pages of the staff second-factor flow: enrol, verify, backup codes (see portal.two_factor)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal import audit, passkeys, two_factor
from portal.models import PasskeyDevice
from portal.ratelimit import ratelimit, token_guard


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )


class InviteForm(forms.Form):
    invite = forms.CharField(
        label=_("Invite code"),
        max_length=100,
        strip=True,
        help_text=_("The code at the end of the invite link an admin gave you (it starts with “ei_”)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
    )


def _by_user(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _is_verified(user: Any) -> bool:
    return bool(getattr(user, "is_verified", lambda: False)())


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    return None


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "next": _safe_next(request), **extra}


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit("2fa-setup", "20/15m", key=_by_user)
def setup(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    if two_factor.has_confirmed_device(request.user) and not _is_verified(request.user):
        # Replacing an authenticator needs the current one first (or an admin reset).
        return redirect(two_factor.next_step_url(request.user, _safe_next(request)))
    if not two_factor.may_enrol(request):
        return _invite_needed(request)
    device = two_factor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            request.session[two_factor.SESSION_FRESH_CODES] = codes
            query = urlencode({"next": _safe_next(request)})
            return redirect(f"{reverse('two-factor-backup-codes')}?{query}")
        form.add_error(
            "code",
            _(
                "That code did not match. Check that the clock on your phone is right and "
                "type the code the app shows now (it changes every 30 seconds)."
            ),
        )
    return render(
        request,
        "two_factor/setup.html",
        _context(
            request,
            form=form,
            title=_("Set up two-step verification"),
            qr_code=two_factor.qr_code_data_uri(device),
            secret=two_factor.secret_for_display(device),
        ),
    )


def _invite_needed(request: HttpRequest) -> HttpResponse:
    """No invite yet: a password alone does not unlock enrolment. Paste the invite code, or open the link."""
    form = InviteForm(request.POST if "invite" in request.POST else None)
    if form.is_bound and form.is_valid():
        invite = two_factor.find_invite(form.cleaned_data["invite"])
        if invite is not None and invite.user_id == request.user.pk:
            two_factor.remember_invite(request, invite)
            return redirect(f"{reverse('two-factor-setup')}?{urlencode({'next': _safe_next(request)})}")
        form.add_error(
            "invite",
            _(
                "This invite code is not valid for your account, was used already, or has "
                "expired. Ask an admin for a new invite."
            ),
        )
    return render(
        request,
        "two_factor/invite_needed.html",
        _context(request, form=form, title=_("Set up two-step verification")),
        status=403 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET"])
@token_guard("2fa-invite")
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """The admin's invite link: remembered in the session, then on to login or enrolment (token off the URL)."""
    found = two_factor.find_invite(token)
    if found is None:
        return render(
            request,
            "two_factor/invite_invalid.html",
            _context(request, title=_("This invite does not work")),
            status=404,
        )
    two_factor.remember_invite(request, found)
    if not request.user.is_authenticated:
        # After the password, the admin login sends a staff member without a device to enrolment.
        return redirect(f"{reverse('admin:login')}?{urlencode({'next': reverse('admin:index')})}")
    return redirect(f"{reverse('two-factor-setup')}?{urlencode({'next': reverse('admin:index')})}")


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit("2fa-verify", "20/15m", key=_by_user)
def verify(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    if _is_verified(request.user):
        return redirect(_safe_next(request))
    if not two_factor.has_confirmed_device(request.user):
        return redirect(two_factor.next_step_url(request.user, _safe_next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = two_factor.throttled_seconds(request.user)
        if wait:
            form.add_error(
                "code", _("Too many wrong codes. Wait %(seconds)s seconds, then try again.") % {"seconds": wait}
            )
        elif two_factor.verify(request, form.cleaned_data["code"]):
            remaining = two_factor.remaining_backup_codes(request.user)
            if remaining <= 3:
                messages.warning(
                    request,
                    _("Only %(count)s backup codes left: make new ones under “Backup codes”.") % {"count": remaining},
                )
            return redirect(_safe_next(request))
        else:
            form.add_error(
                "code",
                _(
                    "That code is not right. Type the six digits your authenticator app "
                    "shows now, or one of your backup codes. Lost your phone? Ask another "
                    "admin to reset your second factor."
                ),
            )
    return render(
        request,
        "two_factor/verify.html",
        _context(request, form=form, title=_("Two-step verification"), has_passkey=passkeys.has_passkey(request.user)),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit("2fa-backup-codes", "10/hour", key=_by_user)
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Shows fresh codes once (after enrolment), or makes new ones on request (verified sessions only)."""
    if (refusal := _staff_only(request)) is not None:
        return refusal
    if two_factor.needs_verification(request.user):
        return redirect(two_factor.next_step_url(request.user, request.get_full_path()))
    codes = request.session.pop(two_factor.SESSION_FRESH_CODES, None)
    if request.method == "POST":
        codes = two_factor.issue_backup_codes(request.user)
        audit.record(
            subject_type="user", subject_id=request.user.pk, action="2fa.backup_codes_renewed", actor=request.user
        )
    return render(
        request,
        "two_factor/backup_codes.html",
        _context(
            request, title=_("Backup codes"), codes=codes, remaining=two_factor.remaining_backup_codes(request.user)
        ),
    )


# --- Passkeys (portal/passkeys.py) ---------------------------------------------------------------


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _verified_staff_json(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return _json_error(str(_("Log in first.")), 403)
    if not _is_verified(user):
        return _json_error(str(_("Verify with your authenticator first; then you can add a passkey.")), 403)
    return None


@never_cache
@require_http_methods(["GET"])
def passkeys_page(request: HttpRequest) -> HttpResponse:
    if (refusal := _staff_only(request)) is not None:
        return refusal
    if two_factor.needs_verification(request.user):
        return redirect(two_factor.next_step_url(request.user, request.get_full_path()))
    devices = PasskeyDevice.objects.filter(user=request.user).order_by("created_at")
    return render(request, "two_factor/passkeys.html", _context(request, title=_("Passkeys"), devices=devices))


@never_cache
@require_http_methods(["POST"])
@ratelimit("2fa-passkey", "30/15m", key=_by_user)
def passkey_register_options(request: HttpRequest) -> HttpResponse:
    if (refusal := _verified_staff_json(request)) is not None:
        return refusal
    return HttpResponse(passkeys.registration_options(request), content_type="application/json")


@never_cache
@require_http_methods(["POST"])
@ratelimit("2fa-passkey", "30/15m", key=_by_user)
def passkey_register(request: HttpRequest) -> HttpResponse:
    if (refusal := _verified_staff_json(request)) is not None:
        return refusal
    try:
        data = passkeys.parse_body(request)
        device = passkeys.register(request, data.get("credential") or {}, str(data.get("name") or "passkey"))
    except passkeys.PasskeyError as exc:
        return _json_error(str(exc))
    return JsonResponse({"name": device.name})


@never_cache
@require_http_methods(["POST"])
@ratelimit("2fa-verify", "20/15m", key=_by_user)
def passkey_login_options(request: HttpRequest) -> HttpResponse:
    if _staff_only(request) is not None:
        return _json_error(str(_("Log in first.")), 403)
    if not passkeys.has_passkey(request.user):
        return _json_error(str(_("You have no passkey yet: use your authenticator app.")))
    return HttpResponse(passkeys.authentication_options(request), content_type="application/json")


@never_cache
@require_http_methods(["POST"])
@ratelimit("2fa-verify", "20/15m", key=_by_user)
def passkey_login(request: HttpRequest) -> HttpResponse:
    if _staff_only(request) is not None:
        return _json_error(str(_("Log in first.")), 403)
    try:
        passkeys.authenticate(request, passkeys.parse_body(request).get("credential") or {})
    except passkeys.PasskeyError as exc:
        return _json_error(str(exc))
    return JsonResponse({"redirect": _safe_next(request)})
