"""The REST API (Django REST framework) and its OpenAPI schema."""

from __future__ import annotations

from portal.config import env_rate
from portal.settings.security import PORTAL_NUM_PROXIES

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.api_keys.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "portal.input_limits.LimitedJSONParser",  # size, depth, numbers, control characters
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Views that name no throttles of their own get these (see portal/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": ["portal.throttles.HostAppThrottle", "portal.throttles.AnonymousApiThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_anonymous": env_rate("PORTAL_API_ANONYMOUS_RATE", "600/minute", drf=True),
        "public": env_rate("PORTAL_PUBLIC_RATE", "20/hour", drf=True),
        "host_app": env_rate("PORTAL_HOST_APP_RATE", "6000/minute", drf=True),
    },
    "EXCEPTION_HANDLER": "portal.api_errors.exception_handler",
    # Never None: DRF would then trust a client-sent X-Forwarded-For for throttling.
    "NUM_PROXIES": PORTAL_NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy & Abuse Portal API",
    "DESCRIPTION": "Privacy requests, consent, the Azure transmission ledger and abuse reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the jurisdiction choices, whichever serializer uses them.
    "ENUM_NAME_OVERRIDES": {"JurisdictionEnum": "requests_app.models.PrivacyRequest.Jurisdiction"},
}
