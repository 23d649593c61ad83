"""Celery tasks of the CyberTipline submission: thin wrappers around ``abuse_app.services.cybertipline``."""

from __future__ import annotations

from celery import shared_task

from abuse_app.services import cybertipline


@shared_task(name="abuse.cybertipline_advance", acks_late=True)
def advance_cybertipline_report(report_id: int) -> str | None:
    """One try at sending a confirmed report; the row's lease keeps a second worker out."""
    return cybertipline.cybertipline_advance(report_id)


@shared_task(name="abuse.cybertipline_sweep", acks_late=True)
def sweep_cybertipline_reports() -> int:
    """Hand out reports that are due: backoff over, message lost or worker killed (lease lapsed)."""
    return cybertipline.cybertipline_sweep()
