"""The execution engine's workflow, by phase: plan → dispatch → execute → sweep → finish.

The code lives in the phase modules: ``plan`` (identities, StoreTasks, start,
retry, staff closing), ``dispatch`` (what may run now, the messages),
``execute`` (claim, run, record one task; a worker's chain of steps),
``sweep`` (lost work, due requests), ``local`` (without Celery), ``finish``.

This façade only re-exports the names code outside the engine imports from
``engine.services`` today (management commands, admin words, consent e-mail,
bench). It goes once those callers import the phase modules; new code imports
the phase modules directly.
"""

from __future__ import annotations

from requests_app.engine.execute import with_ledger
from requests_app.engine.local import discover_all, run_local
from requests_app.engine.plan import cannot_hold_anything, phases_for, seed_identities

__all__ = [
    "cannot_hold_anything",
    "discover_all",
    "phases_for",
    "run_local",
    "seed_identities",
    "with_ledger",
]
