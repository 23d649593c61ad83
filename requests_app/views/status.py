"""The status page's ways out of a completed request: the download step and the signed receipt.

Both are reached with the status link alone, so whoever lost the "your data is ready" or the
receipt e-mail is not stuck (issue 19): the download still needs the code e-mailed to the
confirmed address (``requests_app.engine.reauth``), exactly as from the e-mailed link.
"""

from __future__ import annotations

import base64
import hashlib
import re

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.ratelimit import ratelimit, token_guard
from requests_app import agents
from requests_app.engine import receipt
from requests_app.models import PrivacyRequest
from requests_app.services.links import find_by_status_token
from requests_app.views.packages import serve_package
from requests_app.views.public import invalid_link, ip_rate

Status = PrivacyRequest.Status


@never_cache
@require_http_methods(["GET", "POST"])
@token_guard("request-status")
@ratelimit("request-status", ip_rate)
def request_status_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The download step of a completed access request, reached from its status page.

    The same page and the same code check as the e-mailed download link (``serve_package``):
    whoever lost the "your data is ready" e-mail still has the status link.
    """
    privacy_request = find_by_status_token(token)
    package = getattr(privacy_request, "package", None) if privacy_request else None
    if (
        privacy_request is None
        or package is None
        or privacy_request.status != Status.COMPLETED
        or agents.is_agent_link(token)
    ):  # an agent follows the status, never downloads the data
        return invalid_link(request, "status")
    return serve_package(request, package)


@require_http_methods(["GET"])
@token_guard("request-status")
@ratelimit("request-status", ip_rate)
def request_status_receipt(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """The signed deletion receipt of a completed request, as JSON (to verify) or HTML (to read)."""
    privacy_request = find_by_status_token(token)
    if (
        privacy_request is None
        or privacy_request.status != Status.COMPLETED
        or not privacy_request.receipt
        or not privacy_request.receipt_signature
    ):
        return invalid_link(request, "status")
    document, signature = privacy_request.receipt, privacy_request.receipt_signature
    name = f"receipt-{privacy_request.reference}"
    if fmt == "json":
        response = HttpResponse(receipt.as_json(document, signature), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    html = receipt.as_html(document, signature, getattr(request, "LANGUAGE_CODE", None))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # The receipt is one self-contained file (it is also an e-mail attachment), styled by its own
    # <style> element: allow exactly those styles by hash, nothing else inline.
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    ]
    if hashes:
        # django-csp reads this attribute off the response; HttpResponse does not declare it.
        response._csp_update = {"style-src": hashes}  # type: ignore[attr-defined]
    return response
