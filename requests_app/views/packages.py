"""Public views of the engine: the access-package download, and store callbacks (webhook kind)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from portal import tokens
from portal.api_errors import api_error
from portal.ratelimit import client_ip, hit, ratelimit, token_guard
from requests_app.engine import reauth
from requests_app.models import AccessPackage

logger = logging.getLogger(__name__)


def _package(token: str) -> AccessPackage:
    if len(token) > 100:
        raise Http404
    pkg = (
        AccessPackage.objects.select_related("request")
        .filter(download_token_hash=tokens.hash_token(token))
        .first()
    )
    if pkg is None:
        raise Http404
    return pkg


def _gone(request, pkg: AccessPackage):
    reason = (
        "downloads"
        if pkg.download_count >= pkg.max_downloads and pkg.expires_at > timezone.now()
        else "expired"
    )
    return render(request, "requests_app/package_gone.html", {"reason": reason}, status=410)


def _download_page(request, pkg: AccessPackage, *, status: int = 200, **context):
    return render(
        request,
        "requests_app/package_download.html",
        {"package": pkg, "downloads_left": pkg.max_downloads - pkg.download_count,
         "cleared": reauth.is_cleared(request.session, pkg), "code_minutes": reauth.CODE_MINUTES, **context},
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
def package_download(request, token: str):
    """GET: a page with a button (link scanners in mail clients must not use up downloads). POST: the ZIP.

    The ZIP needs a cleared session (requests_app/engine/reauth.py): the POST actions
    ``send_code`` and ``check_code`` clear it with a code e-mailed to the confirmed address.
    """
    try:
        pkg = _package(token)
    except Http404:
        return render(request, "404.html", status=404)
    return serve_package(request, pkg)


def serve_package(request, pkg: AccessPackage):
    """The download page and its actions for a package found by the caller (e-mailed link, status page)."""
    if not pkg.is_available:
        return _gone(request, pkg)
    if request.method != "POST":
        return _download_page(request, pkg)
    action = request.POST.get("action", "download")
    if action == "send_code":
        if not hit(f"package-code:{pkg.pk}", "-", "3/hour").allowed:
            return _download_page(request, pkg, status=429, error=_(
                "We already sent three codes this hour. Use the newest one, or try again later."))
        if not reauth.send_code(pkg):
            return _download_page(request, pkg, status=409, error=_(
                "We can no longer reach the address this request was confirmed with. Please contact us."))
        return _download_page(request, pkg, code_sent=True)
    if action == "check_code":
        outcome = reauth.check_code(request.session, pkg, request.POST.get("code", ""))
        if outcome != "ok":
            # A wrong code is an error at the field (GOV.UK: summary + inline); an expired or
            # locked code needs a new one, so the page offers that instead of the field.
            return _download_page(request, pkg, status=400, code_sent=outcome == "wrong",
                                  error_field="code" if outcome == "wrong" else "",
                                  error=_CODE_ERRORS[outcome] % {"minutes": reauth.CODE_MINUTES})
        return _download_page(request, pkg)
    if not reauth.is_cleared(request.session, pkg):
        return _download_page(request, pkg, status=403, error=_(
            "First confirm it is you: we e-mail you a code."))
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


class RawBodyParser(BaseParser):
    """Keeps the exact bytes: the signature covers them."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream else b""


@extend_schema(
    operation_id="store_callback",
    tags=["Store callbacks"],
    summary="The host app's signed answer to a webhook store request",
    request={"application/json": OpenApiTypes.OBJECT},
    responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="Bad signature or body."),
               404: OpenApiResponse(description="Unknown store or task.")},
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
@parser_classes([RawBodyParser])
def store_callback(request, store: str):
    """The host app's signed answer to a webhook store request (see docs/webhook-protocol.md)."""
    from requests_app.engine import callbacks

    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return api_error(
            "too_large",
            f"The callback body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20} MB; "
            "answer the call with 200 and the result instead.",
            fields={},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    body = request.data if isinstance(request.data, bytes) else b""
    try:
        result = callbacks.handle_callback(store, body, request.headers)
    except callbacks.CallbackError as exc:
        return api_error(exc.code, str(exc), fields={}, status=exc.status)
    return Response(result, status=status.HTTP_200_OK)
