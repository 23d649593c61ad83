"""The privacy-request checks of /healthz and /metrics (registered in RequestsAppConfig.ready).

Each answers the question an operator has when requests stop completing: can
receipts be signed, is anything running for far too long, does a store keep
failing the same way?
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from portal import health, startup
from requests_app.engine import receipt_keys
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry


def stores_config() -> dict[str, Any]:
    """The stores file loads (red if not); tables it may leave out of requests are warnings."""
    try:
        errors = registry.config_errors()
    except Exception as exc:  # a broken loader must not take the health page down
        return {"ok": False, "error": type(exc).__name__}
    result: dict[str, Any] = {"ok": not errors, **({"errors": errors} if errors else {})}
    try:
        # A warning, not a failure: the portal works, but a table may be left out of requests.
        warnings = registry.cached_coverage_warnings()
    except Exception as exc:
        warnings = [f"coverage check failed: {type(exc).__name__}"]
    if warnings:
        result["warnings"] = warnings
    return result


def receipt_key() -> dict[str, Any]:
    """The signing key is there and loads (without it every deletion fails to finish)."""
    if settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE and not receipt_keys.path().exists():
        return {"ok": True, "note": "created on first use (DJANGO_DEBUG=true)"}
    try:
        kid, _key = receipt_keys.signing_key()
    except receipt_keys.KeyFileError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "kid": kid}


def oldest_running_seconds(now: datetime | None = None) -> float | None:
    started = PrivacyRequest.objects.filter(status=PrivacyRequest.Status.RUNNING).aggregate(oldest=Min("started_at"))[
        "oldest"
    ]
    return None if started is None else ((now or timezone.now()) - started).total_seconds()


def running_requests() -> dict[str, Any]:
    """Red when a request has been running longer than PORTAL_HEALTH_RUNNING_MAX_SECONDS."""
    age = oldest_running_seconds()
    limit = settings.PORTAL_HEALTH_RUNNING_MAX_SECONDS
    if age is None:
        return {"ok": True, "oldest_running_seconds": 0}
    return {"ok": age <= limit, "oldest_running_seconds": round(age, 1), "limit_seconds": limit}


def store_task_failures() -> dict[str, Any]:
    """Red when one store failed the same way PORTAL_HEALTH_REPEATED_FAILURES times in the last hour."""
    since = timezone.now() - timedelta(hours=1)
    rows = (
        StoreTask.objects.filter(status=StoreTask.Status.FAILED, finished_at__gte=since)
        .values("store", "last_error")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.PORTAL_HEALTH_REPEATED_FAILURES)
        .order_by("-n")[:10]
    )
    failing = [{"store": r["store"], "error": (r["last_error"] or "")[:300], "count": r["n"]} for r in rows]
    return {"ok": not failing, **({"failing": failing} if failing else {})}


def receipt_key_requirement() -> str | None:
    """Web and worker refuse to start in production without a usable signing key."""
    if settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE:
        return None  # debug: created when the first receipt is signed
    if not receipt_keys.path().exists():
        return (
            f"PORTAL_RECEIPT_KEY_FILE={receipt_keys.path()}: no receipt signing key file; "
            "create it once with `manage.py rotate_receipt_key` and give every machine the same file"
        )
    try:
        receipt_keys.signing_key()
    except receipt_keys.KeyFileError as exc:
        return f"PORTAL_RECEIPT_KEY_FILE: {exc}"
    return None


def register() -> None:
    startup.require(receipt_key_requirement)
    health.register("stores_config", stores_config)
    health.register("receipt_key", receipt_key)
    health.register("running_requests", running_requests)
    health.register("store_task_failures", store_task_failures)
