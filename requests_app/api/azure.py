"""Host-app API for the transmission ledger and consent.

- ``POST /api/v1/transmissions/`` (``transmissions:write``): one record or
  ``{"items": [...]}`` up to 1,000; idempotent on ``client_id``; all or nothing.
- ``POST /api/v1/consents/`` (``consents:write``): grant.
- ``POST /api/v1/consents/withdraw/`` (``consents:write``): withdraw (+ erasure).
- ``GET /api/v1/consents/check?subject_kind=&subject=&purpose=`` (``consents:read``).
- ``POST /api/v1/consents/links/`` (``consents:write``): a signed link to the consent page.
- ``GET /api/v1/consents/purposes/`` (``consents:read``): every purpose with its current notice
  version and the SHA-256 of that notice's text, so the host app can tell whether the text it shows
  is the current one and send the right ``notice_version``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api_errors import api_error
from portal.api_keys import HasScope, api_key_of
from portal.email_address import EmailSerializerField
from portal.pagination import PagePagination
from portal.throttles import HostAppThrottle
from requests_app import consent, gpc, ledger
from requests_app.models import Consent, ConsentNotice, ConsentPurpose


def _consent_error(exc: consent.ConsentError) -> Response:
    return api_error("invalid", str(exc), fields={exc.field: [str(exc)]} if exc.field else None)


ERROR = inline_serializer(
    "AzureApiError",
    {
        "error": inline_serializer(
            "AzureApiErrorBody",
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
TRANSMISSION = inline_serializer(
    "Transmission",
    {
        "client_id": serializers.CharField(max_length=128),
        "service": serializers.CharField(),
        "account": serializers.CharField(),
        "resource_kind": serializers.CharField(),
        "resource_id": serializers.CharField(),
        "parent_ids": serializers.DictField(required=False),
        "subject_kind": serializers.CharField(required=False),
        "subject_value": serializers.CharField(),
        "purpose": serializers.SlugField(),
        "payload_kind": serializers.CharField(),
        "size_bytes": serializers.IntegerField(required=False),
        "sha256": serializers.CharField(required=False),
        "sent_at": serializers.DateTimeField(required=False),
    },
)
RECORDED = inline_serializer(
    "TransmissionsRecorded",
    {
        "created": serializers.IntegerField(),
        "existing": serializers.IntegerField(),
        "items": serializers.ListField(child=serializers.DictField()),
    },
)
CONSENT_STATE = inline_serializer(
    "ConsentState",
    {
        "consented": serializers.BooleanField(),
        "consent_id": serializers.IntegerField(required=False),
        "notice_version": serializers.IntegerField(required=False),
        "granted_at": serializers.DateTimeField(required=False),
    },
)


class TransmissionsView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    permission_classes = [HasScope.for_("transmissions:write")]
    throttle_classes = [HostAppThrottle]

    @extend_schema(
        operation_id="transmissions_record",
        summary="Record what the host app sent to Azure (1 or up to 1,000)",
        request=OpenApiTypes.OBJECT,
        description='One transmission object, or {"items": [...]} with up to 1,000. Idempotent on client_id; '
        "all or nothing. See docs/api.md (Transmissions).",
        responses={
            201: RECORDED,
            200: RECORDED,
            400: ERROR,
            403: OpenApiResponse(ERROR, "consent_required"),
            409: OpenApiResponse(ERROR, "client_id_conflict"),
        },
    )
    def post(self, request: Request) -> Response:
        data = request.data
        items = data.get("items") if isinstance(data, dict) and "items" in data else [data]
        try:
            recorded = ledger.record_many(items, actor=api_key_of(request))
        except ledger.ConsentRequired as exc:
            return api_error(exc.code, str(exc), fields=exc.fields or None, status=status.HTTP_403_FORBIDDEN)
        except ledger.ClientIdConflict as exc:
            return api_error(exc.code, str(exc), fields=exc.fields or None, status=status.HTTP_409_CONFLICT)
        except ledger.LedgerError as exc:
            return api_error(exc.code, str(exc), fields=exc.fields or None)
        created = sum(1 for r in recorded if r.created)
        return Response(
            {
                "created": created,
                "existing": len(recorded) - created,
                "items": [
                    {
                        "client_id": r.transmission.client_id,
                        "id": r.transmission.pk,
                        "created": r.created,
                        "consent_id": r.transmission.consent_id,
                    }
                    for r in recorded
                ],
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConsentInput(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    purpose = serializers.SlugField(max_length=64)
    subject_kind = serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$", required=False, default="user_id")
    subject = serializers.CharField(max_length=512)
    notice_version = serializers.IntegerField(required=False, min_value=1)
    email = EmailSerializerField(required=False, allow_blank=True)
    jurisdiction = serializers.ChoiceField(choices=["gdpr", "ccpa", "other"], required=False)
    ip = serializers.IPAddressField(required=False, help_text="The end user's IP (stored only as a keyed hash).")
    user_agent = serializers.CharField(required=False, max_length=300, allow_blank=True)


def _consent_json(row: Consent | None) -> dict[str, Any]:
    if row is None:
        return {"consented": False}
    return {
        "consented": True,
        "consent_id": row.pk,
        "notice_version": row.notice.version if row.notice_id else None,
        "granted_at": row.granted_at.isoformat(),
    }


# The consent calls that write (grant, withdraw, link): one scope, one throttle, one input. A comment,
# not a docstring: drf-spectacular would publish a docstring as each operation's description.
class _ConsentWriteView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    permission_classes = [HasScope.for_("consents:write")]
    throttle_classes = [HostAppThrottle]

    @staticmethod
    def _input(request: Request) -> dict[str, Any]:
        """The checked ``ConsentInput`` (a 400 naming each bad field otherwise)."""
        form = ConsentInput(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        return data


class ConsentGrantView(_ConsentWriteView):
    @extend_schema(
        operation_id="consents_grant",
        summary="Record a consent",
        request=ConsentInput,
        responses={201: CONSENT_STATE, 400: ERROR},
    )
    def post(self, request: Request) -> Response:
        d = self._input(request)
        try:
            purpose = consent.get_purpose(d["purpose"])
            row = consent.grant(
                purpose=purpose,
                subject_kind=d["subject_kind"],
                subject_value=d["subject"],
                method=Consent.Method.API,
                actor=api_key_of(request),
                ip=d.get("ip", ""),
                user_agent=d.get("user_agent", ""),
                notice_version=d.get("notice_version"),
            )
        except consent.ConsentError as exc:
            return _consent_error(exc)
        return Response(_consent_json(row), status=status.HTTP_201_CREATED)


class ConsentWithdrawView(_ConsentWriteView):
    @extend_schema(
        operation_id="consents_withdraw",
        summary="Withdraw a consent (and erase what was sent under it)",
        request=ConsentInput,
        responses={
            200: inline_serializer(
                "ConsentWithdrawn",
                {
                    "withdrawn": serializers.IntegerField(),
                    "erasure_request": serializers.CharField(allow_null=True),
                },
            ),
            400: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        d = self._input(request)
        try:
            purpose = consent.get_purpose(d["purpose"], active_only=False)
            withdrawn, privacy_request = consent.withdraw(
                purpose=purpose,
                subject_kind=d["subject_kind"],
                subject_value=d["subject"],
                method=Consent.Method.API,
                actor=api_key_of(request),
                email=d.get("email", ""),
                jurisdiction=d.get("jurisdiction", ""),
            )
        except consent.ConsentError as exc:
            return _consent_error(exc)
        return Response(
            {
                "withdrawn": withdrawn,
                "erasure_request": privacy_request.reference if privacy_request else None,
            }
        )


class ConsentCheckView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    permission_classes = [HasScope.for_("consents:read")]
    throttle_classes = [HostAppThrottle]

    @extend_schema(
        operation_id="consents_check",
        summary="Has the subject consented to the purpose? (one indexed query)",
        parameters=[
            OpenApiParameter("subject_kind", str, default="user_id"),
            OpenApiParameter("subject", str, required=True),
            OpenApiParameter("purpose", str, required=True),
            OpenApiParameter(
                "gpc",
                bool,
                description=(
                    "true when the end user's browser sent Global Privacy Control (Sec-GPC: 1): a purpose marked "
                    "sale/sharing is withdrawn first (and what was sent under it erased), so the answer is false."
                ),
            ),
            OpenApiParameter("email", str, description="Where the erasure receipt goes, if gpc withdraws."),
        ],
        responses={200: CONSENT_STATE, 400: ERROR},
    )
    def get(self, request: Request) -> Response:
        subject = request.query_params.get("subject", "")
        purpose = request.query_params.get("purpose", "")
        kind = request.query_params.get("subject_kind", "user_id")
        missing = {
            name: ["This parameter is required."]
            for name, value in (("subject", subject), ("purpose", purpose))
            if not value
        }
        if missing:
            return api_error(
                "invalid",
                "Give subject and purpose, e.g. ?subject_kind=user_id&subject=42&purpose=x.",
                fields=missing,
            )
        signal = request.query_params.get("gpc", "false")
        if signal not in ("true", "false", "1", "0"):
            return api_error("invalid", "gpc must be true or false.", fields={"gpc": ["Use true or false."]})
        if signal in ("true", "1"):
            key = api_key_of(request)
            if key is None or not key.has_scope("consents:write"):
                # the signal withdraws a consent: a read-only key may not cause that
                return api_error(
                    "forbidden",
                    "gpc=true withdraws consent: this API key needs the 'consents:write' scope too.",
                    status=403,
                )
            try:
                gpc.honour(
                    purposes=gpc.sale_purposes().filter(slug=purpose),
                    subject_kind=kind,
                    subject_value=subject,
                    email=request.query_params.get("email", ""),
                    actor=key,
                )
            except consent.ConsentError as exc:
                return _consent_error(exc)
        row = consent.check(kind, subject, purpose)
        return Response(_consent_json(row))


class ConsentLinkView(_ConsentWriteView):
    @extend_schema(
        operation_id="consents_link",
        summary="A link to the consent page for one subject and purpose (random, expires in an hour, revocable)",
        request=ConsentInput,
        responses={
            201: inline_serializer(
                "ConsentLink", {"url": serializers.URLField(), "expires_in": serializers.IntegerField()}
            ),
            400: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        d = self._input(request)
        try:
            consent.get_purpose(d["purpose"])
            url = consent.subject_link(
                d["purpose"], d["subject_kind"], d["subject"], d.get("email", ""), actor=api_key_of(request)
            )
        except consent.ConsentError as exc:
            return _consent_error(exc)
        return Response({"url": url, "expires_in": consent.LINK_MAX_AGE}, status=status.HTTP_201_CREATED)


if TYPE_CHECKING:  # each purpose as ConsentPurposeListView annotates it: with its current notice
    from django_stubs_ext import WithAnnotations

    class _CurrentNotice(TypedDict):
        notice_version: int | None
        notice_text: str | None
        notice_published_at: datetime | None

    PurposeWithNotice = WithAnnotations[ConsentPurpose, _CurrentNotice]
else:  # the same rows at run time (drf-spectacular reads these hints, so the name must exist)
    PurposeWithNotice = ConsentPurpose


class ConsentPurposeSerializer(serializers.ModelSerializer):  # type: ignore[misc]  # DRF ships no type hints
    notice_version = serializers.IntegerField(
        allow_null=True, help_text="The current notice version: send it as notice_version when granting."
    )
    notice_sha256 = serializers.SerializerMethodField(
        help_text="SHA-256 (hex) of the current notice text, UTF-8 encoded; null when no notice is published."
    )
    notice_published_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = ConsentPurpose
        fields = [
            "slug",
            "title",
            "active",
            "requires_consent",
            "notice_version",
            "notice_sha256",
            "notice_published_at",
        ]

    def get_notice_sha256(self, obj: PurposeWithNotice) -> str | None:
        text = obj.notice_text
        return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


class ConsentPurposeListView(generics.ListAPIView):  # type: ignore[misc]  # DRF ships no type hints
    """Every purpose with its current notice, in one query per page (the notice is a subquery)."""

    permission_classes = [HasScope.for_("consents:read")]
    throttle_classes = [HostAppThrottle]
    pagination_class = PagePagination
    serializer_class = ConsentPurposeSerializer

    def get_queryset(self) -> QuerySet[PurposeWithNotice]:
        current = ConsentNotice.objects.filter(purpose=OuterRef("pk")).order_by("-version")
        return ConsentPurpose.objects.annotate(
            notice_version=Subquery(current.values("version")[:1]),
            notice_text=Subquery(current.values("text")[:1]),
            notice_published_at=Subquery(current.values("published_at")[:1]),
        ).order_by("slug")

    @extend_schema(
        operation_id="consents_purposes_list",
        summary="Consent purposes with their current notice version and text hash",
        description="Every purpose, active or not, ordered by slug. Compare `notice_sha256` with the SHA-256 "
        "of the notice text your app shows; grant consent with `notice_version`. See docs/api.md (Consent).",
        responses={
            200: ConsentPurposeSerializer,
            401: OpenApiResponse(ERROR, "No, unknown, expired or revoked API key."),
            403: OpenApiResponse(ERROR, "The API key lacks `consents:read`."),
            404: OpenApiResponse(ERROR, "No such page."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)
        return response
