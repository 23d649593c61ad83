"""The execution engine: plan → dispatch → execute → sweep → finish.

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

The workflow lives in the phase modules ``plan``, ``dispatch``, ``execute``,
``sweep``, ``local`` and ``finish``; the Celery tasks in ``tasks``; the package
in ``package`` (extension point ``package.register_section``); the receipt in
``receipt``.
"""

from __future__ import annotations

from requests_app.engine.local import run_local
from requests_app.engine.plan import close_with_exceptions, resolve_manually, retry, schedule_start

__all__ = ["close_with_exceptions", "resolve_manually", "retry", "run_local", "schedule_start"]
