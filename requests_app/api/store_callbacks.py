"""``POST /api/v1/store-callbacks/<store>/``: a webhook store's signed answer (docs/webhook-protocol.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api_errors import api_error
from requests_app.engine import callbacks


class RawBodyParser(BaseParser):  # type: ignore[misc]  # DRF ships no type hints
    """Keeps the exact bytes: the signature covers them."""

    media_type = "*/*"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> bytes:
        return stream.read() if stream else b""


@extend_schema(
    operation_id="store_callback",
    tags=["Store callbacks"],
    summary="The host app's signed answer to a webhook store request",
    request={"application/json": OpenApiTypes.OBJECT},
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="Bad signature or body."),
        404: OpenApiResponse(description="Unknown store or task."),
    },
)
# DRF ships no type hints: its decorators would make the view untyped for mypy.
@api_view(["POST"])  # type: ignore[misc]
@authentication_classes([])  # type: ignore[misc]
@permission_classes([])  # type: ignore[misc]
@parser_classes([RawBodyParser])  # type: ignore[misc]
def store_callback(request: Request, store: str) -> Response:
    """The host app's signed answer to a webhook store request (see docs/webhook-protocol.md)."""
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
