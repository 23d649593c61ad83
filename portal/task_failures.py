"""Failed background runs, recorded so that a failure repeated many times is seen, not just logged.

``record`` is called by a task that failed; ``repeated`` groups the last hour's
failures by task and error for /healthz and /metrics.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from portal.models import TaskFailure

logger = logging.getLogger(__name__)

KEEP = timedelta(days=7)
WINDOW = timedelta(hours=1)


def describe(exc: BaseException) -> str:
    """``KeyFileError: /var/keys.json: no receipt signing key file…`` shortened to fit the row."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= 300 else text[:299] + "…"


def record(task: str, subject: object, exc: BaseException) -> None:
    """Keep one failed run; never raises (the caller is already handling a failure)."""
    try:
        now = timezone.now()
        TaskFailure.objects.create(task=task, subject=str(subject)[:64], error=describe(exc), at=now)
        TaskFailure.objects.filter(task=task, at__lt=now - KEEP).delete()
    except Exception:
        logger.warning("failure of %s not recorded", task, exc_info=True)


def count(task: str, subject: object, *, since: datetime) -> int:
    return TaskFailure.objects.filter(task=task, subject=str(subject)[:64], at__gte=since).count()


def repeated(*, minimum: int, now: datetime | None = None) -> list[dict[str, object]]:
    """Each (task, error) that failed at least ``minimum`` times in the last hour, most frequent first."""
    since = (now or timezone.now()) - WINDOW
    rows = (
        TaskFailure.objects.filter(at__gte=since)
        .values("task", "error")
        .annotate(n=Count("id"))
        .filter(n__gte=minimum)
        .order_by("-n", "task")
    )
    return [{"task": row["task"], "error": row["error"], "count": row["n"]} for row in rows[:10]]
