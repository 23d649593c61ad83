"""Host-app authentication for the API: ``Authorization: Bearer pk_...`` and scopes.

Keys are created and revoked through ``issue_key`` and ``revoke_key`` — by the
admin and by ``manage.py api_key`` alike — so both check names and scopes the
same way and write the same audit events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from portal import audit, compiled_queries, tokens
from portal.models import ApiKey


class HostApp:
    """The request.user for a call authenticated by an API key."""

    is_authenticated = True
    is_staff = False

    def __init__(self, key: ApiKey):
        self.key = key

    def __str__(self) -> str:
        return f"host app {self.key.name}"


def _by_hash(key_hash: str) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(key_hash=key_hash).order_by("pk")


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
        # Every API call looks its key up: compiled once per process (portal.compiled_queries).
        key = compiled_queries.first("api_keys.by_hash", _by_hash, tokens.hash_token(raw))
        if key is None or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key is unknown or has been revoked.")
        if key.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired at {key.expires_at:%Y-%m-%d %H:%M} UTC; ask the operator for a new one."
            )
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
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A host-app API key created in the admin or with `manage.py api_key create`.",
        }


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasScope(permissions.BasePermission):  # type: ignore[misc]  # DRF ships no type hints
    """Use as ``permission_classes = [HasScope.for_("requests:write")]``."""

    scope = ""
    message = "This API key lacks the required scope."

    @classmethod
    def for_(cls, scope: str) -> type[HasScope]:
        return type(
            f"HasScope_{scope.replace(':', '_')}",
            (cls,),
            {"scope": scope, "message": f"This API key lacks the '{scope}' scope."},
        )

    def has_permission(self, request: Request, view: Any) -> bool:
        key = api_key_of(request)
        if key is None:
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Bearer <API key>'.")
        return key.has_scope(self.scope)


# --- creating and revoking keys (admin and manage.py api_key) -------------------------------------
class ApiKeyError(ValueError):
    """A key that cannot be created or revoked as asked; the message says why and what to do."""


def clean_scopes(scopes: list[str]) -> list[str]:
    """The scopes, stripped and de-duplicated; an unknown one is named together with the valid ones."""
    cleaned = list(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    valid = ApiKey.Scope.values
    if not cleaned:
        raise ApiKeyError(f"Give at least one scope. Valid scopes: {', '.join(valid)}.")
    unknown = [s for s in cleaned if s not in valid]
    if unknown:
        raise ApiKeyError(
            f"Unknown scope{'s' if len(unknown) > 1 else ''} {', '.join(repr(s) for s in unknown)}. "
            f"Valid scopes: {', '.join(valid)}."
        )
    return cleaned


def clean_name(name: str) -> str:
    """Names identify keys in the audit trail and in ``api_key revoke``: unique among keys not revoked."""
    name = (name or "").strip()
    max_length = ApiKey._meta.get_field("name").max_length
    if not name:
        raise ApiKeyError("Give the key a name that says who uses it, e.g. 'shop-backend'.")
    if max_length and len(name) > max_length:
        raise ApiKeyError(f"The name is too long ({len(name)} characters; at most {max_length}).")
    if ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
        raise ApiKeyError(
            f"A key named '{name}' already exists and is not revoked. Choose another name, "
            f"or revoke the old key first (manage.py api_key revoke '{name}')."
        )
    return name


def issue_key(
    *, name: str, scopes: list[str], actor: audit.Actor, expires_at: datetime | None = None, created_by: Any = None
) -> tuple[ApiKey, str]:
    """Check, create and audit a key; returns (row, the raw key to show once — never stored or logged)."""
    name = clean_name(name)
    scopes = clean_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError(f"The expiry {expires_at:%Y-%m-%d %H:%M %Z} is in the past; give a future date.")
    with transaction.atomic():
        key, raw = ApiKey.issue(name=name, scopes=scopes, created_by=created_by, expires_at=expires_at)
        data: dict[str, Any] = {"scopes": key.scopes, "prefix": key.prefix}
        if expires_at is not None:
            data["expires_at"] = expires_at.isoformat()
        audit.record(subject_type="api_key", subject_id=key.pk, action="api_key.created", actor=actor, data=data)
    return key, raw


def revoke_key(key: ApiKey, *, actor: audit.Actor) -> bool:
    """Revoke and audit; False if it was already revoked (nothing changes then)."""
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit.record(
                subject_type="api_key",
                subject_id=key.pk,
                action="api_key.revoked",
                actor=actor,
                data={"prefix": key.prefix},
            )
    key.refresh_from_db(fields=["revoked_at"])
    return bool(changed)
