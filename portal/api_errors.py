"""One JSON error shape for the whole API.

``{"error": {"code": "...", "message": "...", "fields": {"email": ["..."]}}}``
with a 4xx status for anything the caller can fix. Parse errors and Django
validation errors that escape a view become 400, never 500.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) if isinstance(v, (dict, list)) else str(v) for v in detail]
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, (ValueError, UnicodeError)):
            return Response({"error": {"code": "invalid", "message": "The request could not be read."}},
                            status=status.HTTP_400_BAD_REQUEST)
        return None
    body: dict = {"code": getattr(exc, "default_code", "error")}
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
