"""Beat entries: the kernel's own, and a registry the apps add theirs to from ``AppConfig.ready()``.

The kernel imports no app, so settings cannot list the apps' entries. Instead each
app calls :func:`register` in its ``ready()``; ``portal.celery.HeartbeatScheduler``
(the beat scheduler, ``CELERY_BEAT_SCHEDULER``) reads :func:`entries` when beat
starts. Celery's Django fixup runs ``django.setup()`` (so every ``ready()``) in
``Beat.init_loader``, before the scheduler is built: the registry is complete by then.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

Entry = dict[str, Any]

BEAT_SCHEDULE: dict[str, Entry] = {
    "worker-heartbeat": {"task": "portal.record_worker_heartbeat", "schedule": 10.0, "options": {"expires": 30}},
    # the audit hash chain: leftovers sealed every 5 minutes; the head sent to the operator daily
    "audit-seal": {"task": "portal.audit_seal", "schedule": 300.0, "options": {"expires": 300}},
    "audit-anchor": {
        "task": "portal.audit_anchor",
        "schedule": crontab(hour=4, minute=0),
        "options": {"expires": 6 * 3600},
    },
}

_REGISTERED: dict[str, Entry] = {}


class ScheduleClash(ValueError):
    """Two apps gave an entry the same name: beat would silently run only one of them."""


def register(entries: dict[str, Entry]) -> None:
    """Add an app's beat entries (called from its ``AppConfig.ready()``; calling again is harmless)."""
    for name, entry in entries.items():
        known = BEAT_SCHEDULE.get(name) or _REGISTERED.get(name)
        if known is not None and known is not entry:
            raise ScheduleClash(f"beat entry {name!r} is registered twice with different contents")
        _REGISTERED[name] = entry


def entries() -> dict[str, Entry]:
    """Every beat entry: the kernel's and the apps' (what beat schedules)."""
    return {**BEAT_SCHEDULE, **_REGISTERED}
