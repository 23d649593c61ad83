"""The execution engine: plan → discover → export/erase → verify → finish.

Entry points used by the rest of the app (services, admin, API, beat):

- ``schedule_start(request)``: called inside the transaction that approved a
  request; starts execution after commit when its grace period is over (the
  beat dispatcher picks it up otherwise).
- ``retry(request, actor)``: re-run the failed store tasks of a request in
  ``needs_attention`` (fresh attempts budget).
- ``resolve_manually(request, actor, reason)``: staff did by hand what the
  engine could not; closes the request (needs_attention → completed) with a
  receipt or package saying so.
- ``close_with_exceptions(request, actor, reason)``: staff accept what an
  erasure left (listed on the request) and close it as completed with
  exceptions; the receipt and the requester's page say what was left.
- ``run_local(request)``: drive a request to its end in this process (commands).

The workflow lives in ``services``; the Celery tasks in ``tasks``; the package
in ``package`` (extension point ``PACKAGE_SECTIONS``); the receipt in ``receipt``.
"""

from __future__ import annotations

from typing import Any


def schedule_start(request: Any) -> None:
    from requests_app.engine import services

    services.schedule_start(request)


def retry(request: Any, actor: Any) -> int:
    from requests_app.engine import services

    return services.retry(request, actor)


def resolve_manually(request: Any, actor: Any, reason: str) -> None:
    from requests_app.engine import services

    services.resolve_manually(request, actor, reason)


def close_with_exceptions(request: Any, actor: Any, reason: str) -> None:
    from requests_app.engine import services

    services.close_with_exceptions(request, actor, reason)


def run_local(request: Any, progress: Any = None) -> Any:
    from requests_app.engine import services

    return services.run_local(request, progress)


def download_path(token: str) -> str:
    """The requester's secret download link (path only)."""
    from django.urls import NoReverseMatch, reverse

    for name in ("requests_app:package-download", "package-download"):
        try:
            return reverse(name, args=[token])
        except NoReverseMatch:
            continue
    return f"/requests/download/{token}/"
