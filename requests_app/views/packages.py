"""The access-package download (the secret link from the e-mail), and serving a package."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from portal import tokens
from portal.ratelimit import client_ip, hit, ratelimit, token_guard
from requests_app.engine import reauth
from requests_app.models import AccessPackage

logger = logging.getLogger(__name__)


def _package(token: str) -> AccessPackage:
    if len(token) > 100:
        raise Http404
    pkg = AccessPackage.objects.select_related("request").filter(download_token_hash=tokens.hash_token(token)).first()
    if pkg is None:
        raise Http404
    return pkg


def _gone(request: HttpRequest, pkg: AccessPackage) -> HttpResponse:
    reason = "downloads" if pkg.download_count >= pkg.max_downloads and pkg.expires_at > timezone.now() else "expired"
    return render(request, "requests_app/package_gone.html", {"reason": reason}, status=410)


def _download_page(request: HttpRequest, pkg: AccessPackage, *, status: int = 200, **context: object) -> HttpResponse:
    return render(
        request,
        "requests_app/package_download.html",
        {
            "package": pkg,
            "downloads_left": pkg.max_downloads - pkg.download_count,
            "cleared": reauth.is_cleared(request.session, pkg),
            "code_minutes": reauth.CODE_MINUTES,
            **context,
        },
        status=status,
    )


_CODE_ERRORS = {
    "wrong": _("That code is not right. Check the newest e-mail from us and type its six digits."),
    "expired": _("That code has expired (codes work for %(minutes)d minutes). Ask for a new one below."),
    "locked": _("Too many wrong codes. Ask for a new code below."),
}


@never_cache
@token_guard("package-download")
@ratelimit("package-download", "30/hour")
def package_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """GET: a page with a button (link scanners in mail clients must not use up downloads). POST: the ZIP.

    The ZIP needs a cleared session (requests_app/engine/reauth.py): the POST actions
    ``send_code`` and ``check_code`` clear it with a code e-mailed to the confirmed address.
    """
    try:
        pkg = _package(token)
    except Http404:
        return render(request, "404.html", status=404)
    return serve_package(request, pkg)


def serve_package(request: HttpRequest, pkg: AccessPackage) -> HttpResponseBase:
    """The download page and its actions for a package found by the caller (e-mailed link, status page)."""
    if not pkg.is_available:
        return _gone(request, pkg)
    if request.method != "POST":
        return _download_page(request, pkg)
    action = request.POST.get("action", "download")
    if action == "send_code":
        return _send_code(request, pkg)
    if action == "check_code":
        return _check_code(request, pkg)
    if not reauth.is_cleared(request.session, pkg):
        return _download_page(request, pkg, status=403, error=_("First confirm it is you: we e-mail you a code."))
    return _download(request, pkg)


def _send_code(request: HttpRequest, pkg: AccessPackage) -> HttpResponse:
    if not hit(f"package-code:{pkg.pk}", "-", "3/hour").allowed:
        return _download_page(
            request,
            pkg,
            status=429,
            error=_("We already sent three codes this hour. Use the newest one, or try again later."),
        )
    if not reauth.send_code(pkg):
        return _download_page(
            request,
            pkg,
            status=409,
            error=_("We can no longer reach the address this request was confirmed with. Please contact us."),
        )
    return _download_page(request, pkg, code_sent=True)


def _check_code(request: HttpRequest, pkg: AccessPackage) -> HttpResponse:
    outcome = reauth.check_code(request.session, pkg, request.POST.get("code", ""))
    if outcome != "ok":
        # A wrong code is an error at the field (GOV.UK: summary + inline); an expired or
        # locked code needs a new one, so the page offers that instead of the field.
        return _download_page(
            request,
            pkg,
            status=400,
            code_sent=outcome == "wrong",
            error_field="code" if outcome == "wrong" else "",
            error=_CODE_ERRORS[outcome] % {"minutes": reauth.CODE_MINUTES},
        )
    return _download_page(request, pkg)


def _download(request: HttpRequest, pkg: AccessPackage) -> HttpResponseBase:
    """The ZIP itself, counted atomically and audited; a missing file or spent link is "gone"."""
    path = Path(settings.PORTAL_PRIVATE_ROOT) / pkg.path
    try:
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except OSError:
        logger.error("access package file missing for request %s", pkg.request_id)
        return _gone(request, pkg)
    with transaction.atomic():
        # Count atomically: two parallel clicks cannot both take the last download.
        taken = AccessPackage.objects.filter(
            pk=pkg.pk,
            download_count__lt=F("max_downloads"),
            expires_at__gt=timezone.now(),
            deleted_at__isnull=True,
        ).update(download_count=F("download_count") + 1)
        if not taken:
            handle.close()
            return _gone(request, pkg)
        pkg.request.note(
            actor="requester:download link",
            action="package_downloaded",
            data={"download": pkg.download_count + 1, "ip": tokens.pseudonymise(client_ip(request))},
        )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{pkg.request.reference}-data.zip",
        content_type="application/zip",
    )
