"""GET /healthz: is every part of the system alive? 200 if so, 503 naming what is not."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from portal import task_failures
from portal.celery import app
from portal.models import Heartbeat

logger = logging.getLogger(__name__)
HEARTBEAT_MAX_AGE = timedelta(seconds=60)
MAIL_CHECK_CACHE_SECONDS = 60

Probe = Callable[[], dict[str, Any]]
# Checks the apps add from their AppConfig.ready() (the kernel imports no app): name → probe.
# A probe returns {"ok": bool, ...}; it must be cheap and must not raise.
PROBES: dict[str, Probe] = {}


def register(name: str, probe: Probe) -> None:
    PROBES[name] = probe


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_broker() -> dict[str, Any]:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        transport = getattr(conn, "transport_cls", "")
        return {"ok": True, "transport": transport if isinstance(transport, str) else "custom"}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _check_heartbeat(name: str) -> dict[str, Any]:
    try:
        beat = Heartbeat.objects.filter(name=name).first()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "error": "never seen"}
    age = (timezone.now() - beat.at).total_seconds()
    return {"ok": age <= HEARTBEAT_MAX_AGE.total_seconds(), "last_seen_seconds_ago": round(age, 1)}


def _smtp_reachable(host: str, port: int) -> dict[str, Any]:
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        return {"ok": False, "error": f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})"}
    return {"ok": True, "transport": "smtp"}


def _check_mail() -> dict[str, Any]:
    """Can EMAIL_URL take a message? A directory we can write, or an SMTP server that answers.

    An SMTP connection is cached for a minute: a health probe every few seconds must not
    open a connection to the mail relay each time.
    """
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if backend == "filebased":
        directory = Path(getattr(settings, "EMAIL_FILE_PATH", ""))
        existing = next((p for p in (directory, *directory.parents) if p.exists()), directory)
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            return {"ok": False, "error": f"{directory}: the mail directory is not writable (EMAIL_URL)"}
        return {"ok": True, "transport": "file"}
    if backend == "smtp":
        key = f"portal:health:smtp:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        try:
            result: dict[str, Any] | None = cache.get(key)
        except Exception:
            result = None
        if result is None:
            result = _smtp_reachable(settings.EMAIL_HOST, int(settings.EMAIL_PORT))
            try:
                cache.set(key, result, MAIL_CHECK_CACHE_SECONDS)
            except Exception:  # the cache is down: the check still answers, just uncached
                logger.warning("health: mail check not cached", exc_info=True)
        return result
    return {"ok": True, "transport": backend}


def _check_repeated_failures() -> dict[str, Any]:
    """Red when one task failed the same way PORTAL_HEALTH_REPEATED_FAILURES times in the last hour."""
    repeated = task_failures.repeated(minimum=settings.PORTAL_HEALTH_REPEATED_FAILURES)
    return {"ok": not repeated, **({"failing": repeated} if repeated else {})}


def _run(probe: Probe) -> dict[str, Any]:
    try:
        return probe()
    except Exception as exc:  # a broken probe is a red check, never a 500
        return {"ok": False, "error": type(exc).__name__}


def all_checks() -> dict[str, dict[str, Any]]:
    """Every check, by name (also read by /metrics)."""
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "worker": _check_heartbeat("worker"),
        "beat": _check_heartbeat("beat"),
        "mail": _run(_check_mail),
        "repeated_failures": _run(_check_repeated_failures),
    }
    for name, probe in PROBES.items():
        checks[name] = _run(probe)
    return checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = all_checks()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, "checks": checks, "debug": settings.DEBUG}, status=200 if ok else 503)
