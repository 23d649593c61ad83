"""``POST /api/v1/abuse-reports/``: the public report endpoint and the host app's in-app "report" button.

Validation is the public form's (``ReportForm``), so the API accepts and refuses
exactly what the web form does. Without credentials the call is public and
throttled per IP; with a host-app key (scope ``abuse:write``) it may also pass
the reported content's id, its owner's account id and a snapshot.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from abuse_app import hotline, services
from abuse_app.forms import ReportForm
from abuse_app.models import Category, Notice
from abuse_app.targets import parse_location
from portal import mail
from portal.api_errors import api_error
from portal.api_keys import api_key_of
from portal.body_limits import allows_body, evidence_body_limit
from portal.email_address import EmailSerializerField
from portal.input_limits import InputRefused, load_json
from portal.models import ApiKey
from portal.ratelimit import client_ip
from portal.throttles import AtomicThrottleMixin

MAX_SNAPSHOT_BYTES = 64 * 1024


class AbuseReportThrottle(AtomicThrottleMixin, SimpleRateThrottle):
    """Bounds every call (valid or not): ``public`` rate per IP, ``host_app`` rate per API key."""

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["public"]

    def allow_request(self, request, view):
        key = api_key_of(request)
        self.scope = "host_app" if key else "public"
        self.rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        key = api_key_of(request)
        ident = f"key{key.pk}" if key else self.get_ident(request)
        return f"throttle_abuse_reports_{self.scope}_{ident}"


class ReportRequestSerializer(serializers.Serializer):
    """Documentation of the request body (validation is the web form's)."""

    category = serializers.ChoiceField(choices=Category.choices)
    locations = serializers.ListField(
        child=serializers.CharField(),
        help_text=("Web addresses (https://…) or content ids; a newline-separated string is accepted too."),
    )
    explanation = serializers.CharField(max_length=5000)
    good_faith = serializers.BooleanField(help_text="Must be true.")
    law = serializers.CharField(required=False, help_text="Required for category 'illegal'.")
    reporter_name = serializers.CharField(required=False, help_text="Ignored for category 'minors'.")
    reporter_email = EmailSerializerField(required=False, help_text="Ignored for category 'minors'.")
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=(
            "multipart/form-data only; never for category 'minors'. Types are sniffed from the content."
        ),
    )
    language = serializers.ChoiceField(choices=[c for c, _ in settings.LANGUAGES], required=False)
    content_id = serializers.CharField(required=False, help_text="Host app only: the reported content's id.")
    target_account_id = serializers.CharField(
        required=False, help_text="Host app only: the content owner's account."
    )
    snapshot = serializers.JSONField(
        required=False,
        help_text=("Host app only: the content as it was when reported (JSON, at most 64 KiB)."),
    )


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
class AbuseReportView(APIView):
    throttle_classes = [AbuseReportThrottle]
    permission_classes: list = []

    @extend_schema(
        operation_id="abuse_reports_create",
        tags=["Abuse reports"],
        summary="File an abuse report (public, or the host app with scope abuse:write)",
        request={"application/json": ReportRequestSerializer, "multipart/form-data": ReportRequestSerializer},
        responses={
            201: ReportResponse,
            400: OpenApiResponse(
                description="Invalid fields: error.fields names each field and what to fix."
            ),
            403: OpenApiResponse(
                description="The API key lacks the abuse:write scope, or the reporter is suspended."
            ),
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
    def post(self, request):
        key: ApiKey | None = api_key_of(request)
        if key is not None and not key.has_scope(ApiKey.Scope.ABUSE_WRITE):
            raise exceptions.PermissionDenied("This API key lacks the 'abuse:write' scope.")
        data = request.data
        if not hasattr(data, "get"):
            raise exceptions.ValidationError(
                "The body must be a JSON object (or a form) with the report's fields."
            )
        fields, errors = {}, {}
        for name in ("category", "law", "explanation", "reporter_name", "reporter_email", "language"):
            value = data.get(name)
            if value is None or isinstance(value, str):
                fields[name] = value
            else:
                errors[name] = ["Must be text."]
        locations = data.getlist("locations") if hasattr(data, "getlist") else data.get("locations")
        if isinstance(locations, list):
            if not all(isinstance(item, str) for item in locations):
                errors["locations"] = ["Must be a list of web addresses or content ids (text)."]
            locations = "\n".join(str(item) for item in locations)
        elif locations is not None and not isinstance(locations, str):
            errors["locations"] = ["Must be a list of web addresses or content ids."]
            locations = None
        fields["locations"] = locations
        good_faith = data.get("good_faith")
        fields["good_faith"] = "on" if good_faith in (True, "true", "True", "1", "on", "yes") else ""
        if errors:
            raise exceptions.ValidationError(errors)
        language = fields.pop("language")
        extra = self._host_app_fields(data, key)
        if extra.get("content_id") and not (locations or "").strip():
            fields["locations"] = extra["content_id"]
        files = request.FILES if hasattr(request, "FILES") else {}
        child_safety = fields.get("category") == Category.MINORS
        form = ReportForm({k: v for k, v in fields.items() if v is not None}, files)
        if not form.is_valid():
            raise exceptions.ValidationError({f: list(errors) for f, errors in form.errors.items()})
        language = language if language in dict(settings.LANGUAGES) else None
        notice_input = form.to_input(language=language or translation.get_language() or "en")
        if extra.get("content_id"):
            target = parse_location(extra["content_id"])
            if target.key not in {t.key for t in notice_input.locations}:
                notice_input.locations.append(target)
        notice_input.content_id = extra.get("content_id", "")
        notice_input.target_account_id = extra.get("target_account_id", "")
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
                    f"{hotline.hotline_text()} {settings.PORTAL_CHILD_SAFETY_HOTLINE_URL}"
                    if child_safety
                    else None
                ),
            },
            status=status.HTTP_201_CREATED,
        )

    def _host_app_fields(self, data, key: ApiKey | None) -> dict:
        names = ("content_id", "target_account_id", "snapshot")
        given = [n for n in names if data.get(n) not in (None, "")]
        if not given:
            return {}
        if key is None:
            raise exceptions.ValidationError(
                {n: ["Only the host app (with an API key) may send this field."] for n in given}
            )
        errors: dict[str, list[str]] = {}
        out: dict = {}
        for name in ("content_id", "target_account_id"):
            value = data.get(name)
            if value in (None, ""):
                continue
            if not isinstance(value, str | int):
                errors[name] = ["Must be text."]
                continue
            value = str(value).strip()
            if len(value) > 200:
                errors[name] = ["At most 200 characters."]
            elif any(not ch.isprintable() for ch in value):
                errors[name] = ["Must not contain control characters."]
            elif name == "content_id":
                try:
                    parse_location(value)
                except DjangoValidationError as exc:
                    errors[name] = exc.messages
            out[name] = value
        snapshot = data.get("snapshot")
        if snapshot not in (None, ""):
            if isinstance(snapshot, str):
                try:
                    snapshot = load_json(snapshot)
                except InputRefused as exc:
                    if exc.code != "invalid_json":
                        raise exceptions.ValidationError({"snapshot": [str(exc)]})
                    snapshot = {"text": snapshot}
            encoded = json.dumps(snapshot)
            if "\\u0000" in encoded:
                errors["snapshot"] = ["Must not contain NUL characters."]
            elif len(encoded) > MAX_SNAPSHOT_BYTES:
                errors["snapshot"] = [
                    f"The snapshot is larger than {MAX_SNAPSHOT_BYTES // 1024} KiB; send less."
                ]
            out["snapshot"] = snapshot
        if errors:
            raise exceptions.ValidationError(errors)
        return out
