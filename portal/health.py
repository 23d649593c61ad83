"""GET /healthz: is every part of the system alive? 200 if so, 503 naming what is not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

HEARTBEAT_MAX_AGE = timedelta(seconds=60)


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_broker() -> dict[str, Any]:
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        transport = getattr(conn, "transport_cls", "")
        return {"ok": True, "transport": transport if isinstance(transport, str) else "custom"}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_heartbeat(name: str) -> dict[str, Any]:
    from portal.models import Heartbeat

    try:
        beat = Heartbeat.objects.filter(name=name).first()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "error": "never seen"}
    age = (timezone.now() - beat.at).total_seconds()
    return {"ok": age <= HEARTBEAT_MAX_AGE.total_seconds(), "last_seen_seconds_ago": round(age, 1)}


def _check_stores() -> dict[str, Any]:
    from requests_app.stores import registry

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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "worker": _check_heartbeat("worker"),
        "beat": _check_heartbeat("beat"),
        "stores_config": _check_stores(),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, "checks": checks, "debug": settings.DEBUG}, status=200 if ok else 503)
