"""Operator-defined retention per store table, run nightly by beat with the store's own code.

Which kinds can (``Store.runs_retention``: today "sql") and how they delete is the
store's business; this module reads the policies, checks them and audits each run.

In the stores file (top-level, beside the stores)::

    [[retention]]
    store = "app-db"            # a store of kind "sql"
    table = "media_photo"       # a table configured in that store
    column = "created_at"       # a date/time column
    older_than_days = 180

Rows older than the cut-off are deleted in batches (one DELETE per batch of
primary keys). Every run is audited (subject_type "retention"), with counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from portal import audit
from requests_app.stores import registry
from requests_app.stores.base import StoreError

logger = logging.getLogger(__name__)


def policy_errors(loaded: registry.Loaded | None = None) -> list[str]:
    loaded = loaded or registry.load()
    policies = loaded.extra.get("retention", [])
    source = "stores file"
    if not isinstance(policies, list):
        return [f'{source}: "retention" must be an array of tables: write [[retention]]']
    stores = {s.name: s for s in loaded.stores}
    errors = []
    for i, policy in enumerate(policies, start=1):
        label = f"{source}: retention #{i}"
        if not isinstance(policy, dict):
            errors.append(f"{label}: must be a table with store, table, column, older_than_days")
            continue
        store = stores.get(str(policy.get("store")))
        if store is None:
            errors.append(f'{label}: field "store": {policy.get("store")!r} is not a store in this file')
        elif not store.runs_retention:
            kinds = " or ".join(f'"{kind}"' for kind in registry.retention_kinds())
            errors.append(f'{label}: field "store": retention works on stores of kind {kinds}, not {store.kind!r}')
        elif policy.get("table") not in store.retention_tables():
            errors.append(f'{label}: field "table": {policy.get("table")!r} is not a table of store "{store.name}"')
        column = policy.get("column")
        if not isinstance(column, str) or not column.replace("_", "").isalnum():
            errors.append(f'{label}: field "column": required, the date/time column to compare')
        days = policy.get("older_than_days")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            errors.append(f'{label}: field "older_than_days": a whole number of days, at least 1')
    return errors


def run_all(now: datetime | None = None) -> list[dict[str, Any]]:
    loaded = registry.load()
    if loaded.errors or policy_errors(loaded):
        logger.warning("retention skipped: the stores file has errors (run manage.py check_stores)")
        return []
    now = now or timezone.now()
    results: list[dict[str, Any]] = []
    stores = {s.name: s for s in loaded.stores}
    for policy in loaded.extra.get("retention", []):
        store = stores[policy["store"]]  # a store that runs retention: checked by policy_errors
        cutoff = now - timedelta(days=policy["older_than_days"])
        subject_id = f"{policy['store']}.{policy['table']}"
        data = {
            "column": policy["column"],
            "older_than_days": policy["older_than_days"],
            "cutoff": cutoff.isoformat(),
        }
        try:
            deleted = store.erase_older_than(policy["table"], policy["column"], cutoff)
        except StoreError as exc:
            audit.record(
                subject_type="retention",
                subject_id=subject_id,
                action="retention_failed",
                actor="system:retention",
                reason=str(exc),
                data=data,
            )
            results.append({"policy": subject_id, "error": str(exc)})
            continue
        audit.record(
            subject_type="retention",
            subject_id=subject_id,
            action="retention_run",
            actor="system:retention",
            data={**data, "deleted": deleted},
        )
        results.append({"policy": subject_id, "deleted": deleted})
    return results
