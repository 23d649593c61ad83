"""``POST /api/v1/media-checks/``: the host app asks whether an image is known material before sending it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from abuse_app.hashmatch.models import HashKind
from abuse_app.services import hash_matching
from abuse_app.targets import parse_location
from portal.api_keys import api_key_of
from portal.models import ApiKey
from portal.ratelimit import client_ip


class MediaCheckView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    permission_classes: list[type[BasePermission]] = []

    @extend_schema(
        operation_id="media_checks_create",
        tags=["Abuse reports"],
        summary="Check an image's PDQ and/or MD5 hash against the hash banks (host app, scope abuse:write)",
        request=inline_serializer(
            "MediaCheckRequest",
            {
                "pdq": serializers.CharField(required=False, help_text="PDQ hash, 64 hex characters"),
                "md5": serializers.CharField(required=False, help_text="MD5 of the file, 32 hex characters"),
                "content_id": serializers.CharField(required=False),
                "target_account_id": serializers.CharField(required=False),
            },
        ),
        responses={
            200: inline_serializer(
                "MediaCheckResponse",
                {
                    "match": serializers.BooleanField(),
                    "matches": serializers.ListField(child=serializers.DictField()),
                    "cases": serializers.ListField(child=serializers.CharField(), required=False),
                },
            ),
            400: OpenApiResponse(description="A hash is not hex of the right length, or neither was sent."),
            401: OpenApiResponse(description="No valid API key."),
            403: OpenApiResponse(description="The API key lacks the abuse:write scope."),
        },
    )
    def post(self, request: Request) -> Response:
        key = api_key_of(request)
        if key is None:
            raise exceptions.NotAuthenticated("Send the host app's API key (Authorization: Bearer <key>).")
        if not key.has_scope(ApiKey.Scope.ABUSE_WRITE):
            raise exceptions.PermissionDenied("This API key lacks the 'abuse:write' scope.")
        data = request.data if hasattr(request.data, "get") else {}
        errors: dict[str, list[str]] = {}
        hashes = _hashes(data, errors)
        texts = _texts(data, errors)
        if errors:
            raise exceptions.ValidationError(errors)
        result = hash_matching.media_check(
            pdq=hashes.get(HashKind.PDQ, ""),
            md5=hashes.get(HashKind.MD5, ""),
            content_id=texts.get("content_id", ""),
            account_id=texts.get("target_account_id", ""),
            api_key=key,
            ip=client_ip(request) or "",
        )
        return Response(result, status=status.HTTP_200_OK)


def _hashes(data: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    """The PDQ and MD5 hashes sent, cleaned; what is wrong goes into ``errors``."""
    hashes: dict[str, str] = {}
    for kind in (HashKind.PDQ, HashKind.MD5):
        if data.get(kind) not in (None, ""):
            try:
                hashes[kind] = hash_matching.clean_hash(kind, data.get(kind))
            except ValueError as exc:
                errors[kind] = [str(exc)]
    if not hashes and not errors:
        errors["pdq"] = ["Send a pdq hash, an md5 hash, or both."]
    return hashes


def _texts(data: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    """``content_id`` and ``target_account_id`` when sent: printable, short, a content id a location."""
    texts: dict[str, str] = {}
    for name in ("content_id", "target_account_id"):
        value = data.get(name)
        if value in (None, ""):
            continue
        text = str(value).strip() if isinstance(value, str | int) else ""
        if not text or len(text) > 200 or not text.isprintable():
            errors[name] = ["Must be printable text of at most 200 characters."]
            continue
        if name == "content_id":
            try:
                parse_location(text)
            except DjangoValidationError as exc:
                errors[name] = exc.messages
        texts[name] = text
    return texts
