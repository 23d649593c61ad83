"""One JSON error shape for the whole API.

``{"error": {"code": "...", "message": "...", "fields": {"email": ["..."]}}}``
with a 4xx status for anything the caller can fix. Parse errors and Django
validation errors that escape a view become 400, never 500.

Views that answer an error themselves (a refusal that is not an exception)
build it with ``api_error()``; exceptions go through ``exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def api_error(
    code: str,
    message: str,
    *,
    status: int = status.HTTP_400_BAD_REQUEST,
    fields: dict[str, Any] | None = None,
    retry_after: int | None = None,
) -> Response:
    """The error envelope as a response; ``retry_after`` also sets the ``Retry-After`` header."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    headers = None
    if retry_after is not None:
        body["retry_after"] = retry_after
        headers = {"Retry-After": str(retry_after)}
    return Response({"error": body}, status=status, headers=headers)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) if isinstance(v, (dict, list)) else str(v) for v in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, (ValueError, UnicodeError)):
            return api_error("invalid", "The request could not be read.")
        return None
    body: dict[str, Any] = {"code": getattr(exc, "default_code", "error")}
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["message"] = "Some fields are not valid."
        if isinstance(detail, dict):
            fields = _flatten(detail)
            non_field = fields.pop("non_field_errors", None)
            body["fields"] = fields
            if non_field:
                body["message"] = " ".join(non_field)
        else:
            body["message"] = " ".join(_flatten(detail if isinstance(detail, list) else [detail]))
    else:
        body["message"] = str(detail) if detail is not None else str(exc)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(exc.wait)
    response.data = {"error": body}
    return response
