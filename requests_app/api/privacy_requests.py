"""Privacy requests over the API.

``POST /api/v1/privacy-requests/``
    Without a key: the public form as JSON (throttled by the "public" rate;
    a confirmation e-mail is sent; the answer is the same whether or not the
    address already has a request). With a host-app key holding
    ``requests:write``: files a request for a user the host app has already
    authenticated — it is confirmed at once and the audit names the key.
``GET /api/v1/privacy-requests/<reference>/``
    Status for host apps (``requests:read``); no personal data in the answer.

Validation is the services' (shared with the form); any bad input is a 4xx
JSON error (``portal.api_errors``), never a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portal import audit_chain
from portal.api_keys import HasScope, api_key_of
from portal.models import ApiKey
from portal.throttles import AtomicThrottleMixin, HostAppThrottle
from requests_app.api import agents as api_agents
from requests_app.api.agents import AgentSerializer
from requests_app.models import PrivacyRequest, StatusLink, StoreTask
from requests_app.services import links
from requests_app.services.intake import request_file_verified, request_submit
from requests_app.services.validation import RequestError, clean_identifiers, clean_language, normalise_email

Kind = PrivacyRequest.Kind


class PublicThrottle(AtomicThrottleMixin, AnonRateThrottle):  # type: ignore[misc]  # DRF ships no type hints
    """Calls without an API key, per client address (rate "public")."""

    scope = "public"


_Serializer = TypeVar("_Serializer")
_In = TypeVar("_In")
_Out = TypeVar("_Out")
_Validator = Callable[[_Serializer, _In], _Out]


def _service_errors() -> Callable[[_Validator[_Serializer, _In, _Out]], _Validator[_Serializer, _In, _Out]]:
    """Turn a RequestError into a field error of this serializer."""

    def wrap(func: _Validator[_Serializer, _In, _Out]) -> _Validator[_Serializer, _In, _Out]:
        def inner(self: _Serializer, value: _In) -> _Out:
            try:
                return func(self, value)
            except RequestError as exc:
                raise serializers.ValidationError(str(exc))

        inner.__name__ = func.__name__
        return inner

    return wrap


KIND_ERRORS = {
    "invalid_choice": "Unknown kind “{input}”; use “access” (a copy of the data) or “deletion”.",
    "required": "Say what you ask for: “access” or “deletion”.",
    "null": "Say what you ask for: “access” or “deletion”.",
}
EMAIL_ERRORS = {
    "required": "Enter the e-mail address the data is linked to.",
    "blank": "Enter the e-mail address the data is linked to.",
    "null": "Enter the e-mail address the data is linked to.",
    "invalid": "Enter a valid e-mail address, like name@example.com.",
    "max_length": "This e-mail address is too long (at most 254 characters).",
}
JURISDICTION_ERRORS = {"invalid_choice": "Unknown jurisdiction “{input}”; use “gdpr”, “ccpa” or “other”."}


class RequestCreateSerializer(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    kind = serializers.ChoiceField(choices=Kind.choices, error_messages=KIND_ERRORS)
    email = serializers.CharField(
        max_length=320, error_messages=EMAIL_ERRORS, help_text="The requester's e-mail address."
    )
    jurisdiction = serializers.ChoiceField(
        choices=PrivacyRequest.Jurisdiction.choices,
        required=False,
        error_messages=JURISDICTION_ERRORS,
        help_text="Defaults to the operator's setting (PORTAL_DEFAULT_JURISDICTION).",
    )
    identifiers = serializers.JSONField(
        required=False,
        help_text='Extra identifiers as an object, e.g. {"username": "sam"}.',
    )
    language = serializers.CharField(
        required=False,
        max_length=16,
        help_text="Language of the e-mails (en, de, fr). Default: Accept-Language.",
    )

    allowed_identifiers: list[str] | None = None

    @_service_errors()
    def validate_email(self, value: str) -> str:
        return normalise_email(value)

    @_service_errors()
    def validate_identifiers(self, value: object) -> dict[str, str]:
        return clean_identifiers(value, allowed=self.allowed_identifiers)

    def validate_language(self, value: str) -> str:
        return clean_language(value)


class PublicRequestSerializer(RequestCreateSerializer):
    agent = AgentSerializer(
        required=False,
        help_text=(
            "Only when an authorized agent files for the consumer: the consumer still confirms by e-mail, "
            "staff check the permission, and any copy of the data goes to the consumer."
        ),
    )
    confirm = serializers.BooleanField(
        help_text="true: the requester read what will happen (deletion cannot be undone).",
        error_messages={"required": "Set “confirm” to true once the requester has read what will happen."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_identifiers = list(settings.PORTAL_EXTRA_IDENTIFIERS)

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Set “confirm” to true once the requester has read what will happen.")
        return value


class HostAppRequestSerializer(RequestCreateSerializer):
    scope_purpose = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Only for erasure of what was sent to Azure under one consent purpose (its slug).",
    )


class AcceptedSerializer(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    reference = serializers.CharField()
    detail = serializers.CharField()


class ProgressSerializer(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    steps_total = serializers.IntegerField(help_text="Store steps planned by the engine (0 before it starts).")
    steps_done = serializers.IntegerField()
    steps_failed = serializers.IntegerField()


class RequestStatusSerializer(serializers.ModelSerializer):  # type: ignore[misc]  # DRF ships no type hints
    status_display = serializers.CharField(source="get_status_display")
    effective_due_at = serializers.DateTimeField(allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyRequest
        fields = [
            "reference",
            "kind",
            "status",
            "status_display",
            "jurisdiction",
            "channel",
            "scope_purpose",
            "received_at",
            "verified_at",
            "due_at",
            "extended_due_at",
            "effective_due_at",
            "approved_at",
            "started_at",
            "completed_at",
            "closed_at",
            "progress",
        ]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: PrivacyRequest) -> dict[str, int]:
        progress = StoreTask.objects.filter(request=obj).progress()
        return {"steps_total": progress.total, "steps_done": progress.done, "steps_failed": progress.failed}


class HostAppCreatedSerializer(RequestStatusSerializer):
    status_url = serializers.SerializerMethodField()

    class Meta(RequestStatusSerializer.Meta):
        fields = [*RequestStatusSerializer.Meta.fields, "status_url"]

    def get_status_url(self, obj: PrivacyRequest) -> str:
        return links.status_url(obj, origin=StatusLink.Origin.API)


ERROR_RESPONSE = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()), required=False
                ),
            },
        )
    },
)


class PrivacyRequestCreateView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    throttle_classes = [PublicThrottle, HostAppThrottle]

    @extend_schema(
        operation_id="privacy_requests_create",
        summary="Ask for a copy or the deletion of someone's data",
        description=(
            "Without an API key (public): the same as the web form. A confirmation e-mail is sent; nothing "
            "happens until the link in it is used. The answer is the same whether or not the address already "
            "has an open request (then the e-mail points to it). Throttled per client address.\n\n"
            "With an API key holding `requests:write` (host app): files a request for a user the host app "
            "has already authenticated. It is confirmed at once (the audit names the key), auto-approval "
            "applies, and the answer includes the requester's status-page link. Identifiers may use any name "
            "(e.g. `user_id`)."
        ),
        request=PublicRequestSerializer,
        responses={
            202: OpenApiResponse(AcceptedSerializer, description="Public: accepted, confirmation e-mail sent."),
            201: OpenApiResponse(HostAppCreatedSerializer, description="Host app: request filed and confirmed."),
            400: OpenApiResponse(ERROR_RESPONSE, description="Invalid input; `fields` says which and why."),
            401: OpenApiResponse(ERROR_RESPONSE, description="Unknown or revoked API key."),
            403: OpenApiResponse(ERROR_RESPONSE, description="The API key lacks `requests:write`."),
            429: OpenApiResponse(ERROR_RESPONSE, description="Too many requests; see `retry_after`."),
        },
        examples=[
            OpenApiExample(
                "Public deletion request",
                value={
                    "kind": "deletion",
                    "email": "sam@example.com",
                    "jurisdiction": "gdpr",
                    "identifiers": {"username": "sam"},
                    "confirm": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Host app, authenticated user",
                value={"kind": "access", "email": "sam@example.com", "identifiers": {"user_id": "4711"}},
                request_only=True,
            ),
        ],
        tags=["Privacy requests"],
    )
    @audit_chain.sealed_by_queue()  # the worker running its e-mail or start seals its events
    def post(self, request: Request) -> Response:
        key = api_key_of(request)
        if key is not None:
            return self._host_app(request, key)
        serializer = PublicRequestSerializer(data=_object_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data.get("agent"):
                return api_agents.file_by_agent(data, ip=PublicThrottle().get_ident(request))
            privacy_request = request_submit(
                kind=data["kind"],
                email=data["email"],
                jurisdiction=data.get("jurisdiction") or settings.PORTAL_DEFAULT_JURISDICTION,
                identifiers=data.get("identifiers") or {},
                language=data.get("language") or get_language() or settings.LANGUAGE_CODE,
                channel=PrivacyRequest.Channel.API,
                ip=PublicThrottle().get_ident(request),
            )
        except RequestError as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]})
        return Response(
            {
                "reference": privacy_request.reference,
                "detail": "We sent an e-mail with a confirmation link to the address given. Nothing happens "
                "until the link in it is used.",
            },
            status=status.HTTP_202_ACCEPTED,
        )

    def _host_app(self, request: Request, key: ApiKey) -> Response:
        if not key.has_scope("requests:write"):
            raise exceptions.PermissionDenied("This API key lacks the 'requests:write' scope.")
        serializer = HostAppRequestSerializer(data=_object_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            privacy_request = request_file_verified(
                kind=data["kind"],
                email=data["email"],
                identifiers=data.get("identifiers") or {},
                jurisdiction=data.get("jurisdiction") or settings.PORTAL_DEFAULT_JURISDICTION,
                channel=PrivacyRequest.Channel.HOST_APP,
                actor=key,
                scope_purpose=data.get("scope_purpose") or "",
                language=data.get("language") or settings.LANGUAGE_CODE,
            )
        except RequestError as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]})
        privacy_request.refresh_from_db()
        return Response(HostAppCreatedSerializer(privacy_request).data, status=status.HTTP_201_CREATED)


class PrivacyRequestDetailView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    permission_classes = [HasScope.for_("requests:read")]
    throttle_classes = [HostAppThrottle]

    @extend_schema(
        operation_id="privacy_requests_retrieve",
        summary="Status of a privacy request (host app)",
        parameters=[
            OpenApiParameter(
                "reference",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The public reference, e.g. PR-7KQ2-M9XD.",
            )
        ],
        responses={
            200: RequestStatusSerializer,
            401: OpenApiResponse(ERROR_RESPONSE, description="No, unknown or revoked API key."),
            403: OpenApiResponse(ERROR_RESPONSE, description="The API key lacks `requests:read`."),
            404: OpenApiResponse(ERROR_RESPONSE, description="No request with this reference."),
        },
        tags=["Privacy requests"],
    )
    def get(self, request: Request, reference: str) -> Response:
        privacy_request = PrivacyRequest.objects.filter(reference=reference.strip().upper()[:16]).first()
        if privacy_request is None:
            raise exceptions.NotFound("No privacy request has this reference. Check it, e.g. PR-7KQ2-M9XD.")
        return Response(RequestStatusSerializer(privacy_request).data)


def _object_body(request: Request) -> dict[str, Any]:
    """The body must be an object; anything else (a list, a number, a string) is a 400 naming the problem."""
    data = request.data
    if hasattr(data, "dict"):  # form-encoded QueryDict
        data = data.dict()
    if not isinstance(data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": ['Send a JSON object, e.g. {"kind": "access", "email": "sam@example.com"}.']}
        )
    return data
