"""The beat task completing deletions a legal hold withheld: a thin wrapper around the service.

Its own module, imported by ``RequestsAppConfig.ready()``: ``requests_app.tasks`` is reached
from the engine, and this task reaches the engine (tests/portal/test_import_graph.py).
"""

from __future__ import annotations

from celery import shared_task

from requests_app.services.legal_hold import release_withheld


@shared_task(name="requests.release_withheld", acks_late=True)
def release_withheld_task() -> int:
    """Daily: complete the deletions whose data a legal hold kept, once the hold has ended."""
    return release_withheld()
