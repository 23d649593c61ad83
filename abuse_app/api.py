"""``POST /api/v1/abuse-reports/``: the public report endpoint and the host app's in-app "report" button.

The body's shape is checked by ``AbuseReportSerializer`` (abuse_app/serializers.py);
what it says by the public form (``ReportForm``), so the API accepts and refuses
exactly what the web form does. Without credentials the call is public and
throttled per IP; with a host-app key (scope ``abuse:write``) it may also pass
the reported content's id, its owner's account id and a snapshot.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from abuse_app import hotline, services
from abuse_app.forms import ReportForm
from abuse_app.models import Category, Notice
from abuse_app.serializers import AbuseReportRequest, AbuseReportSerializer
from abuse_app.targets import parse_location
from portal import mail
from portal.api_errors import api_error
from portal.api_keys import api_key_of
from portal.body_limits import allows_body, evidence_body_limit
from portal.models import ApiKey
from portal.ratelimit import client_ip
from portal.throttles import AtomicThrottleMixin

MAX_SNAPSHOT_BYTES = 64 * 1024


def _rate(scope: str) -> str:
    """The rate ``scope`` in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, read at every call (tests change it)."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    if not isinstance(rates, dict):
        raise ImproperlyConfigured('REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] must map scopes to rates.')
    return str(rates[scope])


class AbuseReportThrottle(AtomicThrottleMixin, SimpleRateThrottle):  # type: ignore[misc]  # DRF ships no type hints
    """Bounds every call (valid or not): ``public`` rate per IP, ``host_app`` rate per API key."""

    def get_rate(self) -> str:
        return _rate("public")

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = api_key_of(request)
        self.scope = "host_app" if key else "public"
        self.rate = _rate(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        key = api_key_of(request)
        ident = f"key{key.pk}" if key else self.get_ident(request)
        return f"throttle_abuse_reports_{self.scope}_{ident}"


ReportResponse = inline_serializer(
    "AbuseReportReceipt",
    {
        "reference": serializers.CharField(),
        "status_url": serializers.URLField(
            help_text="Secret link to the report's status page; give it to the reporter."
        ),
        "cases": serializers.ListField(child=serializers.CharField()),
        "child_safety": serializers.BooleanField(),
        "hotline": serializers.CharField(allow_null=True),
    },
)


@allows_body(evidence_body_limit)  # multipart with evidence files
class AbuseReportView(APIView):  # type: ignore[misc]  # DRF ships no type hints
    throttle_classes = [AbuseReportThrottle]
    permission_classes: list[type[BasePermission]] = []

    @extend_schema(
        operation_id="abuse_reports_create",
        tags=["Abuse reports"],
        summary="File an abuse report (public, or the host app with scope abuse:write)",
        request={"application/json": AbuseReportRequest, "multipart/form-data": AbuseReportRequest},
        responses={
            201: ReportResponse,
            400: OpenApiResponse(description="Invalid fields: error.fields names each field and what to fix."),
            403: OpenApiResponse(description="The API key lacks the abuse:write scope, or the reporter is suspended."),
            429: OpenApiResponse(description="Too many reports from this IP or e-mail; see retry_after."),
        },
        examples=[
            OpenApiExample(
                "Public report",
                request_only=True,
                value={
                    "category": "privacy",
                    "locations": ["https://app.example.com/p/123"],
                    "explanation": "My photo is used to train face recognition without my consent.",
                    "good_faith": True,
                    "reporter_email": "me@example.com",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        key: ApiKey | None = api_key_of(request)
        if key is not None and not key.has_scope(ApiKey.Scope.ABUSE_WRITE):
            raise exceptions.PermissionDenied("This API key lacks the 'abuse:write' scope.")
        body = AbuseReportSerializer(data=request.data, context={"host_app": key is not None})
        body.is_valid(raise_exception=True)
        extra = body.validated_data
        files = request.FILES if hasattr(request, "FILES") else None
        form = ReportForm(body.form_fields(), files)
        if not form.is_valid():
            raise exceptions.ValidationError({f: list(errors) for f, errors in form.errors.items()})
        child_safety = form.cleaned_data.get("category") == Category.MINORS
        language = extra.get("language")
        language = language if language in dict(settings.LANGUAGES) else None
        notice_input = form.to_input(language=language or translation.get_language() or "en")
        if extra.get("content_id"):
            target = parse_location(extra["content_id"])
            if target.key not in {t.key for t in notice_input.locations}:
                notice_input.locations.append(target)
        notice_input.content_id = extra.get("content_id") or ""
        notice_input.target_account_id = extra.get("target_account_id") or ""
        notice_input.snapshot = extra.get("snapshot")
        try:
            submitted = services.notice_submit(
                notice_input,
                ip=client_ip(request),
                channel=Notice.Channel.HOST_APP if key else Notice.Channel.API,
                api_key=key,
            )
        except services.NoticeRefused as exc:
            if exc.retry_after:
                return api_error(
                    exc.code, exc.message, status=status.HTTP_429_TOO_MANY_REQUESTS, retry_after=exc.retry_after
                )
            return api_error(exc.code, exc.message, status=status.HTTP_403_FORBIDDEN)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict)
        return Response(
            {
                "reference": submitted.notice.reference,
                "status_url": mail.absolute(submitted.status_url),
                "cases": [c.reference for c in submitted.cases],
                "child_safety": child_safety,
                "hotline": (
                    f"{hotline.hotline_text()} {settings.PORTAL_CHILD_SAFETY_HOTLINE_URL}" if child_safety else None
                ),
            },
            status=status.HTTP_201_CREATED,
        )
