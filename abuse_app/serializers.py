"""The abuse API's request body, checked at the border (``POST /api/v1/abuse-reports/``).

The serializer checks the shape (text where text belongs, lists of text, the host-app fields and
their limits); what the report says is then checked by the web form (``ReportForm``), so the API
accepts and refuses exactly what the form does.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from abuse_app.models import Category
from abuse_app.targets import parse_location
from portal.email_address import EmailSerializerField
from portal.input_limits import InputRefused, load_json

MAX_SNAPSHOT_BYTES = 64 * 1024
MAX_ID_CHARS = 200
GOOD_FAITH_YES = (True, "true", "True", "1", "on", "yes")
HOST_APP_FIELDS = ("content_id", "target_account_id", "snapshot")


class Text(serializers.CharField):  # type: ignore[misc]  # DRF ships no type hints
    """Text, and only text: a number or an object is refused (DRF's CharField would stringify it)."""

    default_error_messages = {"not_text": "Must be text."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("trim_whitespace", False)  # the form trims; the serializer only checks types
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text")
        return str(super().to_internal_value(data))


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class Locations(serializers.Field):  # type: ignore[misc]  # DRF ships no type hints
    """A list of web addresses or content ids, or one newline-separated string; returned as that string."""

    default_error_messages = {
        "not_list": "Must be a list of web addresses or content ids.",
        "not_text": "Must be a list of web addresses or content ids (text).",
    }

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist"):  # a form: repeated fields
            values = dictionary.getlist(self.field_name)
            return values if values else empty
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            self.fail("not_list")
        if not all(isinstance(item, str) for item in data):
            self.fail("not_text")
        return "\n".join(data)

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.BOOL)
class GoodFaith(serializers.Field):  # type: ignore[misc]  # DRF ships no type hints
    """The reporter's statement of good faith: "on" when given (the form's checkbox), else empty."""

    def to_internal_value(self, data: Any) -> str:
        return "on" if data in GOOD_FAITH_YES else ""

    def to_representation(self, value: Any) -> Any:
        return value == "on"


@extend_schema_field(OpenApiTypes.STR)
class AccountId(serializers.Field):  # type: ignore[misc]  # DRF ships no type hints
    """An id of the host app (text or a number): at most 200 printable characters."""

    default_error_messages = {
        "not_text": "Must be text.",
        "too_long": f"At most {MAX_ID_CHARS} characters.",
        "control": "Must not contain control characters.",
    }

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("not_text")
        value = str(data).strip()
        if len(value) > MAX_ID_CHARS:
            self.fail("too_long")
        if any(not ch.isprintable() for ch in value):
            self.fail("control")
        return value

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.STR)
class ContentId(AccountId):
    """The reported content's id, in a form ``targets.parse_location`` understands."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            parse_location(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


@extend_schema_field(OpenApiTypes.OBJECT)
class Snapshot(serializers.Field):  # type: ignore[misc]  # DRF ships no type hints
    """The content as it was (JSON; a string that is not JSON is kept as text): at most 64 KiB, no NUL."""

    default_error_messages = {
        "nul": "Must not contain NUL characters.",
        "too_big": f"The snapshot is larger than {MAX_SNAPSHOT_BYTES // 1024} KiB; send less.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = load_json(data)
            except InputRefused as exc:
                if exc.code != "invalid_json":
                    raise serializers.ValidationError(str(exc)) from None
                data = {"text": data}
        encoded = json.dumps(data)
        if "\\u0000" in encoded:
            self.fail("nul")
        if len(encoded) > MAX_SNAPSHOT_BYTES:
            self.fail("too_big")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class AbuseReportSerializer(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    """A report: the form's fields (as text) and, from the host app only, what it knows of the content.

    ``context["host_app"]`` says whether the caller holds an API key; without one the host-app
    fields are refused by name.
    """

    category = Text(help_text=f"One of: {', '.join(Category.values)}.")
    locations = Locations(
        required=False,
        help_text="Web addresses (https://…) or content ids; a newline-separated string is accepted too.",
    )
    explanation = Text(help_text="At most 5000 characters.")
    good_faith = GoodFaith(required=False, allow_null=True, help_text="Must be true.")
    law = Text(help_text="Required for category 'illegal'.")
    reporter_name = Text(help_text="Ignored for category 'minors'.")
    reporter_email = Text(help_text="Ignored for category 'minors'.")
    language = Text(help_text=f"One of: {', '.join(code for code, _name in settings.LANGUAGES)}.")
    content_id = ContentId(required=False, allow_null=True, help_text="Host app only: the reported content's id.")
    target_account_id = AccountId(
        required=False, allow_null=True, help_text="Host app only: the content owner's account."
    )
    snapshot = Snapshot(
        required=False,
        allow_null=True,
        help_text="Host app only: the content as it was when reported (JSON, at most 64 KiB).",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not hasattr(data, "get"):
            raise serializers.ValidationError(
                {"non_field_errors": ["The body must be a JSON object (or a form) with the report's fields."]}
            )
        given = [name for name in HOST_APP_FIELDS if data.get(name) not in (None, "")]
        if given and not self.context.get("host_app"):
            raise serializers.ValidationError(
                {name: ["Only the host app (with an API key) may send this field."] for name in given}
            )
        # An empty host-app field counts as absent.
        cleaned = {k: v for k, v in data.items() if not (k in HOST_APP_FIELDS and v in (None, ""))}
        return dict(super().to_internal_value(_FormData(data, cleaned) if hasattr(data, "getlist") else cleaned))

    def form_fields(self) -> dict[str, str]:
        """The validated text fields as ``ReportForm`` takes them (absent ones left out)."""
        names = ("category", "law", "explanation", "reporter_name", "reporter_email", "locations", "good_faith")
        fields = {name: self.validated_data[name] for name in names if self.validated_data.get(name) is not None}
        if self.validated_data.get("content_id") and not fields.get("locations", "").strip():
            fields["locations"] = self.validated_data["content_id"]
        fields.setdefault("good_faith", "")
        return fields


class _FormData(dict[str, Any]):
    """A form's fields as a dict that still answers ``getlist`` (repeated ``locations``)."""

    def __init__(self, querydict: Any, cleaned: dict[str, Any]) -> None:
        super().__init__(cleaned)
        self._querydict = querydict

    def getlist(self, key: str) -> list[Any]:
        return list(self._querydict.getlist(key))


class AbuseReportRequest(AbuseReportSerializer):
    """What the API documentation shows: the serializer plus the evidence files (checked by the form)."""

    reporter_email = EmailSerializerField(required=False, help_text="Ignored for category 'minors'.")
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="multipart/form-data only; never for category 'minors'. Types are sniffed from the content.",
    )
