"""Host-app authentication for the API: ``Authorization: Bearer pk_...`` and scopes."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from portal import tokens
from portal.models import ApiKey


class HostApp:
    """The request.user for a call authenticated by an API key."""

    is_authenticated = True
    is_staff = False

    def __init__(self, key: ApiKey):
        self.key = key

    def __str__(self) -> str:
        return f"host app {self.key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):  # type: ignore[misc]  # DRF ships no type hints
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[HostApp, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() not in ("bearer", "api-key") or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
        raw = raw.strip()
        key = ApiKey.objects.filter(key_hash=tokens.hash_token(raw)).first()
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed("This API key is unknown or has been revoked.")
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return HostApp(key), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # registers itself
    target_class = "portal.api_keys.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A host-app API key created in the admin."}


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasScope(permissions.BasePermission):  # type: ignore[misc]  # DRF ships no type hints
    """Use as ``permission_classes = [HasScope.for_("requests:write")]``."""

    scope = ""
    message = "This API key lacks the required scope."

    @classmethod
    def for_(cls, scope: str) -> type[HasScope]:
        return type(f"HasScope_{scope.replace(':', '_')}", (cls,), {"scope": scope,
                    "message": f"This API key lacks the '{scope}' scope."})

    def has_permission(self, request: Request, view: Any) -> bool:
        key = api_key_of(request)
        if key is None:
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Bearer <API key>'.")
        return key.has_scope(self.scope)
