"""The execution engine: plan → discover → export/erase → verify → finish.

Entry points used by the rest of the app (services, admin, API, beat):

- ``schedule_start(request)``: called inside the transaction that approved a
  request; starts execution after commit when its grace period is over (the
  beat dispatcher picks it up otherwise).
- ``retry(request, actor)``: re-run the failed store tasks of a request in
  ``needs_attention``.
"""

from __future__ import annotations

from typing import Any


def schedule_start(request: Any) -> None:
    """Replaced by the engine implementation (issue 4)."""


def retry(request: Any, actor: Any) -> None:
    """Replaced by the engine implementation (issue 4)."""
    raise NotImplementedError("the execution engine is not installed yet")
