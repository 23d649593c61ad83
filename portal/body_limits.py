"""Request bodies are limited before anything reads them (docs/security.md, "Input limits").

``BodyLimitMiddleware`` runs first. Every route has a largest body it accepts:

- views marked with ``@allows_body(limit)`` (a number of bytes, or a callable giving it):
  the abuse report form and API take evidence files (``evidence_body_limit``);
- everything else under ``/api/``: ``PORTAL_MAX_JSON_BYTES`` (5 MiB);
- every other form: ``PORTAL_MAX_FORM_BYTES`` (1 MiB).

A declared ``Content-Length`` over the route's limit gets a 413 at once, without reading a
byte. A body without a declared length (``Transfer-Encoding: chunked``) is read only up to the
limit: one byte more is a 413. Django never reads past a declared length, so a body that
passes here stays within the limit.

The CSRF check runs before any middleware reads a form body (settings.MIDDLEWARE:
``RejectHostileFormMiddleware`` comes after ``CsrfViewMiddleware``): a POST without a CSRF
cookie is refused before its body is read; with a cookie, Django reads the token field from a
body already bounded here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from portal.input_limits import max_json_bytes

View = Callable[..., Any]
Limit = int | Callable[[], int]
DEFAULT_MAX_FORM_BYTES = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the files


def max_form_bytes() -> int:
    return int(getattr(settings, "PORTAL_MAX_FORM_BYTES", 0) or DEFAULT_MAX_FORM_BYTES)


def evidence_body_limit() -> int:
    """The largest report: every evidence file at its largest, plus the form's text fields."""
    files = int(settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES) * int(settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES)
    return files + max_form_bytes() + MULTIPART_OVERHEAD


def allows_body(limit: Limit) -> Callable[[Any], Any]:
    """Mark a view function or an APIView class as taking bodies up to ``limit`` bytes."""

    def mark(view: Any) -> Any:
        view.portal_max_body = limit
        return view

    return mark


def _declared_limit(view: Any) -> Limit | None:
    for owner in (view, getattr(view, "cls", None), getattr(view, "view_class", None)):
        limit = getattr(owner, "portal_max_body", None) if owner is not None else None
        if limit is not None:
            return limit  # type: ignore[no-any-return]
    return None


def body_limit(request: HttpRequest) -> int:
    """The largest body the route of ``request`` accepts, in bytes."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    limit = _declared_limit(match.func) if match is not None else None
    if limit is None:
        if request.path_info.startswith("/api/"):
            return max_json_bytes()
        return max_form_bytes()
    return limit() if callable(limit) else int(limit)


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH")
        chunked = "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower()
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return refuse(request, 400, _("The Content-Length header is not a number."))
            if length < 0:
                return refuse(request, 400, _("The Content-Length header is not a number."))
            if length > max_form_bytes():  # small bodies pass without resolving the route
                limit = body_limit(request)
                if length > limit:
                    return too_large(request, limit)
        elif chunked and request.META.get("wsgi.input_terminated"):
            # The server ends the stream at the body's end (gunicorn does for chunked bodies):
            # read at most one byte past the limit, and hand Django what was read.
            limit = body_limit(request)
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return too_large(request, limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
        return self.get_response(request)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    megabytes = f"{limit / 2**20:.1f}".removesuffix(".0")
    message = _("The request is larger than this page accepts (at most %(size)s MB); send less.") % {"size": megabytes}
    return refuse(request, 413, message, code="too_large")


def refuse(request: HttpRequest, status: int, message: str, code: str = "invalid") -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    return render(request, "400.html", {"message": message}, status=status)
